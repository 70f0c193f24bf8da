"""Upgrades: data written by release 0.1.0 (kept as fixtures) is migrated on start and
serves the same workshop; data written by a newer Atelier is refused, untouched.

The fixtures were written by the 0.1.0 code (commit f21ce8a) through its own server and
websocket protocol: a workshop with a log, a checkpoint, phase snapshots, a named
snapshot, a refused op, an erased pseudonym and a frozen official record; and that
code's `export` of it (``*-export.json``).
"""

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis

from .support import ROOT, RedisProcess, ServerProcess, free_port

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "release-0.1.0"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((FIXTURES / name).read_bytes())
    return data


def atelier(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "atelier", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=60)  # fmt: skip


def same_workshop(server: ServerProcess, written: dict[str, Any], export: dict[str, Any]) -> None:
    """The upgraded server serves the 0.1.0 workshop: links work, board and record equal."""
    headers = {"Authorization": f"Bearer {written['secrets']['observer']}"}
    base = f"{server.base}/api/workshops/{written['workshop']}"
    state = httpx.get(base, headers=headers, timeout=10).json()["state"]
    assert state["frozen"] == export["board"]["frozen"]
    assert sorted(n["id"] for n in state["notes"]) == sorted(
        n["id"] for n in export["board"]["notes"] if not n["deleted"]
    )
    assert {n["author"] for n in state["notes"]} == {"Participant·e anonyme"}
    listed = httpx.get(f"{base}/snapshots", headers=headers, timeout=10).json()["snapshots"]
    assert [s["id"] for s in listed] == [s["id"] for s in export["snapshots"]]
    record = httpx.get(f"{base}/snapshots/record", headers=headers, timeout=10).json()
    old_record = next(s for s in export["snapshots"] if s["id"] == "record")
    assert record["hash"] == old_record["hash"]


def test_a_0_1_0_data_directory_is_migrated_and_serves_the_same_workshop(
    tmp_path: Path,
) -> None:
    """SQLite from 0.1.0 (user_version 0) is migrated to the current schema on start."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "sqlite", data)
    written, export = fixture("sqlite.json"), fixture("sqlite-export.json")
    server = ServerProcess(data).start()
    try:
        same_workshop(server, written, export)
    finally:
        server.stop()
    db = sqlite3.connect(data / "atelier.sqlite3")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    db.close()
    again = atelier("export", written["workshop"], "--data", str(data))
    assert again.returncode == 0, again.stderr
    holds(orjson.loads(again.stdout), export)  # all 0.1.0 exported, with the same values


def holds(new: Any, old: Any, where: str = "export") -> None:
    """``new`` holds everything ``old`` held, equal; fields added since may be there too."""
    if isinstance(old, dict):
        assert isinstance(new, dict), where
        for key, value in old.items():
            assert key in new, f"{where}.{key} is gone"
            holds(new[key], value, f"{where}.{key}")
    elif isinstance(old, list):
        assert isinstance(new, list) and len(new) == len(old), where
        for n, (a, b) in enumerate(zip(new, old, strict=True)):
            holds(a, b, f"{where}[{n}]")
    else:
        assert new == old, where


def test_data_from_a_newer_atelier_is_refused_untouched(tmp_path: Path) -> None:
    """A database whose schema is newer than this code's stops the server with a clear
    message, and is not written to."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "sqlite", data)
    db = sqlite3.connect(data / "atelier.sqlite3")
    db.execute("PRAGMA user_version = 99")
    db.close()  # the last connection folds its WAL into the file
    before = (data / "atelier.sqlite3").read_bytes()
    started = subprocess.run(
        [sys.executable, "-m", "atelier", "serve", "--port", str(free_port()), "--data",
         str(data)], cwd=ROOT, text=True, capture_output=True, timeout=60,
    )  # fmt: skip
    assert started.returncode != 0
    assert "schema version 99" in started.stderr and "newer Atelier" in started.stderr
    assert (data / "atelier.sqlite3").read_bytes() == before


@pytest.mark.redis
def test_a_0_1_0_redis_dump_is_migrated_and_serves_the_same_workshop(tmp_path: Path) -> None:
    """A Redis dump (RDB) from 0.1.0, loaded into a fresh redis-server, is migrated on
    start (its version recorded) and serves the same workshop; a newer one is refused."""
    work = tmp_path / "redis"
    work.mkdir()
    shutil.copy(FIXTURES / "redis-dump.rdb", work / "dump.rdb")
    redis_server = RedisProcess(work, load_rdb=True).start()
    written, export = fixture("redis.json"), fixture("redis-export.json")
    try:
        server = ServerProcess(tmp_path / "unused", redis_url=redis_server.url).start()
        try:
            same_workshop(server, written, export)
        finally:
            server.stop()
        with redis.Redis.from_url(redis_server.url) as raw:
            assert raw.get("atelier:schema") == b"2"
            raw.set("atelier:schema", 99)
        refused = subprocess.run(
            [sys.executable, "-m", "atelier", "serve", "--port", str(free_port()),
             "--redis", redis_server.url], cwd=ROOT, text=True, capture_output=True, timeout=60,
        )  # fmt: skip
        assert refused.returncode != 0 and "schema version 99" in refused.stderr
    finally:
        redis_server.stop()
