"""When the SQLite store writes a batch of commits: at once, or after a short linger.

Every commit that arrives while a transaction is being written joins the next one, but
that alone rarely groups: an fsync takes a fraction of a millisecond, less than the gap
between two ops until the rate passes a few thousand a second. Waiting a little before
writing lets more ops share the fsync and the thread hand-off, and lets the events of
one batch reach each socket in one write (``atelier.outbox``).

Waiting only pays when someone else may commit meanwhile. A socket has one commit in
flight at a time (the ops it sends meanwhile wait, and go together in its next one:
``atelier.op_pipeline``), so a batch can never hold more commits than there are clients
committing, and a lone client (an outbox replayed after a
reconnect) would only be slowed down by every wait. Like PostgreSQL's ``commit_delay``,
which waits only when ``commit_siblings`` other transactions are open, a batch waits:

- only while commits arrive less than :data:`LINGER_BELOW` apart on average (above 100
  ops a second) and at least two clients committed in the last :data:`ACTIVE_FOR`;
- at most :data:`LINGER`, and no longer than it takes for as many commits as there are
  such clients (at most :data:`LINGER_ENOUGH`) to be queued.

Durability is the store's business and unchanged: a commit is answered only after the
COMMIT of its transaction returned.
"""

import asyncio
from collections.abc import Iterable

__all__ = ["ACTIVE_FOR", "LINGER", "LINGER_BELOW", "LINGER_ENOUGH", "Linger"]

#: The longest a batch waits for more commits.
LINGER = 0.005
#: A batch waits only while commits arrive less than this far apart on average.
LINGER_BELOW = 0.010
#: ...and stops waiting once this many commits are queued, whoever sent them.
LINGER_ENOUGH = 32
#: A client that committed this recently may send another commit during a wait.
ACTIVE_FOR = 0.1
#: The weight of the newest gap between two commits in their moving average.
GAP_WEIGHT = 0.1


class Linger:
    """The wait before each batch, from the commits seen so far (the loop's clock)."""

    def __init__(self) -> None:
        self._arrived = 0.0  # when the last commit arrived
        self._gap = 1.0  # the average gap between commits, seconds (moving average)
        self._active: dict[str, float] = {}  # client -> when it last committed
        self._pruned = 0.0
        self._full: asyncio.Future[None] | None = None  # resolved when a wait may end
        self._enough = 0

    def arrived(self, now: float, clients: Iterable[str], queued: int) -> None:
        """A commit from ``clients`` joined the queue, which now holds ``queued``."""
        self._gap += GAP_WEIGHT * (min(now - self._arrived, 1.0) - self._gap)
        self._arrived = now
        for client in clients:
            self._active[client] = now
        full = self._full
        if full is not None and queued >= self._enough and not full.done():
            full.set_result(None)

    def enough(self, now: float) -> int:
        """How many queued commits end a wait; 0 when the next batch should not wait."""
        if now - self._pruned >= ACTIVE_FOR:  # first: a quiet server forgets its clients too
            self._active = {c: t for c, t in self._active.items() if now - t < ACTIVE_FOR}
            self._pruned = now
        if self._gap >= LINGER_BELOW:
            return 0
        active = len(self._active)
        return min(active, LINGER_ENOUGH) if active >= 2 else 0

    async def wait(self, queued: int) -> None:
        """Wait before writing a batch of ``queued`` commits, if waiting may group more."""
        loop = asyncio.get_running_loop()
        enough = self.enough(loop.time())
        if queued >= enough:  # also when enough is 0: no wait
            return
        self._enough = enough
        full = self._full = loop.create_future()
        timer = loop.call_later(LINGER, _resolve, full)
        try:
            await full
        finally:
            timer.cancel()
            self._full = None

    def cut_short(self) -> None:
        """End the wait under way, if any: its batch was started without it."""
        full = self._full
        if full is not None and not full.done():
            full.set_result(None)


def _resolve(future: "asyncio.Future[None]") -> None:
    if not future.done():
        future.set_result(None)
