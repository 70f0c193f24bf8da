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
        self._calls = 0

    def __len__(self) -> int:
        return len(self._events)

    def allow(self, key: str, now: float) -> bool:
        """Record an event for ``key`` if the window has room for it."""
        if not self.limit:
            return True
        self._calls += 1
        if self._calls % 1024 == 0:
            self._forget_before(now - self.seconds)
        events = self._events[key]
        while events and now - events[0] >= self.seconds:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        return True

    def _forget_before(self, cutoff: float) -> None:
        # keys whose last event left the window: many addresses pass once, keep none
        for key in [k for k, events in self._events.items() if not events or events[-1] <= cutoff]:
            del self._events[key]


@dataclass
class Guards:
    """The per-process limits shared by every request and socket.

    ``workshops`` counts every way of getting a new workshop from one address (creating,
    importing, reopening): each gives its caller a facilitator link, so each costs
    storage and none may be used to go around the others.
    """

    connections: AddressCounter
    workshops: SlidingWindow
    qr: SlidingWindow = field(default_factory=lambda: SlidingWindow(0, 60))
    #: Short join codes looked up per address and minute: generous (a whole room behind
    #: one town-hall address may type the code), far too few to guess one.
    join_codes: SlidingWindow = field(default_factory=lambda: SlidingWindow(120, 60))

    @classmethod
    def from_limits(
        cls, connections_per_address: int, workshops_per_hour: int, qr_per_minute: int = 0
    ) -> "Guards":
        """Guards with the configured ceilings (0: no limit)."""
        return cls(
            AddressCounter(connections_per_address),
            SlidingWindow(workshops_per_hour, 3600),
            SlidingWindow(qr_per_minute, 60),
        )
