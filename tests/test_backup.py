"""Backups that restore: taken while a client writes, restored into a fresh data directory
or a fresh Redis started with the shipped config, they hold exactly the source's
workshop as it was at the backup's seq. And the operator's other commands."""

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis
from atelier.backends.redis_store import RedisStore
from atelier.backends.sqlite import SqliteStore
from atelier.rooms.replica import RoomReplica

from .support import ROOT, Client, RedisProcess, ServerProcess, canonical, free_port, wait_until


def atelier(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "atelier", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=120)  # fmt: skip


async def _write_while(server: ServerProcess, workshop: dict[str, Any], backup: Any) -> int:
    """A participant writes notes without pause while ``backup()`` runs in a thread; the
    seq of the last write, well after the backup."""
    ana = Client(server.ws_base, workshop["id"], workshop["secrets"]["participant"],
                 validate=False)  # fmt: skip
    await ana.connect()
    stop = asyncio.Event()

    async def write() -> None:
        n = 0
        while not stop.is_set():
            await ana.op({"kind": "note.add", "id": f"n{n}", "text": f"constat {n}"})
            n += 1

    writing = asyncio.create_task(write())
    await ana.wait_for(lambda: len(ana.acks) >= 20, 30, "writes before the backup")
    done = await asyncio.to_thread(backup)
    assert done.returncode == 0, done.stderr
    after = len(ana.acks) + 20
    await ana.wait_for(lambda: len(ana.acks) >= after, 30, "writes after the backup")
    stop.set()
    await writing
    await ana.close()
    return max(a["seq"] for a in ana.acks.values())


async def _board_at(store: Any, workshop_id: str, seq: int) -> dict[str, Any]:
    """The source's board at ``seq``, replayed from its own log."""
    await store.start()
    try:
        records = [c for c in await store.read_since(workshop_id, 0) if c.seq <= seq]
    finally:
        await store.close()
    replica = RoomReplica(workshop_id)
    replica.load(None, records)
    return replica.board.to_dict()


