"""Fixtures: real server processes and a real redis-server, each on a free port."""

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from atelier.backends.base import Store, WorkshopMeta
from atelier.backends.redis_store import RedisStore
from atelier.backends.sqlite import SqliteStore
from playwright.sync_api import Browser, sync_playwright

from .support import RedisProcess, ServerProcess

CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright never downloads a browser
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module: the machine has two cores."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each store, started fresh: SQLite in a temp dir, or a redis-server of our own, with
    the workshops the contract tests commit to (a store refuses ops of no workshop)."""
    made: Store
    if request.param == "sqlite":
        made = SqliteStore(tmp_path / "data")
    else:
        redis_server = RedisProcess(tmp_path / "redis").start()
        request.addfinalizer(redis_server.stop)
        made = RedisStore(redis_server.url)
    await made.start()
    for workshop_id in ("w", "w1", "w2", "room1"):
        await made.create_workshop(WorkshopMeta(workshop_id, "Atelier", "", 1, {}))
    yield made
    await made.close()
