"""The store and bus contracts, run against SQLite / the memory bus and a real Redis alike."""

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from atelier.backends.base import (
    BackendError,
    Bus,
    Committed,
    LogTrimmedError,
    OpRecord,
    Store,
    WorkshopMeta,
)
from atelier.backends.memory import MemoryBus
from atelier.backends.redis_bus import RedisBus
from atelier.backends.redis_store import RedisStore
from atelier.backends.sqlite import SqliteStore
from atelier.records import name_digest
from atelier.rooms.hub import OutcomeTimeoutError, RoomHub
from atelier.rooms.model import Board
from atelier.rooms.reducer import Context, apply

from .support import RedisProcess, canonical


class Listener:
    """A room listener that records what the backend feeds it."""

    def __init__(self) -> None:
        self.commits: list[Committed] = []
        self.presence: list[bytes] = []
        self.resyncs = 0
        self.changed = asyncio.Event()

    def on_commit(self, committed: Committed) -> None:
        self.commits.append(committed)
        self.changed.set()

    def on_presence(self, payload: bytes) -> None:
        self.presence.append(payload)
        self.changed.set()

    def on_resync(self) -> None:
        self.resyncs += 1
        self.changed.set()

    async def wait(self, check: Callable[[], bool], timeout: float = 10) -> None:
        async def loop() -> None:
            while not check():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(loop(), timeout)


def record(client: str = "c1", cop: int = 1, note: str | None = None) -> OpRecord:
    op: Any = {"kind": "note.add", "id": note or f"n{client}{cop}", "text": f"constat {cop}"}
    return OpRecord(client=client, cop=cop, op=op, author="Ana", role="participant", at=1)


def meta(workshop_id: str) -> WorkshopMeta:
    return WorkshopMeta(workshop_id, "Atelier", "Drôme", 1, {"participant": "ab" * 32})


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def bus(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Bus]:
    """Each bus, started fresh: in this process, or on a redis-server of our own."""
    made: Bus
    if request.param == "memory":
        made = MemoryBus()
    else:
        redis_server = RedisProcess(tmp_path / "redis").start()
        request.addfinalizer(redis_server.stop)
        made = RedisBus(redis_server.url)
    await made.start()
    yield made
    await made.close()


async def test_commit_assigns_consecutive_seqs_per_room(backend: Store) -> None:
    """Each room numbers its ops 1, 2, 3… on its own."""
    seqs = [(await backend.commit("w1", record(cop=i))).seq for i in range(1, 6)]
    other = await backend.commit("w2", record(cop=1))
    assert seqs == [1, 2, 3, 4, 5]
    assert other.seq == 1 and not other.duplicate


async def test_concurrent_commits_get_distinct_seqs(backend: Store) -> None:
    """Commits racing each other still get one seq each, with no hole."""
    results = await asyncio.gather(
        *(backend.commit("w", record(f"c{i % 7}", i)) for i in range(1, 101))
    )
    assert sorted(r.seq for r in results) == list(range(1, 101))


async def test_retry_returns_the_original_seq(backend: Store) -> None:
    """A retried (client, cop) is a duplicate carrying its first seq, logged once."""
    first = await backend.commit("w", record("a", 1))
    await backend.commit("w", record("b", 1))
    again = await backend.commit("w", record("a", 1))
    assert (again.seq, again.duplicate) == (first.seq, True)
    assert [c.seq for c in await backend.read_since("w", 0)] == [1, 2]


async def test_read_since_returns_later_ops_in_order(backend: Store) -> None:
    """read_since gives exactly the ops after the seq, as they were committed."""
    sent = [record("a", i) for i in range(1, 8)]
    for rec in sent:
        await backend.commit("w", rec)
    later = await backend.read_since("w", 4)
    assert [c.seq for c in later] == [5, 6, 7]
    assert [c.record for c in later] == sent[4:]
    assert await backend.read_since("w", 7) == []
    assert await backend.read_since("empty", 0) == []


async def test_checkpoint_keeps_the_latest(backend: Store) -> None:
    """A checkpoint loads back as saved; an older one never replaces a newer one."""
    assert await backend.load_checkpoint("w") is None
    await backend.save_checkpoint("w", 10, {"seq": 10, "notes": [], "columns": []})
    await backend.save_checkpoint("w", 5, {"seq": 5, "notes": [], "columns": []})
    assert await backend.load_checkpoint("w") == (10, {"seq": 10, "notes": [], "columns": []})


