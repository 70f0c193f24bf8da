"""Rate and count limits that keep one client from crowding out the others.

Pure bookkeeping: every function takes the current time, so the rules are testable
without waiting. The web layer decides what to do when a limit is hit.
"""

from collections import defaultdict, deque
from dataclasses import dataclass, field

__all__ = ["AddressCounter", "Guards", "SlidingWindow", "TokenBucket"]


@dataclass
class TokenBucket:
    """Allows ``rate`` events a second on average, in bursts of up to ``burst``."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    updated: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self, now: float) -> float:
        """Spend one token; return how long the caller should wait first (0 if none)."""
        if self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class AddressCounter:
    """Counts open connections per key (a client address, a room) against a ceiling."""

    def __init__(self, ceiling: int) -> None:
        self.ceiling = ceiling  # 0 means no limit
        self._counts: defaultdict[str, int] = defaultdict(int)

    def acquire(self, key: str) -> bool:
        """Count one more for ``key`` unless it is at the ceiling."""
        if self.ceiling and self._counts[key] >= self.ceiling:
            return False
        self._counts[key] += 1
        return True

    def release(self, key: str) -> None:
        """Count one fewer for ``key``."""
        self._counts[key] -= 1
        if self._counts[key] <= 0:
            del self._counts[key]


class SlidingWindow:
    """Allows ``limit`` events per key within any ``seconds``-long window."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit  # 0 means no limit
        self.seconds = seconds
        self._events: defaultdict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str, now: float) -> bool:
        """Record an event for ``key`` if the window has room for it."""
        if not self.limit:
            return True
        events = self._events[key]
        while events and now - events[0] >= self.seconds:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        return True


@dataclass
class Guards:
    """The per-process limits shared by every request and socket."""

    connections: AddressCounter
    workshops: SlidingWindow

    @classmethod
    def from_limits(cls, connections_per_address: int, workshops_per_hour: int) -> "Guards":
        """Guards with the configured ceilings."""
        return cls(AddressCounter(connections_per_address), SlidingWindow(workshops_per_hour, 3600))
