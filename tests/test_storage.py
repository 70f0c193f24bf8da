"""Bounded storage: a link holder cannot fill the disk or Redis. Snapshots are limited in
count, pace and bytes; the SQLite log is compacted; below a floor of free disk (or Redis
headroom) writes are refused with a clear code, never a crash."""

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from atelier.records import Committed, OpRecord, name_digest
from atelier.rooms.ops import RoomLimits
from atelier.rooms.replica import RoomReplica, StoreSnapshot

from .support import Client, RedisProcess, ServerProcess


def _snapshot_op(seq: int, at: int) -> Committed:
    op: Any = {"kind": "snapshot.take", "label": f"Étape {seq}"}
    return Committed(seq, OpRecord("fac", seq, op, "Fanny", "facilitator", at))


def test_named_snapshots_are_limited_in_count_pace_and_bytes_on_every_replica() -> None:
    """A burst, then one per interval; a cap on their number and on their bytes; refused
    alike by a replica reloaded from a checkpoint in the middle."""
    limits = RoomLimits(snapshots=4, snapshot_burst=2, snapshot_interval_ms=10_000,
                        snapshot_bytes=10**6)  # fmt: skip
    times = [0, 1, 2, 10_002, 10_003, 40_000, 60_000, 90_000]
    log = [_snapshot_op(seq, at) for seq, at in enumerate(times, 1)]
    replica = RoomReplica("w", limits=limits)
    replica.load(None, log)
    codes = [getattr(replica.outcome(c.seq), "code", None) for c in log]
    assert codes == [None, None, "snapshot_too_soon", None, "snapshot_too_soon", None,
                     "too_many_snapshots", "too_many_snapshots"]  # fmt: skip
    half = RoomReplica("w", limits=limits)
    half.load(None, log[:4])
    saved = half.checkpoint()
    assert saved is not None
    reloaded = RoomReplica("w", limits=limits)
    reloaded.load((saved.seq, saved.state), log[4:])
    assert [getattr(reloaded.outcome(c.seq), "code", None) for c in log[4:]] == codes[4:]
    tiny = RoomReplica("w", limits=RoomLimits(snapshot_bytes=100))
    actions = tiny.load(None, log[:1])
    assert tiny.outcome(1).code == "snapshot_budget"  # type: ignore[union-attr]
    assert not [a for a in actions if isinstance(a, StoreSnapshot)]


async def test_a_snapshot_flood_is_refused_and_the_disk_stays_bounded(tmp_path: Path) -> None:
    """The audit's attack: a big board, then 80 snapshot.take. Before, all 80 were stored
    (346 MB); now a few are, the rest refused with a code, and the database stays small."""
    env = {"ATELIER_OPS_PER_SECOND": "1000", "ATELIER_OPS_BURST": "1000",
           "ATELIER_MAX_SNAPSHOT_MB": "8"}  # fmt: skip
    server = ServerProcess(tmp_path / "data", env=env).start()
    try:
        workshop = server.create_workshop()
        fac = Client(server.ws_base, workshop["id"], workshop["secrets"]["facilitator"],
                     validate=False)  # fmt: skip
        await fac.connect()
        for n in range(400):  # ~400 KB of notes: each snapshot is ~0.5 MB
            await fac.send_op({"kind": "note.add", "id": f"n{n}", "text": "x" * 990})
        await fac.wait_for(lambda: len(fac.acks) == 400, 60, "the notes")
        answers = [await fac.op({"kind": "snapshot.take", "label": f"S{n}"}) for n in range(80)]
        kept = [a for a in answers if a["type"] == "ack"]
        refused = {a["code"] for a in answers if a["type"] == "reject"}
        assert 1 <= len(kept) <= 5 and refused <= {"snapshot_too_soon", "snapshot_budget"}
        await fac.close()
    finally:
        server.stop()
    size = sum(f.stat().st_size for f in (tmp_path / "data").iterdir())
    assert size < 16 * 2**20, size  # the notes' log and board, and at most 8 MiB of snapshots


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def test_the_log_is_compacted_behind_checkpoints(tmp_path: Path, kind: str) -> None:
    """Hundreds of edits with a short log keep (50): the log holds no more than the ops
    behind the last checkpoint plus the keep; the board and a rejoin are intact."""
    env = {"ATELIER_LOG_KEEP": "50", "ATELIER_OPS_PER_SECOND": "1000",
           "ATELIER_OPS_BURST": "1000"}  # fmt: skip
    redis_server = RedisProcess(tmp_path / "redis").start() if kind == "redis" else None
    url = redis_server.url if redis_server else None
    server = ServerProcess(tmp_path / "data", redis_url=url, env=env).start()
    try:
        workshop = server.create_workshop()
        ana = Client(server.ws_base, workshop["id"], workshop["secrets"]["participant"],
                     validate=False)  # fmt: skip
        await ana.connect()
        await ana.op({"kind": "note.add", "id": "n", "text": "0"})
        early = Client(server.ws_base, workshop["id"], workshop["secrets"]["observer"])
        await early.connect()  # it has seen seq 1, then goes away
        await early.close()
        for n in range(1, 1300):  # checkpoints at 500 and 1000 ops
            await ana.send_op({"kind": "note.edit", "id": "n", "text": str(n)})
        await ana.wait_for(lambda: len(ana.acks) == 1300, 60, "every edit")
        await ana.close()
        rows = await asyncio.to_thread(_log_length, tmp_path / "data", url, workshop["id"])
        assert 50 <= rows <= 50 + 300 + 10, rows  # keep + the ops since the last checkpoint
        server.stop()  # a fresh process: the catch-up ring is gone, the log compacted
        server.start()
        welcome = await early.connect(since=early.board["seq"])
        assert "state" in welcome  # too far behind the compacted log: the whole board
        assert early.board["notes"]["n"]["text"] == "1299"
        await early.close()
    finally:
        server.stop()
        if redis_server:
            redis_server.stop()