async def test_an_erased_name_leaves_the_checkpoints_note_table(backend: Store) -> None:
    """A checkpoint keeps its notes as a table (field names once, then rows): erasing a
    pseudonym rewrites the rows' author cells there too, and nothing else."""
    board = Board()
    for note, author in (("n1", "Ana"), ("n2", "Bob"), ("n3", "Ana")):
        apply(board, {"kind": "note.add", "id": note, "text": f"Constat de {author}",
                      "theme": "Ana"}, Context(author))  # fmt: skip
    board.seq = 3
    await backend.commit("w", record("ana", 1))  # the scrub reads the workshop's log too
    await backend.save_checkpoint("w", 3, board.to_checkpoint())
    await backend.scrub_author("w", name_digest("Ana"), "Anonyme")
    saved = await backend.load_checkpoint("w")
    assert saved is not None
    authors = {n.id: n.author for n in Board.from_dict(saved[1]).notes.values()}
    assert authors == {"n1": "Anonyme", "n2": "Bob", "n3": "Anonyme"}
    kept = [(n.text, n.theme) for n in Board.from_dict(saved[1]).notes.values()]
    assert kept == [(f"Constat de {a}", "Ana") for a in ("Ana", "Bob", "Ana")]  # not names


async def test_snapshots_are_immutable_and_ordered(backend: Store) -> None:
    """Snapshots list oldest first without their state, and cannot be overwritten."""
    await backend.save_snapshot("w", "s2", {"id": "s2", "at": 20, "state": {"x": 2}})
    await backend.save_snapshot("w", "s1", {"id": "s1", "at": 10, "state": {"x": 1}})
    with pytest.raises(BackendError):
        await backend.save_snapshot("w", "s1", {"id": "s1", "at": 30, "state": {"x": 9}})
    assert await backend.list_snapshots("w") == [{"id": "s1", "at": 10}, {"id": "s2", "at": 20}]
    assert await backend.get_snapshot("w", "s1") == {"id": "s1", "at": 10, "state": {"x": 1}}
    assert await backend.get_snapshot("w", "nope") is None
    assert await backend.list_snapshots("other") == []


async def test_workshop_metadata_round_trips(backend: Store) -> None:
    """A stored workshop reads back equal; an unknown id reads as None."""
    await backend.create_workshop(meta("new"))
    assert await backend.get_workshop("new") == meta("new")
    assert await backend.get_workshop("unknown") is None
    assert await backend.ready()


async def test_commit_many_numbers_in_order_and_dedupes(backend: Store) -> None:
    """A batch takes consecutive seqs in its order; a retried batch gets the same seqs."""
    await backend.commit("w", record("a", 1))
    batch = [record("imp", i) for i in range(1, 6)]
    first = await backend.commit_many("w", batch)
    assert [(r.seq, r.duplicate) for r in first] == [(i, False) for i in range(2, 7)]
    again = await backend.commit_many("w", batch)
    assert [(r.seq, r.duplicate) for r in again] == [(i, True) for i in range(2, 7)]
    assert [c.record for c in await backend.read_since("w", 1)] == batch
    assert await backend.commit_many("w", []) == []


async def test_bus_subscribers_get_presence_until_they_leave(bus: Bus) -> None:
    """A subscribed listener hears its room's presence, not another room's, none after leaving."""
    listener, other = Listener(), Listener()
    await bus.subscribe("w", listener)
    await bus.subscribe("elsewhere", other)
    await bus.publish_presence("w", b'{"node":"x","users":[]}')
    await listener.wait(lambda: len(listener.presence) == 1)
    assert listener.presence == [b'{"node":"x","users":[]}'] and other.presence == []
    await bus.unsubscribe("w", listener)
    await bus.publish_presence("w", b'{"node":"y","users":[]}')
    await bus.publish_presence("elsewhere", b'{"node":"z","users":[]}')
    await other.wait(lambda: len(other.presence) == 1)  # delivered in order: w's came first
    assert listener.presence == [b'{"node":"x","users":[]}']


# -- Redis only: several processes, compaction, failures ---------------------------------


Process = tuple[RedisStore, RedisBus]


