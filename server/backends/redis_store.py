"""The Redis store: any number of processes keep the same rooms in one Redis.

See ``redis_keys`` for the key layout. One Lua script dedupes, numbers, appends and
publishes a commit (the doorbell the Redis bus hears), so two processes can never give
one seq twice nor apply one retried op twice, and no commit can be durable without its
doorbell. An op is acknowledged once Redis has run that script: it is as durable as
Redis's AOF policy makes it (``appendfsync everysec`` may lose the last second on a
power cut, ``always`` loses nothing acknowledged; see docs/deploy.md).

Compaction: saving a checkpoint trims the log and the dedupe set up to ``keep`` ops
behind it. The dedupe entries trimmed leave a per-client floor: a retry whose op id is
at or below its client's floor, with no entry left, is answered as a duplicate whose
seq is no longer known (``CommitResult.known`` False: client op ids grow, and a socket
commits its ops in order, so such an op was committed long ago; the floor's seq is
another op's, and its outcome must not be given for this one).
"""

import asyncio
import logging
import os
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

import orjson
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from ..metrics import STORAGE_ERRORS
from .base import (
    BackendError,
    CommitResult,
    Committed,
    JoinLink,
    LogTrimmedError,
    OpRecord,
    StorageFullError,
    WorkshopMeta,
    rehash,
    scrub,
)
from .redis_keys import ROOM_KEYS, WORKSHOPS, join_key, keepalive, key, ops_channel
from .redis_schema import migrate
from .sqlite_schema import SchemaError

__all__ = ["DEFAULT_KEEP", "RedisStore", "call"]

T = TypeVar("T")

log = logging.getLogger(__name__)

#: Ops kept in the log behind the latest checkpoint, for clients and processes that lag.
DEFAULT_KEEP = 10_000
#: Ops read from the log per round trip.
PAGE = 1000

_COMMIT = """
local member = ARGV[1] .. ':' .. ARGV[2]
local found = redis.call('ZSCORE', KEYS[3], member)
if found then return {tonumber(found), 1} end
local floor = redis.call('HGET', KEYS[4], ARGV[1])
if floor then
  local sep = string.find(floor, ':', 1, true)
  if tonumber(ARGV[2]) <= tonumber(string.sub(floor, 1, sep - 1)) then
    return {tonumber(string.sub(floor, sep + 1)), 2}
  end
end
local seq = redis.call('INCR', KEYS[1])
local data = '{"seq":' .. seq .. ',' .. string.sub(ARGV[3], 2)
redis.call('XADD', KEYS[2], seq .. '-0', 'c', data)
redis.call('ZADD', KEYS[3], seq, member)
redis.call('PUBLISH', ARGV[4], data)
return {seq, 0}
"""

_CHECKPOINT = """
local seq = tonumber(ARGV[1])
local saved = redis.call('HGET', KEYS[1], 'seq')
if saved and tonumber(saved) >= seq then return 0 end
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'state', ARGV[2])
local floor = seq - tonumber(ARGV[3])
local trimmed = tonumber(redis.call('GET', KEYS[3]) or '0')
if floor <= trimmed then return 1 end
redis.call('XTRIM', KEYS[2], 'MINID', floor + 1)
redis.call('SET', KEYS[3], floor)
local old = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', floor, 'WITHSCORES')
for i = 1, #old, 2 do
  local sep = string.find(old[i], ':', 1, true)
  local client, cop = string.sub(old[i], 1, sep - 1), string.sub(old[i], sep + 1)
  local prev = redis.call('HGET', KEYS[5], client)
  local higher = true
  if prev then
    local psep = string.find(prev, ':', 1, true)
    higher = tonumber(cop) > tonumber(string.sub(prev, 1, psep - 1))
  end
  if higher then redis.call('HSET', KEYS[5], client, cop .. ':' .. old[i + 1]) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', floor)
return 1
"""