def _log_length(data: Path, redis_url: str | None, workshop_id: str) -> int:
    if redis_url:
        import redis

        with redis.Redis.from_url(redis_url) as raw:
            return int(raw.xlen(f"atelier:{{{workshop_id}}}:log"))
    db = sqlite3.connect(data / "atelier.sqlite3")
    try:
        return int(db.execute("SELECT count(*) FROM ops").fetchone()[0])
    finally:
        db.close()


async def test_below_the_free_disk_floor_writes_are_refused_with_a_code(tmp_path: Path) -> None:
    """With less free disk than the floor, an op is refused (storage_full) and a new
    workshop answers 507, while reading still works; with room again, all works."""
    data = tmp_path / "data"
    server = ServerProcess(data).start()
    workshop = server.create_workshop()
    server.stop()
    server = ServerProcess(data, port=server.port,
                           env={"ATELIER_MIN_FREE_DISK_MB": str(10**9)}).start()  # fmt: skip
    try:
        ana = Client(server.ws_base, workshop["id"], workshop["secrets"]["participant"])
        await ana.connect()
        refused = await ana.op({"kind": "note.add", "id": "n", "text": "x"})
        assert (refused["type"], refused["code"]) == ("reject", "storage_full")
        await ana.close()
        created = httpx.post(f"{server.base}/api/workshops", json={}, timeout=5)
        assert created.status_code == 507 and created.json()["error"] == "storage_full"
        assert created.headers["retry-after"]
    finally:
        server.stop()


@pytest.mark.redis
async def test_without_redis_headroom_writes_are_refused_with_a_code(tmp_path: Path) -> None:
    """Redis's maxmemory nearly used up: ops are refused (storage_full), not written until
    Redis is full and stops every room."""
    redis_server = RedisProcess(tmp_path / "redis").start()
    import redis

    with redis.Redis.from_url(redis_server.url) as raw:
        raw.config_set("maxmemory", 16 * 2**20)  # less than the headroom asked for below
    env = {"ATELIER_REDIS_MIN_HEADROOM_MB": "32"}
    server = ServerProcess(tmp_path / "data", redis_url=redis_server.url, env=env).start()
    try:
        created = httpx.post(f"{server.base}/api/workshops", json={}, timeout=5)
        assert created.status_code == 507
    finally:
        server.stop()
        redis_server.stop()


def test_only_a_snapshot_the_facilitator_may_take_is_weighed() -> None:
    """A participant's (or a frozen board's) snapshot.take is refused for what it is,
    without the board being encoded to weigh it: tiny budget, yet `forbidden`."""
    tiny = RoomLimits(snapshot_bytes=10)
    replica = RoomReplica("w", limits=tiny)
    op: Any = {"kind": "snapshot.take", "label": "x"}
    replica.load(None, [Committed(1, OpRecord("ana", 1, op, "Ana", "participant", 1))])
    assert replica.outcome(1).code == "forbidden"  # type: ignore[union-attr]


def test_erasures_are_paced_and_a_name_erased_already_is_refused() -> None:
    """Each erasure rewrites the workshop's storage: a burst of five, then one every 30 s;
    erasing a name nothing signs any more is refused; alike after a reload."""
    notes: list[Committed] = []
    for n, name in enumerate(["Ana", "Bob", "Cléa", "Dan", "Eve", "Fred", "Gus"], 1):
        op: Any = {"kind": "note.add", "id": f"n{n}", "text": "constat"}
        notes.append(Committed(n, OpRecord(name.lower(), 1, op, name, "participant", n)))

    def erase(seq: int, name: str, at: int) -> Committed:
        op: Any = {"kind": "participant.erase", "digest": name_digest(name)}
        return Committed(seq, OpRecord("fac", seq, op, "Fanny", "facilitator", at))

    log = [*notes, erase(8, "Ana", 10_000), erase(9, "Ana", 10_001)]
    names = ["Bob", "Cléa", "Dan", "Eve", "Fred"]
    log += [erase(s, n, 10_000 + s) for s, n in zip(range(10, 15), names, strict=True)]
    log.append(erase(15, "Gus", 10_000 + 30_000))  # a burst later, the pace has refilled one
    replica = RoomReplica("w")
    replica.load(None, log)
    codes = [getattr(replica.outcome(c.seq), "code", None) for c in log[7:]]
    assert codes == [None, "already_erased", None, None, None, None, "erase_too_soon", None]
    half = RoomReplica("w")
    half.load(None, log[:10])
    saved = half.checkpoint()
    assert saved is not None
    reloaded = RoomReplica("w")
    reloaded.load((saved.seq, saved.state), log[10:])
    assert [getattr(reloaded.outcome(c.seq), "code", None) for c in log[7:]] == codes