@pytest.fixture
async def pair(redis_server: RedisProcess) -> AsyncIterator[tuple[Process, Process]]:
    """Two processes' Redis store and bus on one redis-server."""
    made = [(RedisStore(redis_server.url), RedisBus(redis_server.url)) for _ in range(2)]
    for store, bus in made:
        await store.start()
        await bus.start()
    yield made[0], made[1]
    for store, bus in made:
        await bus.close()
        await store.close()


@pytest.mark.redis
async def test_commits_fan_out_across_processes(pair: tuple[Process, Process]) -> None:
    """Ops committed through either store ring the other bus's doorbell, as one log."""
    (one, _), (two, two_bus) = pair
    heard = Listener()
    await two_bus.subscribe("w", heard)
    results = await asyncio.gather(
        *(b.commit("w", record(f"c{i}", i)) for i in range(1, 41) for b in [(one, two)[i % 2]])
    )
    assert sorted(r.seq for r in results) == list(range(1, 41))
    await heard.wait(lambda: len({c.seq for c in heard.commits}) == 40)
    by_seq = {c.seq: c.record for c in heard.commits}
    assert by_seq == {c.seq: c.record for c in await one.read_since("w", 0)}


@pytest.mark.redis
async def test_stream_holds_the_published_bytes(redis_server: RedisProcess) -> None:
    """The log entry is Committed.to_bytes() of the op, and every key shares the hash tag."""
    backend = RedisStore(redis_server.url)
    await backend.start()
    try:
        rec = record("a", 1)
        await backend.commit("room1", rec)
        await backend.save_checkpoint("room1", 1, {"seq": 1, "notes": [], "columns": []})
        raw = aioredis.Redis.from_url(redis_server.url)
        entries = await raw.xrange("atelier:{room1}:log")
        assert entries == [(b"1-0", {b"c": Committed(1, rec).to_bytes()})]
        keys = set(await raw.keys("*")) - {b"atelier:schema"}  # the data's version, global
        assert keys and all(k.startswith(b"atelier:{room1}:") for k in keys)
        await raw.aclose()
    finally:
        await backend.close()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def test_compaction_trims_log_and_dedupe(tmp_path: Path, kind: str) -> None:
    """A checkpoint trims the log `keep` ops behind it; an old retry is still known as a
    retry (its seq no longer is); a recent one gets its seq; a new op its own."""
    redis_server = RedisProcess(tmp_path / "redis").start() if kind == "redis" else None
    backend: Store = (
        RedisStore(redis_server.url, keep=5) if redis_server else SqliteStore(tmp_path, keep=5)
    )
    await backend.start()
    try:
        await backend.create_workshop(meta("w"))
        for cop in range(1, 21):
            await backend.commit("w", record("a", cop))
        await backend.commit("w", record("b", 1))  # seq 21
        await backend.save_checkpoint("w", 15, {"seq": 15, "notes": [], "columns": []})
        with pytest.raises(LogTrimmedError):
            await backend.read_since("w", 9)
        assert [c.seq for c in await backend.read_since("w", 10)] == list(range(11, 22))
        if redis_server is not None:
            raw = aioredis.Redis.from_url(redis_server.url)
            assert await raw.xlen("atelier:{w}:log") == 11
            assert await raw.zcard("atelier:{w}:dedupe") == 11
            await raw.aclose()
        old = await backend.commit("w", record("a", 3))  # its dedupe entry is gone
        assert old.duplicate and not old.known  # from a's floor: committed, seq unknown
        kept = await backend.commit("w", record("a", 12))
        assert (kept.seq, kept.duplicate, kept.known) == (12, True, True)
        fresh = await backend.commit("w", record("a", 21))
        assert (fresh.seq, fresh.duplicate) == (22, False)
    finally:
        await backend.close()
        if redis_server is not None:
            redis_server.stop()


@pytest.mark.redis
async def test_killed_subscription_resubscribes_and_resyncs(
    pair: tuple[Process, Process], redis_server: RedisProcess
) -> None:
    """After CLIENT KILL TYPE pubsub the bus resubscribes and asks every room to resync."""
    (_, one), (two, _) = pair
    heard = Listener()
    await one.subscribe("w", heard)
    await two.commit("w", record("a", 1))
    await heard.wait(lambda: len(heard.commits) == 1)
    resyncs_before, subscriptions = heard.resyncs, one.subscriptions
    raw = aioredis.Redis.from_url(redis_server.url)
    assert await raw.execute_command("CLIENT", "KILL", "TYPE", "pubsub") >= 2
    await raw.aclose()
    await heard.wait(lambda: heard.resyncs > resyncs_before and one.subscriptions > subscriptions)
    await two.commit("w", record("a", 2))
    await heard.wait(lambda: {c.seq for c in heard.commits} == {1, 2})


