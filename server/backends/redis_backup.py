"""Backing up and restoring Atelier's keys in Redis, with Redis's own DUMP and RESTORE.

Copying ``dump.rdb`` into a Redis started with the shipped config restores nothing: with
AOF on, Redis starts from its (empty) AOF and ignores the RDB file. This backup goes
through commands instead, so it needs no access to Redis's files and restores into any
Redis, AOF on or off:

- each room is read under WATCH of its ``seq`` key, its keys DUMPed in one MULTI: if an
  op is committed meanwhile the room is read again, so each room is a consistent
  snapshot (its log, checkpoint, dedupe and snapshots agree);
- the file (written 0600 by ``atelier backup``) holds one JSON object per line: a
  header, then ``{"key", "dump"}`` with both in base64 (a DUMP payload carries
  Redis's RDB version: restore into the same or a newer Redis);
- restoring RESTOREs every key with its remaining lifetime (a join code expires as it
  would have); a Redis holding Atelier keys is refused, unless asked to replace them: then
  every Atelier key there is deleted first (the backup is the whole state); migrations
  run when a server starts.
"""

import base64
import time
from collections import defaultdict
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError, WatchError

from .base import BackendError
from .redis_schema import SCHEMA_KEY
from .sqlite_schema import SCHEMA_VERSION

__all__ = ["FORMAT", "backup_redis", "restore_redis"]

FORMAT = "atelier-redis-backup/1"


async def backup_redis(url: str) -> tuple[bytes, int]:
    """Every Atelier key of the Redis at ``url``, as a backup file's bytes; and how many."""
    client = aioredis.Redis.from_url(url, socket_timeout=30)
    try:
        rooms: defaultdict[str, list[bytes]] = defaultdict(list)
        loose: list[bytes] = []
        async for key in client.scan_iter(match="atelier:*", count=1000):
            name = key.decode()
            if name.startswith("atelier:{"):
                rooms[name[len("atelier:{") : name.index("}")]].append(key)
            else:
                loose.append(key)
        entries: list[Entry] = []
        for workshop_id in sorted(rooms):
            entries += await _dump_room(client, workshop_id)
        entries += await _dump(client, loose)
        version: Any = await client.get(SCHEMA_KEY)
    except RedisError as error:
        raise BackendError(f"Redis: {error}") from error
    finally:
        await client.aclose()
    header = {"format": FORMAT, "schema": int(version or 1), "created": int(time.time() * 1000),
              "keys": len(entries)}  # fmt: skip
    lines = [orjson.dumps(header)]
    for key, dump, ttl in entries:
        line = {"key": base64.b64encode(key).decode(), "dump": base64.b64encode(dump).decode(),
                "ttl": ttl}  # fmt: skip
        lines.append(orjson.dumps(line))
    return b"\n".join(lines) + b"\n", len(entries)


Entry = tuple[bytes, bytes, int]  # a key, its DUMP, its remaining lifetime in ms (0: none)


async def _dump_room(client: "aioredis.Redis", workshop_id: str) -> list[Entry]:
    """A room's keys, their DUMPs and lifetimes, read as one consistent snapshot."""
    seq_key = f"atelier:{{{workshop_id}}}:seq"
    while True:
        async with client.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(seq_key)
                keys = [k async for k in pipe.scan_iter(match=f"atelier:{{{workshop_id}}}:*")]
                pipe.multi()  # type: ignore[no-untyped-call]
                for key in keys:
                    pipe.dump(key)
                    pipe.pttl(key)
                replies: list[Any] = await pipe.execute()
            except WatchError:
                continue  # an op was committed meanwhile: read the room again
        return _entries(keys, replies)


async def _dump(client: "aioredis.Redis", keys: list[bytes]) -> list[Entry]:
    async with client.pipeline(transaction=True) as pipe:
        for key in keys:
            pipe.dump(key)
            pipe.pttl(key)
        return _entries(keys, list(await pipe.execute()))


def _entries(keys: list[bytes], replies: list[Any]) -> list[Entry]:
    """(key, DUMP, lifetime) from a pipeline of DUMP and PTTL pairs; gone keys left out."""
    found = []
    for key, dump, ttl in zip(keys, replies[::2], replies[1::2], strict=True):
        if dump is not None:
            found.append((key, dump, max(0, int(ttl))))  # -1: no expiry
    return found


async def restore_redis(backup: bytes, url: str, *, replace: bool = False) -> int:
    """RESTORE a backup's keys (the file's bytes) into the Redis at ``url``; how many."""
    lines = backup.splitlines()
    try:
        header = orjson.loads(lines[0]) if lines else {}
    except orjson.JSONDecodeError:
        header = {}
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackendError(f"not an Atelier Redis backup ({FORMAT})")
    if int(header.get("schema", 0)) > SCHEMA_VERSION:
        raise BackendError(f"the backup has schema {header['schema']}, newer than this Atelier's")
    client = aioredis.Redis.from_url(url, socket_timeout=30)
    try:
        held = [k async for k in client.scan_iter(match="atelier:*", count=1000)]
        if held and not replace:
            raise BackendError("this Redis holds Atelier data already; pass --replace")
        for start in range(0, len(held), 500):  # the backup is the whole state: nothing else
            await client.delete(*held[start : start + 500])
        count = 0
        async with client.pipeline(transaction=False) as pipe:
            for raw in lines[1:]:
                entry = orjson.loads(raw)
                key, dump = base64.b64decode(entry["key"]), base64.b64decode(entry["dump"])
                pipe.restore(key, int(entry.get("ttl", 0)), dump, replace=True)
                count += 1
                if count % 500 == 0:
                    await pipe.execute()
            await pipe.execute()
    except RedisError as error:
        raise BackendError(f"Redis: {error}") from error
    finally:
        await client.aclose()
    return count
