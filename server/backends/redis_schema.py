"""The Redis store's data version, kept in the key ``atelier:schema``.

A Redis holding Atelier keys but no version is what release 0.1.0 wrote: version 1.
Version 2 changes no key (the log was already compacted on Redis) and records the
version; later versions add their steps to :data:`_STEPS`. A Redis written by a newer
Atelier is refused (:class:`~atelier.backends.sqlite_schema.SchemaError`).
"""

from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from .redis_keys import WORKSHOPS
from .sqlite_schema import SCHEMA_VERSION, SchemaError

__all__ = ["SCHEMA_KEY", "migrate"]

#: Where the version lives (outside any room's slot, like the workshop index).
SCHEMA_KEY = "atelier:schema"

#: version reached -> what reaches it from the one before (nothing to change for 2)
_STEPS: dict[int, Callable[[aioredis.Redis], Awaitable[None]]] = {}


async def migrate(redis: "aioredis.Redis") -> tuple[int, int]:
    """Bring the data in ``redis`` to :data:`SCHEMA_VERSION`; (version found, version now)."""
    raw: Any = await redis.get(SCHEMA_KEY)
    found = int(raw) if raw is not None else await _unversioned(redis)
    if found > SCHEMA_VERSION:
        raise SchemaError(
            f"this Redis holds schema version {found}, written by a newer Atelier; this one "
            f"reads up to {SCHEMA_VERSION}: upgrade Atelier, or restore a backup"
        )
    for version in range(found + 1, SCHEMA_VERSION + 1):
        step = _STEPS.get(version)
        if step is not None:
            await step(redis)
    if found != SCHEMA_VERSION:
        await redis.set(SCHEMA_KEY, SCHEMA_VERSION)
    return found, SCHEMA_VERSION


async def _unversioned(redis: "aioredis.Redis") -> int:
    """0.1.0 set no version: 1 if it left workshops here, 0 for an empty Redis."""
    return 1 if await redis.exists(WORKSHOPS) else 0