@pytest.mark.redis
async def test_redis_down_raises_backend_error_then_recovers(tmp_path: Path) -> None:
    """With Redis gone, commit raises BackendError and ready is False; when back, both work."""
    redis_server = RedisProcess(tmp_path / "redis").start()
    backend, bus = RedisStore(redis_server.url), RedisBus(redis_server.url)
    await backend.start()
    await bus.start()
    heard = Listener()
    try:
        await bus.subscribe("w", heard)
        await backend.commit("w", record("a", 1))
        redis_server.stop()
        with pytest.raises(BackendError):
            await backend.commit("w", record("a", 2))
        assert not await backend.ready()
        resyncs = heard.resyncs
        redis_server.start()  # same port, same AOF: the log survives
        assert await backend.ready()
        await heard.wait(lambda: heard.resyncs > resyncs, timeout=15)
        again = await backend.commit("w", record("a", 2))
        assert (again.seq, again.duplicate) == (2, False)
        assert [c.seq for c in await backend.read_since("w", 0)] == [1, 2]
    finally:
        await bus.close()
        await backend.close()
        redis_server.stop()


class Peer:
    """A local socket as a room hub sees it, keeping the frames pushed to it."""

    def __init__(self) -> None:
        self.sid, self.name, self.role, self.client = "s1", "Ana", "participant", "tab-1"
        self.frames: list[dict[str, Any]] = []

    def push(self, frame: bytes) -> None:
        self.frames.append(orjson.loads(frame))

    def kick(self, code: str, message: str) -> None:
        self.frames.append({"type": "kicked", "code": code})


@pytest.mark.redis
async def test_replica_behind_a_compacted_log_reloads_the_checkpoint(
    redis_server: RedisProcess,
) -> None:
    """A room hub whose missed ops were compacted away reloads the checkpoint, resets peers."""
    # a short log, so that 50 ops push the hub off its end
    one, two = RedisStore(redis_server.url, keep=5), RedisStore(redis_server.url, keep=5)
    bus = RedisBus(redis_server.url)
    await bus.start()
    hub = RoomHub("w", one, bus, "node-1", checkpoint_every=10_000)
    await hub.open()
    peer = Peer()
    await hub.join(peer, None)
    await bus.unsubscribe("w", hub)  # the doorbell goes quiet for this process
    board = Board()
    for cop in range(1, 51):  # meanwhile another process commits and checkpoints
        rec = record("b", cop)
        seq = (await two.commit("w", rec)).seq
        apply(board, rec.op, Context(rec.author, rec.role, rec.client, rec.at, seq))
        board.seq = seq
    await two.save_checkpoint("w", 50, board.to_dict(tombstones=True))
    with pytest.raises(LogTrimmedError):
        await one.read_since("w", hub.applied)
    hub.on_resync()
    deadline = asyncio.get_running_loop().time() + 10
    while not any(f["type"] == "reset" for f in peer.frames):
        assert asyncio.get_running_loop().time() < deadline, "no reset frame"
        await asyncio.sleep(0.02)
    reset = next(f for f in peer.frames if f["type"] == "reset")
    assert reset["seq"] == hub.applied == 50
    assert canonical(reset["state"]) == canonical(board.to_dict())
    assert [f["type"] for f in peer.frames].count("event") == 0  # nothing before the reset
    await hub.close()
    await bus.close()
    await one.close()
    await two.close()


class _BrokenSqliteStore(SqliteStore):
    """The real SQLite store with one fault injected in its writer: not a SQLite error."""

    def _write_one(self, db: Any, workshop_id: str, rec: OpRecord) -> Any:
        if rec.op.get("text") == "boom":
            raise RuntimeError("injected fault")
        return super()._write_one(db, workshop_id, rec)


