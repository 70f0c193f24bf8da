"""One socket's ops on their way to the store: read on while earlier ones commit.

A browser sends each op as soon as it is made, without waiting for its ack, and sends
its whole outbox again when it reconnects (``web/socket.js``). When the socket read
its next op only once the last one was answered, each op of a socket waited for a
commit of its own: a phone back on the Wi-Fi with forty offline edits waited for forty
transactions in a row, and a socket sending faster than one commit cycle fell further
behind with every op.

Here the socket goes on reading while a commit is under way. The ops it reads
meanwhile wait together, and go to the store in one ``commit_many`` once that commit
returns: one transaction (SQLite), one round trip (Redis), in the order they were
sent, on every store. They are answered in that order too. Durability is unchanged:
an op is answered only after the store committed it. At most ``limit`` ops wait:
beyond that the socket stops reading (:meth:`OpPipeline.room`), and the sender's
further ops back up into its own TCP buffers, as before.

Once the socket is told to go (its link replaced, too slow, the store failing: the
``gone`` predicate) nothing more of it reaches the store: the ops waiting are
dropped, and so is any op read after them, so the log never holds a later op of the
socket without the earlier ones. The client still has them all in its outbox.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from .backends.base import StorageFullError
from .records import CommitResult, OpRecord

__all__ = ["OpPipeline"]

M = TypeVar("M")  # what the socket keeps of each op to answer it (its message)
Committing = Awaitable[list[CommitResult]]


class OpPipeline(Generic[M]):
    """The ops a socket read and has not yet answered, committed in order, in batches."""

    __slots__ = ("_answer", "_failed", "_gone", "_limit", "_refuse", "_running",
                 "_settled", "_submit", "_taken", "_waiting")  # fmt: skip

    def __init__(
        self,
        submit: Callable[[list[OpRecord]], Committing],
        answer: Callable[[M, CommitResult], Awaitable[None]],
        refuse: Callable[[M, StorageFullError], None],
        failed: Callable[[BaseException], None],
        gone: Callable[[], bool],
        limit: int,
    ) -> None:
        # hands records to the store now, in order; awaiting gives one result each
        self._submit = submit
        self._answer = answer  # answers one committed op (awaits its outcome)
        self._refuse = refuse  # answers an op the store refused for want of space
        self._failed = failed  # told when the store failed: the socket must close
        self._gone = gone  # True once the socket was told to go: commit nothing more
        self._limit = limit
        self._waiting: list[tuple[OpRecord, M]] = []
        self._running: asyncio.Task[None] | None = None
        self._taken: asyncio.Future[None] | None = None  # resolved when a batch is taken
        self._settled: asyncio.Future[None] | None = None  # resolved when all is answered

    def add(self, record: OpRecord, message: M) -> None:
        """Commit ``record`` after every op added before it; answer it in that order.

        With no commit under way it goes to the store here and now, in the step that
        read it: queued one turn later, it would miss a group commit it could join."""
        if self._gone():
            return
        self._waiting.append((record, message))
        if self._running is None:
            batch, committing = self._take()
            self._running = asyncio.create_task(self._run(batch, committing))

    async def room(self) -> None:
        """Return once fewer than ``limit`` ops wait for a commit to start."""
        while len(self._waiting) >= self._limit:
            if self._taken is None:
                self._taken = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._taken)

    async def settled(self) -> None:
        """Return once every op added so far was answered (or dropped)."""
        if self._running is None:
            return
        if self._settled is None:
            self._settled = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._settled)

    def drop_waiting(self) -> None:
        """Forget the ops no commit has taken yet (the socket is gone, or going)."""
        self._waiting = []
        self._wake_readers()

    def _take(self) -> tuple[list[tuple[OpRecord, M]], Committing]:
        """Hand every waiting op to the store, in one commit."""
        batch, self._waiting = self._waiting, []
        self._wake_readers()
        records = [record for record, _ in batch]
        try:
            return batch, self._submit(records)
        except Exception as error:  # answered like a failed commit, by the task
            failed: asyncio.Future[list[CommitResult]] = asyncio.get_running_loop().create_future()
            failed.set_exception(error)
            return batch, failed

    async def _run(self, batch: list[tuple[OpRecord, M]], taken: Committing) -> None:
        pending: Committing | None = taken  # handed to the store, not yet awaited
        try:
            while pending is not None:
                committing, pending = pending, None
                try:
                    results: list[CommitResult] | None = await committing
                except StorageFullError as full:  # refused, not lost: each op is told why
                    results = None
                    for _, message in batch:
                        self._refuse(message, full)
                answered = batch
                if self._gone():
                    self.drop_waiting()
                elif self._waiting:  # this commit returned: the next may start at once
                    batch, pending = self._take()
                for (_, message), result in zip(answered, results or (), strict=False):
                    await self._answer(message, result)  # (results: None, or one per op)
                if pending is None and self._waiting and not self._gone():
                    batch, pending = self._take()  # ops read while it was answered
        except Exception as error:  # the socket closes; its client resends what is unanswered
            self.drop_waiting()
            self._failed(error)
            if pending is not None:  # it is the store's already: let it finish, unanswered
                with contextlib.suppress(Exception):
                    await pending
        except asyncio.CancelledError:
            self.drop_waiting()
            raise
        finally:
            self._running = None
            if self._settled is not None and not self._settled.done():
                self._settled.set_result(None)
            self._settled = None

    def _wake_readers(self) -> None:
        if self._taken is not None and not self._taken.done():
            self._taken.set_result(None)
        self._taken = None
