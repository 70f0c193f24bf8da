"""Scenario (d): late joiners on a big board, timed until they hold the full state.

A room is seeded with 2,000 notes through the protocol; then clients join one after
the other, each timed from the TCP connect to the moment its welcome frame is parsed
into a board mirror (what a browser needs before it can draw). The raw relay's
connect-and-welcome time, measured the same way, is the floor of that figure.
"""

import asyncio
import gc
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from .procs import Proc, create_workshop, start_relay, start_server
from .seed import seed_room
from .stats import percentiles
from .wsclient import connect

__all__ = ["JoinSpec", "run_joins"]

WELCOME_TIMEOUT = 30.0


@dataclass(frozen=True)
class JoinSpec:
    """How big the board is and how many late joiners are timed."""

    notes: int = 2000
    joins: int = 20
    columns: int = 5


async def _join_once(port: int, path: str, token: str, n: int) -> tuple[float, int]:
    welcome: asyncio.Future[tuple[float, int]] = asyncio.get_running_loop().create_future()
    started = time.monotonic()

    def on_message(data: bytes, _at: float) -> None:
        if data.startswith(b'{"type":"welcome"') and not welcome.done():
            message = orjson.loads(data)
            state = message.get("state", {"notes": [], "columns": []})
            board = {"notes": {x["id"]: x for x in state["notes"]},
                     "columns": {c["id"]: c for c in state["columns"]}}  # fmt: skip
            welcome.set_result((time.monotonic() - started, len(board["notes"])))

    client = await connect("127.0.0.1", port, path, on_message)
    join = {"type": "join", "v": 1, "token": token, "client": f"late-{n}",
            "name": f"late {n}", "since": None}  # fmt: skip
    client.send(orjson.dumps(join))
    try:
        return await asyncio.wait_for(welcome, WELCOME_TIMEOUT)
    finally:
        client.close()
        await asyncio.wait_for(client.lost, 10)


async def _joins(port: int, path: str, token: str, spec: JoinSpec) -> dict[str, Any]:
    times: list[float] = []
    notes = 0
    for n in range(spec.joins):
        with _collector_paused():
            took, notes = await _join_once(port, path, token, n)
        times.append(took)
    return {"join_ms": percentiles(times), "notes_in_state": notes}


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Time a join without this process's cyclic garbage collector, which runs between
    joins instead. Parsing a 5,000-note welcome makes some 40,000 objects; every few
    joins that set off a full collection of this process, 15 to 20 ms on the AMD machine
    in the middle of the timed parse, which is the load generator's pause, not the
    server's (a browser's ``JSON.parse`` has no such pause)."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _measure(proc: Proc, path: str, token: str, spec: JoinSpec) -> dict[str, Any]:
    before = proc.usage()
    figures = asyncio.run(_joins(proc.port, path, token, spec))
    after = proc.usage()
    return {**figures, "server_cpu_s": round(after.cpu - before.cpu, 3),
            "server_rss_mib": round(after.rss / 2**20, 1)}  # fmt: skip


def run_joins(spec: JoinSpec, *, raw: bool = True) -> dict[str, Any]:
    """Time ``spec.joins`` late joins on a board of ``spec.notes`` notes (and on the relay)."""
    line: dict[str, Any] = {**asdict(spec)}
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as tmp:
        server = start_server(Path(tmp))
        try:
            wid, secret = create_workshop(server.port, "Banc tardif")
            asyncio.run(seed_room(server.port, wid, secret, columns=spec.columns,
                                  notes=spec.notes))  # fmt: skip
            line["atelier"] = _measure(server, f"/ws/{wid}", secret, spec)
        finally:
            server.stop()
        if raw:
            relay = start_relay(Path(tmp))
            try:
                line["relay"] = _measure(relay, "/room", "-", spec)
            finally:
                relay.stop()
    return line
