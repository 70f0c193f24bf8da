"""The outbox: the frames a socket is handed in a row leave in one ``write()``.

On this loopback a ``write()`` costs about the same from 50 to 300 bytes (4 to 5 µs a
call, docs/benchmarks.md), and writes are most of a room's fan-out: a 200-client room at
200 ops/s makes 40,000 of them a second. A socket handed several frames in a row can take
them in one call: the frames stay whole and in order, only the syscall is shared.

So a frame pushed to an idle socket is corked (the socket's ``uncork`` writes it later)
and the socket joins its event loop's outbox, which uncorks every socket it holds:

- at the end of the loop's current turn (``call_soon``) by default. Where the store
  groups commits (SQLite waits a few milliseconds once ops come faster than one per
  10 ms from two clients or more, ``backends/linger.py``), the ops of a group are
  applied in one turn, so their events and acks leave in one write per socket; a lone
  event waits for nothing.
- after :attr:`Outbox.window` when one is set and the process is busy (its last two
  flushes were both less than :data:`BUSY_WITHIN` ago). With Redis each op reaches each
  process on its own, in turns of its own: holding frames for a few milliseconds is what
  groups them there, at the price of that delay on each frame. A quiet process still
  writes at once, the ack of an op included: it is pushed in the turn after the op's
  event was flushed, and one recent flush alone does not make a process busy.

A socket's slow-reader bound still holds: the frames its paused transport cannot take
join its backlog one by one, each counted. Corked frames were never offered to the
client, so they do not count; a socket handed a queue's worth of them in one turn (an
import) writes them then and there.
"""

import asyncio
import logging
import weakref
from typing import Protocol

__all__ = ["BUSY_WITHIN", "REDIS_WINDOW", "SENT", "Corkable", "Outbox", "outbox"]

log = logging.getLogger(__name__)

#: A process whose last two flushes were this recent is busy: a window, if set, applies.
BUSY_WITHIN = 0.02
#: The window a process on Redis uses unless told otherwise (``ATELIER_SEND_WINDOW_MS``).
REDIS_WINDOW = 0.005


class Corkable(Protocol):
    """A socket whose corked frames the outbox writes."""

    def uncork(self) -> None:
        """Write (or queue) every frame corked so far, in order."""


class _Sent:
    """Frames written by uncorked sockets, and the ``write()`` calls that took them, in
    this process (for /metrics: their ratio is the frames a write carries)."""

    __slots__ = ("frames", "writes")

    def __init__(self) -> None:
        self.frames = 0
        self.writes = 0


SENT = _Sent()


class Outbox:
    """The sockets of one event loop holding corked frames, uncorked together."""

    __slots__ = ("_flushed_at", "_flushed_before", "_handle", "_loop", "_waiting", "window")

    def __init__(self, loop: asyncio.AbstractEventLoop, window: float = 0.0) -> None:
        # weakly: the outboxes are kept per loop, and a closed loop must be freed (tests)
        self._loop = weakref.ref(loop)
        self._waiting: list[Corkable] = []
        self._handle: asyncio.Handle | None = None
        self._flushed_at = float("-inf")  # the last flush
        self._flushed_before = float("-inf")  # the one before it
        #: Seconds a busy process holds frames (0: until the end of the turn only).
        self.window = window

    def add(self, socket: Corkable) -> None:
        """``socket`` corked its first frame since it was last uncorked."""
        self._waiting.append(socket)
        loop = self._loop()
        if self._handle is None and loop is not None:
            if self.window and loop.time() - self._flushed_before < BUSY_WITHIN:
                self._handle = loop.call_later(self.window, self.flush)
            else:
                self._handle = loop.call_soon(self.flush)

    def flush(self) -> None:
        """Uncork every waiting socket now; one that fails does not stop the others."""
        if self._handle is not None:
            self._handle.cancel()  # a no-op when it is the handle running this
            self._handle = None
        waiting, self._waiting = self._waiting, []
        loop = self._loop()
        if loop is not None:
            self._flushed_before, self._flushed_at = self._flushed_at, loop.time()
        for socket in waiting:
            try:
                socket.uncork()
            except Exception:
                log.exception("a socket failed to write its frames")


_OUTBOXES: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Outbox]" = (
    weakref.WeakKeyDictionary()
)


def outbox() -> Outbox:
    """The running event loop's outbox."""
    loop = asyncio.get_running_loop()
    found = _OUTBOXES.get(loop)
    if found is None:
        found = _OUTBOXES[loop] = Outbox(loop)
    return found
