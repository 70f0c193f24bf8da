"""The Redis backend: any number of processes serve the same rooms through one Redis.

Keys of a room share the ``{workshop_id}`` hash tag, so on a Redis Cluster they live in
one slot and the Lua scripts below may touch them together::

    atelier:{ID}:meta          workshop metadata (string, written once)
    atelier:{ID}:seq           the room's last sequence number (counter)
    atelier:{ID}:log           committed ops (stream, entry id ``SEQ-0``, field ``c``)
    atelier:{ID}:dedupe        "client:cop" -> seq (sorted set scored by seq)
    atelier:{ID}:floors        client -> "cop:seq", the highest op compacted out of dedupe
    atelier:{ID}:trimmed       every op up to this seq is gone from the log
    atelier:{ID}:checkpoint    board state (hash: seq, state)
    atelier:{ID}:snapshot:SID  one immutable snapshot; ``:snapshots`` indexes them
    channels atelier:{ID}:ops and atelier:{ID}:presence

Besides, ``atelier:workshops`` (a sorted set of workshop ids by last activity, for the
retention setting) lives outside any room's slot, and every process subscribes to the
``atelier:hello`` channel so that its subscriber connection is live even with no room.

One Lua script dedupes, numbers, appends and publishes a commit, so two processes can
never give one seq twice nor apply one retried op twice. An op is acknowledged once
Redis has run that script: it is as durable as Redis's AOF policy makes it
(``appendfsync everysec`` may lose the last second on a power cut, ``always`` loses
nothing acknowledged; see docs/deploy.md).

Pub/sub is only a doorbell. This process holds one subscriber connection, owns its
reconnect loop (redis-py's PubSub neither reconnects nor resubscribes reliably on its
own), and after every (re)subscription tells each room to read the log for what it
may have missed.

Compaction: saving a checkpoint trims the log and the dedupe set up to ``keep`` ops
behind it. The dedupe entries trimmed leave a per-client floor: a retry whose op id is
at or below its client's floor, with no entry left, is answered as a duplicate with
the floor's seq (client op ids grow, and a socket commits its ops in order, so such an
op was committed long ago).
"""

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable
from dataclasses import asdict
from typing import Any, TypeVar

import orjson
import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import RedisError, WatchError

from .base import (
    BackendError,
    CommitResult,
    Committed,
    LogTrimmedError,
    OpRecord,
    RoomListener,
    WorkshopMeta,
    rehash,
    scrub,
)

