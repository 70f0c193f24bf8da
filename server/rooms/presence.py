"""Who is in a room, across processes: each process announces its own peers, every
process merges the announcements. Pure bookkeeping; the hub owns the timers.

Presence is ephemeral: it travels on the bus only, is never logged, and a process that
has not announced itself for :data:`ROSTER_EXPIRY` seconds has left the room.
"""

from typing import Any

import orjson

from .messages import PresenceMessage, User

__all__ = ["ROSTER_EXPIRY", "ROSTER_HEARTBEAT", "Roster", "parse_presence", "presence_payload"]

ROSTER_HEARTBEAT = 10.0  # seconds between two announcements of one process's peers
ROSTER_EXPIRY = 35.0  # a process silent this long has left the room


class Roster:
    """The users each process of a room announced, and when."""

    def __init__(self) -> None:
        self._nodes: dict[str, tuple[float, list[User]]] = {}

    def update(self, node: str, users: list[User], now: float) -> bool:
        """Take ``node``'s announcement; whether this node is new to this roster."""
        new = node not in self._nodes
        self._nodes[node] = (now, users)
        return new

    def expire(self, now: float) -> bool:
        """Forget the processes silent for too long; whether any was forgotten."""
        stale = [n for n, (at, _) in self._nodes.items() if now - at > ROSTER_EXPIRY]
        for node in stale:
            del self._nodes[node]
        return bool(stale)

    def message(self) -> PresenceMessage:
        """Everyone present, in a stable order."""
        users = [u for _, roster in self._nodes.values() for u in roster]
        users.sort(key=lambda u: (u.get("name", ""), u.get("sid", "")))
        return {"type": "presence", "users": users}


def presence_payload(node: str, **fields: Any) -> bytes:
    """A bus message from ``node``: ``users=[…]``, ``drag={…}`` or ``revoke=role``."""
    return orjson.dumps({"node": node, **fields})


def parse_presence(payload: bytes) -> dict[str, Any]:
    """A bus message read back; ValueError when it is not one."""
    try:
        message = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("node"), str):
        raise ValueError("no 'node'")
    return message
