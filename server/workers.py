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
sockets is inherited), run at a lower CPU priority than the server (``nice``: the event
loop comes first), and are stopped by :meth:`WorkerPool.close`.
"""

import asyncio
import functools
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Literal, TypeVar

from .metrics import WORKER_JOBS, WORKER_REFUSALS

__all__ = ["Place", "PoolBusyError", "WorkerError", "WorkerPool"]

T = TypeVar("T")

#: How much lower the worker processes' CPU priority is than the server's (a nice
#: increment). With as many workers as cores, heavy jobs in a loop would otherwise take
#: their fair half of the CPU from the event loop that every room waits on; niced, they
#: get what the loop leaves (measured by ``python -m bench scenario abuse``).
NICE = 10


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
        nice: int = NICE,
    ) -> None:
        self.workers = max(1, workers)
        self.nice = max(0, nice)
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
        with self.admit(key) as place:
            return await place.run(fn, *args)

    def admit(self, key: str) -> "Place":
        """A place in ``key``'s line, taken at once (or :class:`PoolBusyError`), for a job
        whose arguments take work to make (a board's view): a refused request then costs
        nothing but its refusal. Use it as ``with pool.admit(key) as place: ... await
        place.run(fn, *args)``; a place left unused is given back at the block's end."""
        self._admit(key)
        return Place(self, key)

    async def _run_admitted(self, key: str, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
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
                self._executor = ProcessPoolExecutor(
                    self.workers, mp_context=context, initializer=os.nice, initargs=(self.nice,)
                )
            else:
                self._executor = ThreadPoolExecutor(self.workers, "atelier-worker")
        return self._executor

    def _reset(self) -> None:
        broken, self._executor = self._executor, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)


class Place:
    """One job's place in a :class:`WorkerPool`'s line (:meth:`WorkerPool.admit`): held
    until the job it runs (:meth:`run`) ends, or given back unused when the ``with`` ends."""

    def __init__(self, pool: WorkerPool, key: str) -> None:
        self._pool = pool
        self._key = key
        self._used = False

    def __enter__(self) -> "Place":
        return self

    def __exit__(self, *_: object) -> None:
        if not self._used:  # never ran: the place goes back to the line
            self._used = True
            self._pool._release(self._key, [])

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` computed in a worker, in this place (one job per place)."""
        if self._used:
            raise RuntimeError("A place in the pool runs one job.")
        self._used = True
        return await self._pool._run_admitted(self._key, fn, args)