def _served(server: ServerProcess, workshop: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {workshop['secrets']['observer']}"}
    url = f"{server.base}/api/workshops/{workshop['id']}"
    state: dict[str, Any] = httpx.get(url, headers=headers, timeout=10).json()["state"]
    return state


async def test_a_sqlite_backup_under_writes_restores_the_workshop_at_its_seq(
    tmp_path: Path,
) -> None:
    """Backed up while a client writes, restored into a fresh data dir: the same board as
    the source's log says at that seq, links working; a cp of the live file would not."""
    source = tmp_path / "source"
    env = {"ATELIER_OPS_PER_SECOND": "1000", "ATELIER_OPS_BURST": "1000"}
    server = ServerProcess(source, env=env).start()
    backup = tmp_path / "atelier.backup"
    try:
        workshop = server.create_workshop()
        command = ["backup", "--data", str(source), "-o", str(backup)]
        last = await _write_while(server, workshop, lambda: atelier(*command))
    finally:
        server.stop()
    assert backup.stat().st_mode & 0o777 == 0o600
    restored = tmp_path / "restored"
    done = atelier("restore", str(backup), "--data", str(restored))
    assert done.returncode == 0, done.stderr
    again = ServerProcess(restored).start()
    try:
        state = _served(again, workshop)
    finally:
        again.stop()
    # taken in the middle of the writes: 20 were acked before it began, and 20 after it
    # ended; the one op in flight when it ended may be in it, its ack not yet read
    assert 20 <= state["seq"] <= last - 19
    expected = await _board_at(SqliteStore(source), workshop["id"], state["seq"])
    assert canonical(state) == canonical(expected)
    refused = atelier("restore", str(backup), "--data", str(restored))
    assert refused.returncode != 0 and "--replace" in refused.stderr


@pytest.mark.redis
async def test_a_redis_backup_under_writes_restores_into_the_shipped_config(
    tmp_path: Path,
) -> None:
    """Backed up from a live Redis while a client writes, restored into a fresh Redis that
    runs deploy/redis.conf (AOF on, where copying dump.rdb restores nothing)."""
    redis_server = RedisProcess(tmp_path / "redis").start()
    env = {"ATELIER_OPS_PER_SECOND": "1000", "ATELIER_OPS_BURST": "1000"}
    server = ServerProcess(tmp_path / "data", redis_url=redis_server.url, env=env).start()
    backup = tmp_path / "redis.backup"
    try:
        workshop = server.create_workshop()
        keys = workshop["secrets"]
        made = httpx.post(f"{server.base}/api/workshops/{workshop['id']}/join-code",
                          json={"participant": keys["participant"]},
                          headers={"authorization": f"Bearer {keys['facilitator']}"})  # fmt: skip
        code = made.json()["code"]
        command = ["backup", "--redis", redis_server.url, "-o", str(backup)]
        last = await _write_while(server, workshop, lambda: atelier(*command))
    finally:
        server.stop()
    shipped = _shipped_redis(tmp_path / "fresh")
    try:
        url = f"redis://127.0.0.1:{shipped[1]}/0"
        with redis.Redis.from_url(url) as raw:
            raw.set("atelier:{stale}:meta", b"left over")  # data there before the restore
        refused = atelier("restore", str(backup), "--redis", url)
        assert refused.returncode != 0 and "--replace" in refused.stderr
        done = atelier("restore", str(backup), "--redis", url, "--replace")
        assert done.returncode == 0, done.stderr
        with redis.Redis.from_url(url) as raw:
            assert not raw.exists("atelier:{stale}:meta")  # the backup is the whole state
            assert 0 < raw.pttl(f"atelier:join:{code}") <= 12 * 3600 * 1000  # still expiring
        again = ServerProcess(tmp_path / "data2", redis_url=url).start()
        try:
            state = _served(again, workshop)
        finally:
            again.stop()
        assert 20 <= state["seq"] <= last - 19  # as above: one op may be in flight
        expected = await _board_at(RedisStore(redis_server.url), workshop["id"], state["seq"])
        assert canonical(state) == canonical(expected)
    finally:
        shipped[0].terminate()
        shipped[0].wait(10)
        redis_server.stop()


def _shipped_redis(directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    """redis-server with deploy/redis.conf as shipped, on a free port in ``directory``."""
    directory.mkdir()
    port = free_port()
    proc = subprocess.Popen([shutil.which("redis-server") or "redis-server",
                             str(ROOT / "deploy" / "redis.conf"), "--port", str(port),
                             "--dir", str(directory)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    wait_until(lambda: _pong(port), 10, "the shipped redis-server")
    return proc, port


def _pong(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


async def test_workshops_lists_sizes_and_import_replaces_in_place(tmp_path: Path) -> None:
    """`atelier workshops` lists each workshop with its size and last activity; an export
    imported over its own workshop needs --replace, then gives back the exported board."""
    data = tmp_path / "data"
    server = ServerProcess(data).start()
    try:
        first, second = server.create_workshop("Crozon"), server.create_workshop("Vraie Croix")
        fac = Client(server.ws_base, first["id"], first["secrets"]["facilitator"])
        await fac.connect()
        await fac.op({"kind": "note.add", "id": "n1", "text": "Peu de liens"})
        await fac.close()
    finally:
        server.stop()
    listed = atelier("workshops", "--data", str(data), "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["id"]: r for r in map(orjson.loads, listed.stdout.splitlines())}
    assert set(rows) == {first["id"], second["id"]}
    assert rows[first["id"]]["title"] == "Crozon" and rows[first["id"]]["bytes"] > 0
    export = tmp_path / "crozon.json"
    assert atelier("export", first["id"], "--data", str(data), "-o", str(export)).returncode == 0
    refused = atelier("import", str(export), "--data", str(data))
    assert refused.returncode != 0 and "--replace" in refused.stderr
    replaced = atelier("import", str(export), "--replace", "--data", str(data))
    assert replaced.returncode == 0, replaced.stderr
    again = atelier("export", first["id"], "--data", str(data))
    assert orjson.loads(again.stdout)["board"] == orjson.loads(export.read_bytes())["board"]
    migrated = atelier("migrate", "--data", str(data))
    assert migrated.returncode == 0 and "schema version 2" in migrated.stdout
