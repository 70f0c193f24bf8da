"""The worker pool: heavy jobs in other processes, bounded per key and per process."""

import asyncio
import os
import signal
import time

import pytest
from atelier.qr import qr_svg
from atelier.workers import PoolBusyError, WorkerError, WorkerPool


def nap(seconds: float) -> int:
    """A job that holds its worker (runs in the worker process: it must be importable)."""
    time.sleep(seconds)
    return os.getpid()


def die() -> None:
    """A job whose worker dies under it, as one killed by the OOM killer would."""
    os.kill(os.getpid(), signal.SIGKILL)


async def test_jobs_run_in_another_process_while_the_loop_keeps_going() -> None:
    """A job that holds its worker for a while leaves the event loop free."""
    pool = WorkerPool(workers=1)
    try:
        ticked = asyncio.Event()

        async def tick() -> None:
            await asyncio.sleep(0)
            ticked.set()

        job = asyncio.create_task(pool.run("room-a", nap, 1.0))
        await tick()
        assert ticked.is_set() and not job.done()  # the loop ran while the job held on
        assert await job != os.getpid()
        assert (await pool.run("room-a", qr_svg, "https://x.fr/w/a#k=b")).startswith(b"<svg")
        with pytest.raises(ValueError, match="http"):  # the job's own error, unchanged
            await pool.run("room-a", qr_svg, "javascript:alert(1)")
    finally:
        pool.close()


async def test_one_key_cannot_take_the_pool_and_the_line_is_bounded() -> None:
    """per_key running at once and per_key_waiting more, then 'key' refusals; other keys
    still run on the other worker; past workers + queue jobs, 'process' refusals."""
    pool = WorkerPool(workers=2, per_key=1, queue=2, per_key_waiting=1, processes=False)
    try:
        a1 = asyncio.create_task(pool.run("a", nap, 2.0))
        a2 = asyncio.create_task(pool.run("a", nap, 0.01))
        await asyncio.sleep(0)
        with pytest.raises(PoolBusyError) as refused:
            await pool.run("a", nap, 0.01)
        assert refused.value.scope == "key"
        # "a" holds one worker; "b" gets the other at once, ahead of "a"'s second job
        assert await pool.run("b", nap, 0.0)
        assert not a1.done() and not a2.done()
        c = asyncio.create_task(pool.run("c", nap, 0.01))
        await asyncio.sleep(0)
        assert pool.jobs == 3
        d = asyncio.create_task(pool.run("d", nap, 0.01))
        await asyncio.sleep(0)
        with pytest.raises(PoolBusyError) as refused:
            await pool.run("e", nap, 0.01)
        assert refused.value.scope == "process"
        await asyncio.gather(a1, a2, c, d)
        assert pool.jobs == 0
    finally:
        pool.close()


async def test_a_caller_that_goes_away_keeps_its_place_until_its_job_ends() -> None:
    """Cancelling the wait does not free the slot early: the bound counts real work."""
    pool = WorkerPool(workers=1, per_key=1, queue=0, per_key_waiting=0, processes=False)
    try:
        waiting = asyncio.create_task(pool.run("a", nap, 2.0))
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert pool.jobs == 1
        with pytest.raises(PoolBusyError):
            await pool.run("b", nap, 0.0)
        deadline = time.monotonic() + 10
        while pool.jobs and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert pool.jobs == 0 and await pool.run("b", nap, 0.0)
    finally:
        pool.close()


async def test_a_dead_worker_is_replaced() -> None:
    """A worker killed under its job: WorkerError for that job, the next one runs."""
    pool = WorkerPool(workers=1)
    try:
        with pytest.raises(WorkerError):
            await pool.run("a", die)
        assert pool.jobs == 0
        assert await pool.run("a", nap, 0.0) != os.getpid()
    finally:
        pool.close()