# Replace some entries of a log (a stream cannot edit one) by rebuilding it, atomically:
# ARGV holds pairs of (entry id, new data). Every other entry, those added since the
# caller read the log included, is kept as it is; none compacted away is brought back.
_REBUILD_LOG = """
local trimmed = tonumber(redis.call('GET', KEYS[2]) or '0')
local all = redis.call('XRANGE', KEYS[1], '-', '+')
local new = {}
for i = 1, #ARGV, 2 do new[ARGV[i]] = ARGV[i + 1] end
redis.call('DEL', KEYS[1])
for _, entry in ipairs(all) do
  local id, fields = entry[1], entry[2]
  local data = fields[2]
  if new[id] then data = new[id] end
  if tonumber(string.match(id, '^(%d+)')) > trimmed then
    redis.call('XADD', KEYS[1], id, 'c', data)
  end
end
return #all
"""

# Replace a checkpoint's state only if its seq is still ARGV[1] (a newer one wins).
_SET_IF_SEQ = """
if redis.call('HGET', KEYS[1], 'seq') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', ARGV[2])
  return 1
end
return 0
"""

_SNAPSHOT = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
  return 1
end
return 0
"""


class RedisStore:
    """A :class:`~atelier.backends.base.Store` shared by every process on one Redis."""

    def __init__(self, url: str, *, keep: int = DEFAULT_KEEP, min_headroom: int = 0) -> None:
        self._url = url
        self._keep = keep
        self._min_headroom = min_headroom  # bytes under maxmemory kept free (0: no floor)
        self._headroom_checked = 0.0
        self._headroom_full: str | None = None  # why writes are refused, if they are
        self._schema_checked = False
        #: The schema version Redis had when first checked, and has now.
        self.schema: tuple[int, int] = (0, 0)
        self._touched: dict[str, int] = {}  # room -> last activity written, ms
        # Commands share a pool. A commit retried after a lost reply is safe (the script
        # dedupes), so a short retry rides out a blip; past it the caller gets BackendError
        # and its client reconnects (maybe to another process) and re-sends.
        # Named connections let an operator (and a test) tell processes apart in CLIENT LIST.
        self._redis = aioredis.Redis.from_url(
            url,
            client_name=f"atelier-{os.getpid()}",
            socket_timeout=5,
            socket_connect_timeout=2,
            **keepalive(url),
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
        )
        self._commit = self._redis.register_script(_COMMIT)
        self._checkpoint = self._redis.register_script(_CHECKPOINT)
        self._snapshot = self._redis.register_script(_SNAPSHOT)
        self._rebuild_log = self._redis.register_script(_REBUILD_LOG)
        self._set_if_seq = self._redis.register_script(_SET_IF_SEQ)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Check (and migrate) the data's version now if Redis answers; if it does not,
        the check runs before the first write, and /readyz says not ready meanwhile."""
        try:
            await self._check_schema()
        except SchemaError:
            raise
        except BackendError as error:
            log.warning("Redis is not answering yet (%s); its schema is checked later", error)

    async def _check_schema(self) -> None:
        if not self._schema_checked:
            self.schema = await call(migrate(self._redis))
            self._schema_checked = True
            if self.schema[0] != self.schema[1]:
                log.info("Redis data migrated from schema %d to %d", *self.schema)

    async def _writable(self) -> None:
        """Before a write: the schema is checked, and Redis has room under its maxmemory."""
        await self._check_schema()
        if self._min_headroom:
            now = time.monotonic()
            if now - self._headroom_checked >= 1.0:  # INFO at most once a second
                memory: Any = await call(self._redis.info("memory"))
                used, limit = int(memory["used_memory"]), int(memory["maxmemory"])
                self._headroom_checked = now
                self._headroom_full = (
                    f"Redis uses {used // 2**20} MiB of its {limit // 2**20} MiB maxmemory: "
                    "new writes are refused until space is freed"
                    if limit and limit - used < self._min_headroom
                    else None
                )
            if self._headroom_full is not None:
                raise StorageFullError(self._headroom_full)

    async def close(self) -> None:
        """Close every connection."""
        await self._redis.aclose()

    async def ready(self) -> bool:
        """Whether Redis answers a PING now."""
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    # -- workshops -------------------------------------------------------------------

    async def create_workshop(self, meta: WorkshopMeta) -> None:
        """Store a new workshop's metadata; an existing id is an error."""
        await self._writable()
        created = await call(self._redis.set(key(meta.id, "meta"), meta.to_bytes(), nx=True))
        if not created:
            raise BackendError(f"workshop {meta.id!r} exists")
        await call(self._redis.zadd(WORKSHOPS, {meta.id: meta.created_at}))

    async def get_workshop(self, workshop_id: str) -> WorkshopMeta | None:
        """A workshop's metadata, or None."""
        raw = await call(self._redis.get(key(workshop_id, "meta")))
        return None if raw is None else WorkshopMeta.from_bytes(raw)

    async def update_workshop(self, meta: WorkshopMeta) -> None:
        """Replace an existing workshop's metadata."""
        if not await call(self._redis.set(key(meta.id, "meta"), meta.to_bytes(), xx=True)):
            raise BackendError(f"there is no workshop {meta.id!r}")

    async def delete_workshop(self, workshop_id: str) -> None:
        """Delete every key of the workshop (its snapshots included) and its activity entry."""
        snapshot_ids: list[Any] = await call(
            self._redis.zrange(key(workshop_id, "snapshots"), 0, -1)
        )
        keys = [key(workshop_id, part) for part in ROOM_KEYS]
        keys += [key(workshop_id, f"snapshot:{s.decode()}") for s in snapshot_ids]
        await call(self._redis.delete(*keys))
        await call(self._redis.zrem(WORKSHOPS, workshop_id))

    async def usage(self) -> dict[str, int]:
        """Bytes per workshop, as Redis's MEMORY USAGE counts its keys."""
        used: dict[str, int] = {}
        async for raw in self._redis.scan_iter(match="atelier:{*", count=1000):
            name = raw.decode()
            workshop_id = name[len("atelier:{") : name.index("}")]
            size: Any = await call(self._redis.memory_usage(raw))
            used[workshop_id] = used.get(workshop_id, 0) + int(size or 0)
        return used

    async def size(self) -> int:
        """Redis's used memory (all of it: Atelier's keys and Redis's own)."""
        memory: Any = await call(self._redis.info("memory"))
        return int(memory["used_memory"])

    async def list_workshops(self) -> list[tuple[str, int]]:
        """Every workshop with its last activity (ms), from the activity sorted set."""
        rows: list[Any] = await call(self._redis.zrange(WORKSHOPS, 0, -1, withscores=True))
        return sorted((member.decode(), int(score)) for member, score in rows)

    async def restore_workshop(
        self, meta: WorkshopMeta, seq: int, state: dict[str, Any], snapshots: list[dict[str, Any]]
    ) -> None:
        """Recreate an exported workshop: metadata, the board at ``seq``, the snapshots."""
        await self._writable()
        if not await call(self._redis.set(key(meta.id, "meta"), meta.to_bytes(), nx=True)):
            raise BackendError(f"workshop {meta.id!r} exists already")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(key(meta.id, "seq"), seq)
            # the log is empty: every op up to seq is "compacted", the checkpoint holds them
            pipe.set(key(meta.id, "trimmed"), seq)
            pipe.hset(
                key(meta.id, "checkpoint"), mapping={"seq": seq, "state": orjson.dumps(state)}
            )
            for body in snapshots:
                pipe.set(key(meta.id, f"snapshot:{body['id']}"), orjson.dumps(body))
                pipe.zadd(key(meta.id, "snapshots"), {body["id"]: int(body.get("at", 0))})
            pipe.zadd(WORKSHOPS, {meta.id: int(time.time() * 1000)})
            await call(pipe.execute())

    async def scrub_author(self, workshop_id: str, digest: str, replacement: str) -> None:
        """Rewrite the log, checkpoint and snapshots without the pseudonym of ``digest``.

        Each part is written atomically and never undoes a newer write: the log is rebuilt
        by one script that keeps the ops committed since it was read (a stream entry cannot
        be edited in place), and the checkpoint is replaced only if no newer one was saved
        meanwhile (a newer one was made from the erased board). No WATCH: a busy room
        cannot make the rewrite start over for ever.
        """
        log_key, checkpoint_key = key(workshop_id, "log"), key(workshop_id, "checkpoint")
        read: Any = await call(self._redis.xrange(log_key))
        entries: list[Any] = read or []
        rewritten: list[str | int | bytes] = []
        for entry_id, fields in entries:
            before = orjson.loads(fields[b"c"])
            after = scrub(before, digest, replacement)
            if after != before:
                rewritten += [entry_id, orjson.dumps(after)]
        if rewritten:
            keys = [log_key, key(workshop_id, "trimmed")]
            await call(self._rebuild_log(keys=keys, args=rewritten))
        snapshot_ids: list[Any] = await call(
            self._redis.zrange(key(workshop_id, "snapshots"), 0, -1)
        )
        for snapshot_id in snapshot_ids:
            snapshot_key = key(workshop_id, f"snapshot:{snapshot_id.decode()}")
            blob: Any = await call(self._redis.get(snapshot_key))
            if blob is not None:
                body = orjson.loads(blob)
                after = rehash(scrub(body, digest, replacement))
                if after != body:  # snapshots are immutable otherwise: no race to lose
                    await call(self._redis.set(snapshot_key, orjson.dumps(after), xx=True))
        seq, state = await call(self._redis.hmget(checkpoint_key, ["seq", "state"]))
        if seq is not None and state is not None:
            scrubbed = orjson.dumps(scrub(orjson.loads(state), digest, replacement))
            await call(self._set_if_seq(keys=[checkpoint_key], args=[seq, scrubbed]))

    async def _touch(self, workshop_id: str, at: int) -> None:
        """Record activity for the retention setting, at most once a minute per room."""
        if at - self._touched.get(workshop_id, 0) < 60_000:
            return
        self._touched[workshop_id] = at
        # xx: an op landing just after its workshop was deleted must not list it again
        await call(self._redis.zadd(WORKSHOPS, {workshop_id: at}, gt=True, xx=True))

    # -- the log ---------------------------------------------------------------------

    async def commit(self, workshop_id: str, record: OpRecord) -> CommitResult:
        """Number, dedupe, append and publish ``record`` in one script run."""
        await self._writable()
        keys = self._commit_keys(workshop_id)
        args: list[str | int | bytes] = [record.client, record.cop, _record_bytes(record),
                                         ops_channel(workshop_id)]  # fmt: skip
        seq, duplicate = await call(self._commit(keys=keys, args=args))
        await self._touch(workshop_id, record.at)
        return _result(seq, duplicate)

    async def commit_many(self, workshop_id: str, records: list[OpRecord]) -> list[CommitResult]:
        """Commit ``records`` in order: one script run each, sent in one pipeline."""
        if len(records) == 1:  # a socket's op, most often: no pipeline to build
            return [await self.commit(workshop_id, records[0])]
        await self._writable()
        if not records:
            return []
        keys = self._commit_keys(workshop_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            for record in records:
                args: list[str | int | bytes] = [record.client, record.cop,
                                                 _record_bytes(record),
                                                 ops_channel(workshop_id)]  # fmt: skip
                await self._commit(keys=keys, args=args, client=pipe)  # queued, not sent
            replies = await call(pipe.execute())
        await self._touch(workshop_id, max(r.at for r in records))
        return [_result(seq, dup) for seq, dup in replies]

    def submit(self, workshop_id: str, records: list[OpRecord]) -> Awaitable[list[CommitResult]]:
        """``commit_many``, started now (a task): the records are the store's from here
        on, whoever awaits them, as with SQLite."""
        return asyncio.ensure_future(self.commit_many(workshop_id, records))

    def _commit_keys(self, workshop_id: str) -> list[str]:
        return [key(workshop_id, p) for p in ("seq", "log", "dedupe", "floors")]

    async def read_since(self, workshop_id: str, seq: int) -> list[Committed]:
        """The ops after ``seq`` in order, a page at a time; LogTrimmedError if compacted."""
        found: list[Committed] = []
        after = seq
        while True:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.get(key(workshop_id, "trimmed"))
                pipe.xrange(key(workshop_id, "log"), min=f"{after + 1}-0", max="+", count=PAGE)
                trimmed, entries = await call(pipe.execute())
            if trimmed is not None and after < int(trimmed):
                raise LogTrimmedError(f"ops after {after} were compacted (up to {int(trimmed)})")
            found.extend(Committed.from_bytes(fields[b"c"]) for _, fields in entries)
            if len(entries) < PAGE:
                return found
            after = found[-1].seq

    async def load_checkpoint(self, workshop_id: str) -> tuple[int, dict[str, Any]] | None:
        """The latest saved board state and its seq."""
        seq, state = await call(self._redis.hmget(key(workshop_id, "checkpoint"), ["seq", "state"]))
        if seq is None or state is None:
            return None
        return int(seq), orjson.loads(state)

    async def save_checkpoint(self, workshop_id: str, seq: int, state: dict[str, Any]) -> None:
        """Save a later board state, then trim the log and dedupe set ``keep`` ops behind it."""
        keys = [key(workshop_id, p) for p in ("checkpoint", "log", "trimmed", "dedupe", "floors")]
        await call(self._checkpoint(keys=keys, args=[seq, orjson.dumps(state), self._keep]))

    # -- snapshots -------------------------------------------------------------------

    async def put_join_code(self, code: str, link: JoinLink) -> bool:
        """Keep the code (``atelier:join:CODE``) and the room's pointer to it, both
        expiring with the link; False when the code is taken."""
        await self._writable()
        ttl = max(1, link.expires - int(time.time() * 1000))
        value = orjson.dumps({"workshop": link.workshop_id, "secret": link.secret,
                              "expires": link.expires})  # fmt: skip
        if not await call(self._redis.set(join_key(code), value, nx=True, px=ttl)):
            return False
        await call(self._redis.set(key(link.workshop_id, "joincode"), code, px=ttl))
        return True

    async def get_join_code(self, code: str) -> JoinLink | None:
        """The link of a code that has not expired (Redis forgets it when it does)."""
        raw: Any = await call(self._redis.get(join_key(code)))
        if raw is None:
            return None
        data = orjson.loads(raw)
        link = JoinLink(str(data["workshop"]), str(data["secret"]), int(data["expires"]))
        return link if link.expires > time.time() * 1000 else None  # a key restored late

    async def find_join_code(self, workshop_id: str) -> tuple[str, JoinLink] | None:
        """The room's latest join code, if it still lasts."""
        code: Any = await call(self._redis.get(key(workshop_id, "joincode")))
        if code is None:
            return None
        link = await self.get_join_code(code.decode())
        return None if link is None else (code.decode(), link)

    async def save_snapshot(self, workshop_id: str, snapshot_id: str, body: dict[str, Any]) -> None:
        """Store an immutable snapshot; refuses to overwrite one."""
        await self._writable()
        keys = [key(workshop_id, f"snapshot:{snapshot_id}"), key(workshop_id, "snapshots")]
        args: list[str | int | bytes] = [orjson.dumps(body), int(body.get("at", 0)), snapshot_id]
        if not await call(self._snapshot(keys=keys, args=args)):
            raise BackendError(f"snapshot {snapshot_id!r} exists and is immutable")

    async def list_snapshots(self, workshop_id: str) -> list[dict[str, Any]]:
        """Every snapshot's summary (no state), oldest first."""
        ids: list[Any] = await call(self._redis.zrange(key(workshop_id, "snapshots"), 0, -1))
        if not ids:
            return []
        keys = [key(workshop_id, f"snapshot:{i.decode()}") for i in ids]
        summaries = []
        for blob in await call(self._redis.mget(keys)):
            if blob is not None:
                body = orjson.loads(blob)
                body.pop("state", None)
                summaries.append(body)
        return summaries

    async def get_snapshot(self, workshop_id: str, snapshot_id: str) -> dict[str, Any] | None:
        """One snapshot, or None."""
        blob = await call(self._redis.get(key(workshop_id, f"snapshot:{snapshot_id}")))
        return None if blob is None else dict(orjson.loads(blob))


def _record_bytes(record: OpRecord) -> bytes:
    """The record as the commit script stores it (after the seq it prepends), without
    dataclasses.asdict's deep copy of the op on every commit."""
    return orjson.dumps({"client": record.client, "cop": record.cop, "op": record.op,
                         "author": record.author, "role": record.role,
                         "at": record.at})  # fmt: skip


def _result(seq: Any, found: Any) -> CommitResult:
    """The commit script's answer: 0 new, 1 a retry, 2 a retry answered from the floor."""
    return CommitResult(seq=int(seq), duplicate=int(found) != 0, known=int(found) != 2)


async def call(pending: Awaitable[T]) -> T:
    """Await a Redis command; its failure is a :class:`BackendError`."""
    try:
        return await pending
    except (RedisError, OSError) as exc:
        STORAGE_ERRORS.labels("redis").inc()
        raise BackendError(f"Redis: {exc}") from exc