async def test_an_unexpected_fault_in_a_group_commit_fails_its_waiters(tmp_path: Path) -> None:
    """A commit that fails with something other than a SQLite error is answered with a
    BackendError (not left pending for ever), and the store keeps working after it."""
    store = _BrokenSqliteStore(tmp_path / "data")
    await store.start()
    await store.create_workshop(meta("w"))
    try:
        boom = OpRecord("c", 1, {"kind": "note.add", "id": "b", "text": "boom"}, "Ana",
                        "participant", 1)  # fmt: skip
        results = await asyncio.wait_for(
            asyncio.gather(store.commit("w", boom), store.commit("w", record("d", 1)),
                           return_exceptions=True),
            10,
        )  # fmt: skip
        assert all(isinstance(r, BackendError) for r in results)  # one transaction, both fail
        assert (await store.commit("w", record("d", 1))).seq == 1
    finally:
        await store.close()


def test_the_data_directory_and_database_are_private(tmp_path: Path) -> None:
    """The embedded store's directory is 0700 and its files 0600 (silent notes, ballots)."""

    async def run() -> None:
        store = SqliteStore(tmp_path / "data")
        await store.start()
        await store.create_workshop(meta("w"))
        await store.commit("w", record("a", 1))
        await store.close()

    asyncio.run(run())
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    files = list((tmp_path / "data").iterdir())
    assert files and all(f.stat().st_mode & 0o777 == 0o600 for f in files), files


@pytest.mark.redis
async def test_a_hub_waits_for_an_outcome_with_a_deadline_and_retries_the_log(
    redis_server: RedisProcess,
) -> None:
    """An op committed elsewhere, its doorbell missed and Redis gone: waiting for its outcome
    ends with OutcomeTimeoutError, never hangs; once Redis is back the hub applies it."""
    store, other = RedisStore(redis_server.url), RedisStore(redis_server.url)
    bus = RedisBus(redis_server.url)
    await bus.start()
    hub = RoomHub("w", store, bus, "node-1", outcome_timeout=0.5)
    await hub.open()
    await bus.unsubscribe("w", hub)  # the doorbell goes quiet for this process
    try:
        seq = (await other.commit("w", record("b", 1))).seq
        redis_server.stop()
        with pytest.raises(OutcomeTimeoutError):
            await hub.outcome(seq)
        redis_server.start()  # same port and AOF: the op is in the log
        hub.outcome_timeout = 15.0
        assert (await hub.outcome(seq)).applied and hub.applied == seq
    finally:
        await hub.close()
        await bus.close()
        await store.close()
        await other.close()


@pytest.mark.redis
async def test_erasing_a_name_on_redis_loses_no_op_committed_meanwhile(
    redis_server: RedisProcess,
) -> None:
    """The log is rewritten without the name while ops keep landing: the rewrite ends (a
    busy room cannot make it start over for ever), every op committed meanwhile is still
    in the log, and a checkpoint saved meanwhile is not replaced by an older state."""
    store = RedisStore(redis_server.url)
    await store.start()
    try:
        ana = [OpRecord("ana", cop, {"kind": "note.add", "id": f"a{cop}", "text": "x"}, "Ana",
                        "participant", 1) for cop in range(1, 2001)]  # fmt: skip
        await store.commit_many("w", ana)
        stop = asyncio.Event()

        async def busy() -> int:
            cop = 0
            while not stop.is_set():
                cop += 1
                await store.commit("w", record("bob", cop))
                if cop == 5:
                    await store.save_checkpoint("w", 2005, {"seq": 2005, "notes": []})
            return cop

        writing = asyncio.create_task(busy())
        await asyncio.sleep(0.05)
        await asyncio.wait_for(store.scrub_author("w", name_digest("Ana"), "Anonyme"), 30)
        stop.set()
        bob_ops = await writing
        log = await store.read_since("w", 0)
        assert [c.seq for c in log] == list(range(1, 2001 + bob_ops))  # nothing lost
        assert {c.record.author for c in log if c.record.client == "ana"} == {"Anonyme"}
        checkpoint = await store.load_checkpoint("w")
        assert checkpoint is not None and checkpoint[0] == checkpoint[1]["seq"] == 2005
    finally:
        await store.close()


async def test_ops_of_a_workshop_deleted_meanwhile_leave_nothing_behind(backend: Store) -> None:
    """An op that reaches the store after its workshop was deleted is refused: no orphan
    in the log (a workshop imported again under that id would replay it)."""
    await backend.commit("w", record("a", 1))
    await backend.delete_workshop("w")
    if isinstance(backend, SqliteStore):
        with pytest.raises(BackendError):
            await backend.commit("w", record("a", 2))
        assert await backend.read_since("w", 0) == []
    assert "w" not in [w for w, _ in await backend.list_workshops()]
