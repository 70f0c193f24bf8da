"""The rooms this process serves: opened on first use, closed a while after the last peer left."""

import asyncio
import logging
from dataclasses import dataclass, field

from ..backends.base import Bus, Store
from .hub import RoomHub
from .ops import DEFAULT_LIMITS, RoomLimits

__all__ = ["RoomRegistry"]

log = logging.getLogger(__name__)


@dataclass
class _Entry:
    opening: "asyncio.Task[RoomHub]"
    users: int = 0
    closing: "asyncio.TimerHandle | None" = field(default=None, repr=False)


class RoomRegistry:
    """Hands out one :class:`RoomHub` per room, shared by every local socket of that room."""

    def __init__(
        self,
        store: Store,
        bus: Bus,
        node_id: str,
        *,
        idle_seconds: float = 30.0,
        limits: RoomLimits = DEFAULT_LIMITS,
    ) -> None:
        self._store = store
        self._bus = bus
        self._node_id = node_id
        self._limits = limits
        self._idle_seconds = idle_seconds
        self._entries: dict[str, _Entry] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._entries)

    async def acquire(self, workshop_id: str) -> RoomHub:
        """The room's hub, opened (loaded and subscribed) if it was not; call release after."""
        entry = self._entries.get(workshop_id)
        if entry is not None and _deleted(entry):
            # the workshop was deleted (and maybe imported again since): start afresh
            self._entries.pop(workshop_id)
            if entry.closing is not None:
                entry.closing.cancel()
            entry = None
        if entry is None:
            entry = _Entry(asyncio.create_task(self._open(workshop_id)))
            self._entries[workshop_id] = entry
        entry.users += 1
        if entry.closing is not None:
            entry.closing.cancel()
            entry.closing = None
        try:
            return await asyncio.shield(entry.opening)
        except BaseException:
            # this entry's user only: a fresh entry opened meanwhile keeps its own count
            if self._entries.get(workshop_id) is entry:
                self.release(workshop_id)
            raise

    def release(self, workshop_id: str, hub: RoomHub | None = None) -> None:
        """One user fewer; the room closes once it has had none for a while.

        Pass the ``hub`` acquired when a newer one may have replaced it meanwhile (the
        workshop was deleted and imported again): then a stale release changes nothing.
        """
        entry = self._entries.get(workshop_id)
        if entry is None or (hub is not None and entry.opening.done() and _hub(entry) is not hub):
            return
        entry.users -= 1
        if entry.users <= 0:
            loop = asyncio.get_running_loop()
            entry.closing = loop.call_later(self._idle_seconds, self._close_later, workshop_id)

    def hubs(self) -> list[RoomHub]:
        """The hubs open now."""
        return [hub for e in self._entries.values() if (hub := _hub(e)) is not None]

    async def close_all(self) -> None:
        """Close every room (at shutdown)."""
        for workshop_id in list(self._entries):
            await self._close(workshop_id)
        for task in list(self._closing):
            await task

    async def _open(self, workshop_id: str) -> RoomHub:
        hub = RoomHub(workshop_id, self._store, self._bus, self._node_id, limits=self._limits)
        try:
            await hub.open()
        except BaseException:
            entry = self._entries.get(workshop_id)
            if entry is not None and entry.opening is asyncio.current_task():
                self._entries.pop(workshop_id)  # only this failed opening's own entry
            raise
        return hub

    def _close_later(self, workshop_id: str) -> None:
        task = asyncio.create_task(self._close(workshop_id))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, workshop_id: str) -> None:
        entry = self._entries.pop(workshop_id, None)
        if entry is None:
            return
        if entry.closing is not None:
            entry.closing.cancel()
        try:
            hub = await entry.opening
            await hub.close()
        except Exception:
            log.exception("closing room %s failed", workshop_id)


def _hub(entry: _Entry) -> RoomHub | None:
    opening = entry.opening
    if opening.done() and not opening.cancelled() and opening.exception() is None:
        return opening.result()
    return None


def _deleted(entry: _Entry) -> bool:
    hub = _hub(entry)
    return hub is not None and hub.deleted
