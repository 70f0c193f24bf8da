"""Where rooms are kept (a Store) and how processes hear of each other (a Bus).

:func:`open_backends` picks them from the settings: SQLite and an in-process bus for
one process, or Redis for both when several processes share the rooms. Only
``redis_store``, ``redis_bus`` and ``redis_keys`` import redis.
"""

from dataclasses import dataclass
from pathlib import Path

from .base import Bus, Store

__all__ = ["Backends", "open_backends"]


@dataclass(frozen=True, slots=True)
class Backends:
    """The store and the bus one process serves its rooms from."""

    store: Store
    bus: Bus

    async def start(self) -> None:
        """Open the store, then start the bus."""
        await self.store.start()
        await self.bus.start()

    async def close(self) -> None:
        """Stop the bus, then close the store."""
        await self.bus.close()
        await self.store.close()


def open_backends(
    redis_url: str | None,
    data_dir: Path,
    *,
    keep: int = 10_000,
    min_free_bytes: int = 0,
    redis_headroom: int = 0,
) -> Backends:
    """Redis for both when a URL is given, else SQLite in ``data_dir`` and a memory bus.

    ``keep``: ops kept in a log behind its checkpoint; ``min_free_bytes`` and
    ``redis_headroom``: the floors below which new writes are refused (0: none).
    """
    if redis_url:
        from .redis_bus import RedisBus  # redis is imported only when asked for
        from .redis_store import RedisStore

        store = RedisStore(redis_url, keep=keep, min_headroom=redis_headroom)
        return Backends(store, RedisBus(redis_url))
    from .memory import MemoryBus
    from .sqlite import SqliteStore

    return Backends(SqliteStore(data_dir, keep=keep, min_free_bytes=min_free_bytes), MemoryBus())
