"""A bounded pool of worker processes for heavy work, so that no room waits on it.

Drawing a QR code takes about 90 ms of pure Python, and an ODT export of a large board
seconds: run on the event loop, either stalls every room of the process. Run in a
thread, it still holds the GIL the loop needs. So they run in worker processes:

    pool = WorkerPool(workers=2, per_key=1, queue=32, per_key_waiting=8)
    svg = await pool.run(address, qr_svg, link)            # key: who asks
    data = await pool.run(workshop_id, exporter, document)  # key: which workshop

``run(key, fn, *args)`` returns ``fn(*args)`` computed in a worker. At most ``workers``
jobs run at once in the process, and at most ``per_key`` of one key (a workshop, an
address): one workshop exporting in a loop leaves the other workers to everyone else.
The others wait their turn, in order. It raises, at once and without queueing:

- :class:`PoolBusyError` with ``scope == "key"`` when ``key`` already has ``per_key +
  per_key_waiting`` jobs running or waiting, and with ``scope == "process"`` when the
  process has ``workers + queue`` (the line is full: try again in a moment);
- :class:`WorkerError` when the worker died under the job (it is replaced);
- whatever ``fn`` raised, unchanged.

``fn`` and ``args`` cross to another process: ``fn`` must be a module-level function
and its arguments plain data (they are pickled). A caller that goes away (a closed
connection) keeps its place until its job ends, so the bounds hold. The worker
processes are started on first use (``spawn``: nothing of the server's threads or
sockets is inherited) and stopped by :meth:`WorkerPool.close`.
"""

import asyncio
import functools
import multiprocessing
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Literal, TypeVar

from .metrics import WORKER_JOBS, WORKER_REFUSALS

__all__ = ["PoolBusyError", "WorkerError", "WorkerPool"]

T = TypeVar("T")


class PoolBusyError(Exception):
    """Too many jobs already, for this key or for the whole process."""

    def __init__(self, scope: Literal["key", "process"]) -> None:
        super().__init__(f"too many heavy jobs under way ({scope})")
        self.scope = scope


class WorkerError(Exception):
    """The worker process running the job died (it has been replaced)."""


class WorkerPool:
    """Heavy jobs in ``workers`` processes, ``per_key`` at once per key, bounded lines."""

    def __init__(
        self,
        workers: int,
        per_key: int = 1,
        queue: int = 32,
        per_key_waiting: int = 8,
        *,
        processes: bool = True,
    ) -> None:
        self.workers = max(1, workers)
        self.per_key = max(1, per_key)
        self.queue = max(0, queue)
        self.per_key_waiting = max(0, per_key_waiting)
        self.processes = processes  # False: threads, for callables that cannot be pickled
        self._executor: Executor | None = None
        self._slots: asyncio.Semaphore | None = None
        self._key_slots: dict[str, asyncio.Semaphore] = {}
        self._by_key: Counter[str] = Counter()
        self._jobs = 0

    @property
    def jobs(self) -> int:
        """Jobs running or waiting now."""
        return self._jobs

    async def run(self, key: str, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` computed in a worker; see the module's docstring for refusals."""
        self._admit(key)
        held: list[asyncio.Semaphore] = []
        try:
            if self._slots is None:
                self._slots = asyncio.Semaphore(self.workers)
            # this key's turn first, then a worker: a busy key waits in its own line
            for slots in (self._key_slots.setdefault(key, asyncio.Semaphore(self.per_key)),
                          self._slots):  # fmt: skip
                await slots.acquire()
                held.append(slots)
            future = asyncio.get_running_loop().run_in_executor(
                self._pool(), functools.partial(fn, *args)
            )
        except BaseException:
            self._release(key, held)
            raise
        future.add_done_callback(functools.partial(self._done, key, held))
        try:
            # shielded: a caller that goes away leaves the job to end, holding its place
            return await asyncio.shield(future)
        except BrokenProcessPool as error:
            self._reset()
            raise WorkerError("a worker process died while running the job") from error

    def close(self) -> None:
        """Stop the workers (jobs still running are abandoned)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _admit(self, key: str) -> None:
        if self._by_key[key] >= self.per_key + self.per_key_waiting:
            WORKER_REFUSALS.labels("key").inc()
            raise PoolBusyError("key")
        if self._jobs >= self.workers + self.queue:
            WORKER_REFUSALS.labels("process").inc()
            raise PoolBusyError("process")
        self._by_key[key] += 1
        self._jobs += 1
        WORKER_JOBS.inc()

    def _release(self, key: str, held: list[asyncio.Semaphore]) -> None:
        for slots in held:
            slots.release()
        self._by_key[key] -= 1
        if self._by_key[key] <= 0:  # nobody holds or awaits its semaphore any more
            del self._by_key[key]
            self._key_slots.pop(key, None)
        self._jobs -= 1
        WORKER_JOBS.dec()

    def _done(self, key: str, held: list[asyncio.Semaphore], future: "asyncio.Future[Any]") -> None:
        self._release(key, held)
        if not future.cancelled():
            future.exception()  # retrieved here too: a caller gone away never reads it

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.processes:
                context = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(self.workers, mp_context=context)
            else:
                self._executor = ThreadPoolExecutor(self.workers, "atelier-worker")
        return self._executor

    def _reset(self) -> None:
        broken, self._executor = self._executor, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)
