"""The in-process bus: one process serves every room, so its hubs hear each other here.

Commits need no doorbell in one process (the committing hub applies its own op at
once); presence and revocations are handed to the room's listeners synchronously.
"""

from collections import defaultdict

from .base import RoomListener

__all__ = ["MemoryBus"]


class MemoryBus:
    """A :class:`~atelier.backends.base.Bus` inside one process."""

    def __init__(self) -> None:
        self._listeners: defaultdict[str, list[RoomListener]] = defaultdict(list)

    async def start(self) -> None:
        """Nothing to connect to."""

    async def close(self) -> None:
        """Forget every listener."""
        self._listeners.clear()

    async def subscribe(self, workshop_id: str, listener: RoomListener) -> None:
        """Hand ``listener`` the room's presence from now on."""
        self._listeners[workshop_id].append(listener)

    async def unsubscribe(self, workshop_id: str, listener: RoomListener) -> None:
        """Stop feeding ``listener``."""
        listeners = self._listeners.get(workshop_id, [])
        if listener in listeners:
            listeners.remove(listener)
        if not listeners:
            self._listeners.pop(workshop_id, None)

    async def publish_presence(self, workshop_id: str, payload: bytes) -> None:
        """Hand ``payload`` to every listener of the room, now."""
        for listener in list(self._listeners.get(workshop_id, [])):
            listener.on_presence(payload)
