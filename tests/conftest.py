"""Fixtures: real server processes and a real redis-server, each on a free port."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import RedisProcess, ServerProcess


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """One Atelier process on the embedded backend, in a fresh data directory."""
    proc = ServerProcess(tmp_path / "data").start()
    yield proc
    proc.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisProcess]:
    """A redis-server of this test's own (AOF on), on a free port."""
    proc = RedisProcess(tmp_path / "redis").start()
    yield proc
    proc.stop()
