"""What the abuse benchmark (``python -m bench scenario abuse``, docs/security.md) found
missing, each checked here: heavy work in loops took the CPU from the event loop, a
refusal asked again at once cost the loop as much as thousands a second, and a refused
export had already built its view of the board on the loop."""

import asyncio
import os
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from atelier.backends.base import WorkshopMeta
from atelier.flow_api import FlowApi
from atelier.http_errors import REFUSAL_DELAY
from atelier.rooms.model import Board
from atelier.rooms.ops import DEFAULT_LIMITS
from atelier.workers import PoolBusyError, WorkerPool

from .support import ServerProcess
from .test_workers import nap


async def test_workers_run_at_a_lower_cpu_priority_than_the_server() -> None:
    """Worker processes are niced (ATELIER_WORKER_NICE, 10 by default): exports in a
    loop and QR codes asked from many addresses took their fair share of both cores from
    the event loop every room waits on. ``nice=0`` keeps the server's priority."""
    mine = os.nice(0)
    for nice, expected in ((None, min(19, mine + 10)), (0, mine)):
        pool = WorkerPool(workers=1) if nice is None else WorkerPool(workers=1, nice=nice)
        try:
            assert await pool.run("a", os.nice, 0) == expected
        finally:
            pool.close()


def test_a_refusal_asked_again_at_once_is_slowed(tmp_path: Path) -> None:
    """A client that asks for QR codes in a loop on one connection, past its budget, gets
    its 429s (unchanged) no faster than one per REFUSAL_DELAY: 4,700 refusals a second
    from one address took 0.8 core of the event loop before."""
    server = ServerProcess(tmp_path / "data", env={"ATELIER_QR_PER_MINUTE": "1"}).start()
    try:
        link = {"link": f"{server.base}/w/abc#k=" + "x" * 32}
        with httpx.Client(base_url=server.base, timeout=10) as client:
            assert client.post("/api/qr", json=link).status_code == 200
            started = time.monotonic()
            refused = [client.post("/api/qr", json=link) for _ in range(3)]
            took = time.monotonic() - started
        assert [r.status_code for r in refused] == [429, 429, 429]
        assert refused[0].json()["error"] == "rate_limited"
        assert refused[0].headers["retry-after"] == "60"
        assert took >= 3 * REFUSAL_DELAY * 0.9
    finally:
        server.stop()


class _CountingRooms:
    """A registry stub: how often a board was taken to build a view."""

    def __init__(self) -> None:
        self.acquired = 0
        board = Board.new(4)
        self.hub = SimpleNamespace(board=board, public_view=board.to_dict)

    async def acquire(self, workshop_id: str) -> Any:
        self.acquired += 1
        return self.hub

    def release(self, workshop_id: str) -> None:
        pass


async def test_an_export_refused_by_the_pool_builds_no_view_of_the_board() -> None:
    """The workshop's line in the pool is full: the export is refused (429 busy) before
    its board is taken and viewed (milliseconds of the loop for 5,000 notes; sixteen
    export loops held the loop for seconds). Once the line has room, it is served."""
    pool = WorkerPool(workers=1, per_key=1, per_key_waiting=0, processes=False)
    rooms = _CountingRooms()
    flow = FlowApi(None, rooms, limits=DEFAULT_LIMITS, workers=pool)  # type: ignore[arg-type]
    meta = WorkshopMeta("w", "Atelier", "", 1, {})
    holder = asyncio.create_task(pool.run("w", nap, 0.5))
    await asyncio.sleep(0)
    with pytest.raises(PoolBusyError) as refused:
        await flow.export(meta, "facilitator", "md", None, "http://x")
    assert refused.value.scope == "key" and rooms.acquired == 0
    await holder
    reply = await flow.export(meta, "facilitator", "md", None, "http://x")
    assert reply.status == 200 and reply.body and rooms.acquired == 1
    assert pool.jobs == 0  # the place went back with the job


async def test_a_place_left_unused_goes_back_to_the_line() -> None:
    """``admit`` takes a place at once (or refuses); a place whose job never runs (a
    404 found while making its arguments) is given back when its block ends."""
    pool = WorkerPool(workers=1, per_key=1, per_key_waiting=0, processes=False)
    with pool.admit("w"):
        assert pool.jobs == 1
        with pytest.raises(PoolBusyError):
            pool.admit("w")
    assert pool.jobs == 0
    with pool.admit("w") as place:
        assert await place.run(nap, 0.0)
        with pytest.raises(RuntimeError, match="one job"):
            await place.run(nap, 0.0)
    assert pool.jobs == 0