__all__ = ["RedisBackend"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Ops kept in the log behind the latest checkpoint, for clients and processes that lag.
DEFAULT_KEEP = 10_000
#: Ops read from the log per round trip.
PAGE = 1000
#: Every process subscribes to this channel too, so its subscriber is always live.
HELLO_CHANNEL = "atelier:hello"
#: Seconds of silence on the subscriber connection before it is pinged, then presumed dead.
PING_EVERY = 5.0
DEAD_AFTER = 15.0

_COMMIT = """
local member = ARGV[1] .. ':' .. ARGV[2]
local found = redis.call('ZSCORE', KEYS[3], member)
if found then return {tonumber(found), 1} end
local floor = redis.call('HGET', KEYS[4], ARGV[1])
if floor then
  local sep = string.find(floor, ':', 1, true)
  if tonumber(ARGV[2]) <= tonumber(string.sub(floor, 1, sep - 1)) then
    return {tonumber(string.sub(floor, sep + 1)), 1}
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

_SNAPSHOT = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
  return 1
end
return 0
"""


#: Workshop id -> last activity in ms (for the retention setting); not in a room's slot.
WORKSHOPS = "atelier:workshops"
#: The per-room keys besides the snapshots (see the module docstring).
_ROOM_KEYS = ("meta", "seq", "log", "dedupe", "floors", "trimmed", "checkpoint", "snapshots")


def _key(workshop_id: str, part: str) -> str:
    return f"atelier:{{{workshop_id}}}:{part}"


class RedisBackend:
    """A :class:`~atelier.backends.base.Backend` shared by every process on one Redis."""

    def __init__(self, url: str, *, keep: int = DEFAULT_KEEP) -> None:
        self._url = url
        self._keep = keep
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
            socket_keepalive=True,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
        )
        # The subscriber has a client of its own, without retries: on any error this
        # class drops the connection, reconnects, resubscribes and resyncs every room.
        self._sub_client = aioredis.Redis.from_url(
            url,
            client_name=f"atelier-sub-{os.getpid()}",
            socket_connect_timeout=2,
            socket_keepalive=True,
            retry=Retry(NoBackoff(), 0),
        )
        self._commit = self._redis.register_script(_COMMIT)
        self._checkpoint = self._redis.register_script(_CHECKPOINT)
        self._snapshot = self._redis.register_script(_SNAPSHOT)
        self._rooms: dict[str, list[RoomListener]] = {}
        self._pubsub: PubSub | None = None
        self._confirmed: dict[str, asyncio.Event] = {}
        self._listening: asyncio.Task[None] | None = None
        self._closing = False
        self._last_presence_warning = 0.0
        #: How many times the subscriber connected; tests and metrics read it.
        self.subscriptions = 0

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Start the subscriber loop (it connects, and reconnects, on its own)."""
        self._closing = False
        self._confirmed[HELLO_CHANNEL] = asyncio.Event()
        self._listening = asyncio.create_task(self._listen_forever())

    async def close(self) -> None:
        """Stop the subscriber and close every connection."""
        self._closing = True
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
            self._listening = None
        await self._sub_client.aclose()
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
        created = await self._call(self._redis.set(_key(meta.id, "meta"), meta.to_bytes(), nx=True))
        if not created:
            raise BackendError(f"workshop {meta.id!r} exists")
        await self._call(self._redis.zadd(WORKSHOPS, {meta.id: meta.created_at}))

    async def get_workshop(self, workshop_id: str) -> WorkshopMeta | None:
        """A workshop's metadata, or None."""
        raw = await self._call(self._redis.get(_key(workshop_id, "meta")))
        return None if raw is None else WorkshopMeta.from_bytes(raw)

    async def update_workshop(self, meta: WorkshopMeta) -> None:
        """Replace an existing workshop's metadata."""
        if not await self._call(self._redis.set(_key(meta.id, "meta"), meta.to_bytes(), xx=True)):
            raise BackendError(f"there is no workshop {meta.id!r}")

    async def delete_workshop(self, workshop_id: str) -> None:
        """Delete every key of the workshop (its snapshots included) and its activity entry."""
        snapshot_ids: list[Any] = await self._call(
            self._redis.zrange(_key(workshop_id, "snapshots"), 0, -1)
        )
        keys = [_key(workshop_id, part) for part in _ROOM_KEYS]
        keys += [_key(workshop_id, f"snapshot:{s.decode()}") for s in snapshot_ids]
        await self._call(self._redis.delete(*keys))
        await self._call(self._redis.zrem(WORKSHOPS, workshop_id))

    async def list_workshops(self) -> list[tuple[str, int]]:
        """Every workshop with its last activity (ms), from the activity sorted set."""
        rows: list[Any] = await self._call(self._redis.zrange(WORKSHOPS, 0, -1, withscores=True))
        return sorted((member.decode(), int(score)) for member, score in rows)

    async def restore_workshop(
        self, meta: WorkshopMeta, seq: int, state: dict[str, Any], snapshots: list[dict[str, Any]]
    ) -> None:
        """Recreate an exported workshop: metadata, the board at ``seq``, the snapshots."""
        if not await self._call(self._redis.set(_key(meta.id, "meta"), meta.to_bytes(), nx=True)):
            raise BackendError(f"workshop {meta.id!r} exists already")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(_key(meta.id, "seq"), seq)
            # the log is empty: every op up to seq is "compacted", the checkpoint holds them
            pipe.set(_key(meta.id, "trimmed"), seq)
            pipe.hset(
                _key(meta.id, "checkpoint"), mapping={"seq": seq, "state": orjson.dumps(state)}
            )
            for body in snapshots:
                pipe.set(_key(meta.id, f"snapshot:{body['id']}"), orjson.dumps(body))
                pipe.zadd(_key(meta.id, "snapshots"), {body["id"]: int(body.get("at", 0))})
            pipe.zadd(WORKSHOPS, {meta.id: int(time.time() * 1000)})
            await self._call(pipe.execute())

    async def scrub_author(self, workshop_id: str, digest: str, replacement: str) -> None:
        """Rewrite the log, checkpoint and snapshots without the pseudonym of ``digest``.
        A stream entry cannot be edited: the log is rebuilt, under WATCH of the seq so that a commit
        landing meanwhile makes the rebuild start again rather than be lost."""
        log_key, seq_key = _key(workshop_id, "log"), _key(workshop_id, "seq")
        while True:
            async with self._redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(seq_key)
                    entries: list[Any] = await pipe.xrange(log_key) or []
                    snapshot_ids: list[Any] = await pipe.zrange(
                        _key(workshop_id, "snapshots"), 0, -1
                    )
                    snapshot_keys = [
                        _key(workshop_id, f"snapshot:{s.decode()}") for s in snapshot_ids
                    ]
                    snapshots = await pipe.mget(snapshot_keys) if snapshot_keys else []
                    state = await pipe.hget(_key(workshop_id, "checkpoint"), "state")
                    pipe.multi()  # type: ignore[no-untyped-call]
                    if entries:
                        pipe.delete(log_key)
                        for entry_id, fields in entries:
                            data = scrub(orjson.loads(fields[b"c"]), digest, replacement)
                            pipe.xadd(log_key, {"c": orjson.dumps(data)}, id=entry_id)
                    for key, blob in zip(snapshot_keys, snapshots, strict=True):
                        if blob is not None:
                            body = scrub(orjson.loads(blob), digest, replacement)
                            pipe.set(key, orjson.dumps(rehash(body)))
                    if state is not None:
                        scrubbed = scrub(orjson.loads(state), digest, replacement)
                        pipe.hset(_key(workshop_id, "checkpoint"), "state", orjson.dumps(scrubbed))
                    await pipe.execute()
                    return
                except WatchError:
                    continue  # an op was committed meanwhile: read again
                except (RedisError, OSError) as exc:
                    raise BackendError(f"Redis unavailable: {exc}") from exc

    async def _touch(self, workshop_id: str, at: int) -> None:
        """Record activity for the retention setting, at most once a minute per room."""
        if at - self._touched.get(workshop_id, 0) < 60_000:
            return
        self._touched[workshop_id] = at
        await self._call(self._redis.zadd(WORKSHOPS, {workshop_id: at}, gt=True))

    # -- the log ---------------------------------------------------------------------

    async def commit(self, workshop_id: str, record: OpRecord) -> CommitResult:
        """Number, dedupe, append and publish ``record`` in one script run."""
        keys = [_key(workshop_id, p) for p in ("seq", "log", "dedupe", "floors")]
        args: list[str | int | bytes] = [
            record.client,
            record.cop,
            orjson.dumps(asdict(record)),
            _key(workshop_id, "ops"),
        ]
        seq, duplicate = await self._call(self._commit(keys=keys, args=args))
        result = CommitResult(seq=int(seq), duplicate=bool(duplicate))
        await self._touch(workshop_id, record.at)
        if not result.duplicate:
            # This process's own rooms need not wait for the doorbell's round trip.
            committed = Committed(result.seq, record)
            for listener in list(self._rooms.get(workshop_id, ())):
                listener.on_commit(committed)
        return result

    async def read_since(self, workshop_id: str, seq: int) -> list[Committed]:
        """The ops after ``seq`` in order, a page at a time; LogTrimmedError if compacted."""
        found: list[Committed] = []
        after = seq
        while True:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.get(_key(workshop_id, "trimmed"))
                pipe.xrange(_key(workshop_id, "log"), min=f"{after + 1}-0", max="+", count=PAGE)
                trimmed, entries = await self._call(pipe.execute())
            if trimmed is not None and after < int(trimmed):
                raise LogTrimmedError(f"ops after {after} were compacted (up to {int(trimmed)})")
            found.extend(Committed.from_bytes(fields[b"c"]) for _, fields in entries)
            if len(entries) < PAGE:
                return found
            after = found[-1].seq

    async def load_checkpoint(self, workshop_id: str) -> tuple[int, dict[str, Any]] | None:
        """The latest saved board state and its seq."""
        seq, state = await self._call(
            self._redis.hmget(_key(workshop_id, "checkpoint"), ["seq", "state"])
        )
        if seq is None or state is None:
            return None
        return int(seq), orjson.loads(state)

    async def save_checkpoint(self, workshop_id: str, seq: int, state: dict[str, Any]) -> None:
        """Save a later board state, then trim the log and dedupe set ``keep`` ops behind it."""
        keys = [_key(workshop_id, p) for p in ("checkpoint", "log", "trimmed", "dedupe", "floors")]
        await self._call(self._checkpoint(keys=keys, args=[seq, orjson.dumps(state), self._keep]))

    # -- snapshots -------------------------------------------------------------------

    async def save_snapshot(self, workshop_id: str, snapshot_id: str, body: dict[str, Any]) -> None:
        """Store an immutable snapshot; refuses to overwrite one."""
        keys = [_key(workshop_id, f"snapshot:{snapshot_id}"), _key(workshop_id, "snapshots")]
        args: list[str | int | bytes] = [orjson.dumps(body), int(body.get("at", 0)), snapshot_id]
        if not await self._call(self._snapshot(keys=keys, args=args)):
            raise BackendError(f"snapshot {snapshot_id!r} exists and is immutable")

    async def list_snapshots(self, workshop_id: str) -> list[dict[str, Any]]:
        """Every snapshot's summary (no state), oldest first."""
        ids: list[Any] = await self._call(self._redis.zrange(_key(workshop_id, "snapshots"), 0, -1))
        if not ids:
            return []
        keys = [_key(workshop_id, f"snapshot:{i.decode()}") for i in ids]
        summaries = []
        for blob in await self._call(self._redis.mget(keys)):
            if blob is not None:
                body = orjson.loads(blob)
                body.pop("state", None)
                summaries.append(body)
        return summaries

    async def get_snapshot(self, workshop_id: str, snapshot_id: str) -> dict[str, Any] | None:
        """One snapshot, or None."""
        blob = await self._call(self._redis.get(_key(workshop_id, f"snapshot:{snapshot_id}")))
        return None if blob is None else dict(orjson.loads(blob))

    # -- fan-out ---------------------------------------------------------------------

    async def subscribe(self, workshop_id: str, listener: RoomListener) -> None:
        """Feed ``listener`` the room's commits and presence, once Redis confirms it."""
        listeners = self._rooms.setdefault(workshop_id, [])
        listeners.append(listener)
        if len(listeners) > 1:
            return
        channels = [_key(workshop_id, "ops"), _key(workshop_id, "presence")]
        for channel in channels:
            self._confirmed[channel] = asyncio.Event()
        confirmed = self._confirmed[channels[0]]
        if self._pubsub is not None:
            try:
                await self._pubsub.subscribe(*channels)
            except (RedisError, OSError):
                # The subscriber loop sees the same failure, reconnects and subscribes
                # every room's channels, this one included.
                log.warning("subscribing to room %s failed; the subscriber reconnects", workshop_id)
        # The hub reads the log right after this returns: the subscription must be live
        # by then, or an op committed in between would reach neither. If Redis does not
        # confirm in time, the confirmation still triggers a resync when it comes.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(confirmed.wait(), 5)

    async def unsubscribe(self, workshop_id: str, listener: RoomListener) -> None:
        """Stop feeding ``listener``; drop the room's channels when it was the last."""
        listeners = self._rooms.get(workshop_id, [])
        if listener in listeners:
            listeners.remove(listener)
        if listeners:
            return
        self._rooms.pop(workshop_id, None)
        channels = [_key(workshop_id, "ops"), _key(workshop_id, "presence")]
        for channel in channels:
            self._confirmed.pop(channel, None)
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):  # a new connection forgets it anyway
                await self._pubsub.unsubscribe(*channels)

    async def publish_presence(self, workshop_id: str, payload: bytes) -> None:
        """Publish presence, best effort: it is ephemeral, and the next heartbeat repeats it."""
        try:
            await self._redis.publish(_key(workshop_id, "presence"), payload)
        except (RedisError, OSError) as exc:
            now = time.monotonic()
            if now - self._last_presence_warning > 10:
                self._last_presence_warning = now
                log.warning("presence not published in room %s: %s", workshop_id, exc)

    async def _listen_forever(self) -> None:
        """Hold one subscriber connection for the whole process, reconnecting as needed."""
        delay = 0.05
        while not self._closing:
            pubsub = self._sub_client.pubsub()
            try:
                for event in self._confirmed.values():
                    event.clear()
                channels = [HELLO_CHANNEL]
                for workshop_id in self._rooms:
                    channels += [_key(workshop_id, "ops"), _key(workshop_id, "presence")]
                await pubsub.subscribe(*channels)
                self._pubsub = pubsub
                # Rooms opened while this connection was being made sent nothing on it.
                while missed := [
                    c
                    for w in self._rooms
                    for c in (_key(w, "ops"), _key(w, "presence"))
                    if c not in channels
                ]:
                    channels += missed
                    await pubsub.subscribe(*missed)
                self.subscriptions += 1
                delay = 0.05
                await self._read(pubsub)
            except (RedisError, OSError) as exc:
                if not self._closing:
                    log.warning("Redis subscriber lost (%s); reconnecting in %.2fs", exc, delay)
            finally:
                self._pubsub = None
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            if not self._closing:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _read(self, pubsub: PubSub) -> None:
        """Dispatch messages until the connection fails or goes silent."""
        last_heard = time.monotonic()
        pinged = False
        # Checked each second: redis-py's get_message can swallow a cancellation that lands
        # while its read timeout fires, so close() cannot rely on cancelling this task.
        while not self._closing:
            message = await pubsub.get_message(timeout=1.0)
            now = time.monotonic()
            if message is not None:
                last_heard, pinged = now, False
                self._deliver(self._dispatch, message)
            elif now - last_heard > DEAD_AFTER:
                raise ConnectionError(f"no answer from Redis for {DEAD_AFTER:.0f}s")
            elif now - last_heard > PING_EVERY and not pinged:
                pinged = True  # an idle but healthy connection answers with a pong message
                await pubsub.ping()

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind not in ("message", "subscribe"):
            return
        channel = message["channel"].decode()
        workshop_id, _, part = channel.removeprefix("atelier:{").rpartition("}:")
        listeners = list(self._rooms.get(workshop_id, ()))
        if kind == "subscribe":
            event = self._confirmed.get(channel)
            if event is not None:
                event.set()
            if part == "ops":  # whatever was committed while we were not listening
                for listener in listeners:
                    self._deliver(listener.on_resync)
            return
        data: bytes = message["data"]
        if part == "ops":
            committed = Committed.from_bytes(data)
            for listener in listeners:
                self._deliver(listener.on_commit, committed)
        elif part == "presence":
            for listener in listeners:
                self._deliver(listener.on_presence, data)

    @staticmethod
    def _deliver(call: Any, *args: Any) -> None:
        # A failing room must neither stop the subscriber nor starve the other rooms.
        try:
            call(*args)
        except Exception:
            log.exception("a room failed to take a message from Redis")

    @staticmethod
    async def _call(pending: Awaitable[T]) -> T:
        try:
            return await pending
        except (RedisError, OSError) as exc:
            raise BackendError(f"Redis: {exc}") from exc
