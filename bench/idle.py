"""Scenario (e): many idle connections on one process, and the memory each one costs.

Clients connect (from worker processes), join and then stay silent. The server's
resident memory is read before any connection and again once every client has
joined and the room traffic of the joins has settled; the difference divided by the
number of connections is the memory per idle connection. The raw relay, measured the
same way in the same run, is the floor.
"""

import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .load import join_workers, recv, spawn_workers
from .procs import Proc, create_workshop, raise_nofile, start_relay, start_server
from .worker import ClientPlan, WorkerPlan

__all__ = ["IdleSpec", "run_idle"]

SETTLE_MAX = 60.0  # seconds to wait for the server to go quiet after the joins


@dataclass(frozen=True)
class IdleSpec:
    """How many idle connections, in how many rooms, from how many workers."""

    connections: int = 5000
    rooms: int = 50
    workers: int = 2


def _settle(proc: Proc) -> float:
    """Wait until the server burns under 2 % of a core over half a second; return the wait."""
    started = time.monotonic()
    last = proc.usage().cpu
    while time.monotonic() - started < SETTLE_MAX:
        time.sleep(0.5)
        now = proc.usage().cpu
        if now - last < 0.01:
            break
        last = now
    return time.monotonic() - started


def _measure(
    proc: Proc, rooms: list[tuple[str, str]], spec: IdleSpec, target: str
) -> dict[str, Any]:
    plans: list[list[ClientPlan]] = [[] for _ in range(spec.workers)]
    for i in range(spec.connections):
        wid, secret = rooms[i % len(rooms)]
        path = f"/ws/{wid}" if target == "atelier" else f"/{wid}"
        plans[i % spec.workers].append(
            ClientPlan(
                gidx=i, room=i % len(rooms), port=proc.port, path=path, token=secret, note=None
            )
        )
    _settle(proc)
    before = proc.usage()
    pipes, workers = spawn_workers([WorkerPlan(target, p, ["c0"], 0.0) for p in plans])
    try:
        ready = [recv(p, 600, "connected") for p in pipes]
        settled = _settle(proc)
        after = proc.usage()
        for pipe in pipes:
            pipe.send(("go", time.monotonic()))
        for pipe in pipes:
            recv(pipe, 60, "done")
            pipe.send(("drain",))
        for pipe in pipes:
            recv(pipe, 60, "drained")
            pipe.send(("close",))
    finally:
        join_workers(workers)
    connected = sum(r[1] for r in ready)
    grown = after.rss - before.rss
    return {
        "connected": connected,
        "connect_failed": sum(r[2] for r in ready),
        "connect_s": round(max(r[3] for r in ready), 2),
        "settle_s": round(settled, 2),
        "rss_before_mib": round(before.rss / 2**20, 1),
        "rss_after_mib": round(after.rss / 2**20, 1),
        "kib_per_connection": round(grown / 1024 / connected, 2) if connected else None,
        "server_cpu_s_for_joins": round(after.cpu - before.cpu, 3),
    }


def run_idle(spec: IdleSpec, *, raw: bool = True) -> dict[str, Any]:
    """Hold ``spec.connections`` idle sockets on one Atelier process (and on the relay)."""
    raise_nofile(spec.connections + 1024)
    line: dict[str, Any] = {**asdict(spec)}
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as tmp:
        server = start_server(Path(tmp))
        try:
            rooms = [create_workshop(server.port, f"Veille {r}") for r in range(spec.rooms)]
            line["atelier"] = _measure(server, rooms, spec, "atelier")
        finally:
            server.stop()
        if raw:
            relay = start_relay(Path(tmp))
            try:
                relay_rooms = [(f"room{r}", "-") for r in range(spec.rooms)]
                line["relay"] = _measure(relay, relay_rooms, spec, "relay")
            finally:
                relay.stop()
    return line
