"""What the reducer takes and gives: who committed an op (:class:`Context`) and who sees
which version of its resolved event (:class:`Applied`).

Pure data.
"""

from dataclasses import dataclass, field
from typing import Any

from .ops import DEFAULT_LIMITS, RoomLimits

__all__ = ["Applied", "Context", "Event"]

#: A resolved event: a JSON-ready dict told apart by its ``kind``.
Event = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Context:
    """Who committed an op, and where it sits in the log (from the committed record)."""

    author: str
    role: str = "participant"
    client: str = ""
    at: int = 0  # ms since the epoch, as the committing process stamped it
    seq: int = 0
    limits: RoomLimits = DEFAULT_LIMITS


@dataclass(slots=True)
class Applied:
    """An op's resolved event: ``event`` for everyone, except the clients in ``private``,
    who get their own version instead (``event`` is None when only they may know)."""

    event: Event | None
    private: dict[str, Event] = field(default_factory=dict)

    def for_client(self, client: str | None) -> Event | None:
        """The version of the event this client is shown, if any."""
        if client is not None and client in self.private:
            return self.private[client]
        return self.event
