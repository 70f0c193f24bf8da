"""The load generator: N clients in each of M rooms, spread over P server processes,
K of them per room making real board ops at a total rate R; one JSON line per run.

It runs as its own process (plus worker processes when one cannot drive the load),
starts the servers it measures as real subprocesses, and reads their CPU time and
memory from ``/proc`` between the common start and the end of the drain. With
``--compare-raw`` the same load then runs against the raw relay (``bench/relay.py``)
in the same run, and the ratios are printed alongside.
"""

import asyncio
import math
import multiprocessing
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from .procs import (
    CLOCK_TICKS,
    YJS,
    Proc,
    Workshop,
    new_workshop,
    raise_nofile,
    start_redis,
    start_relay,
    start_server,
    start_yjs,
    yjs_ready,
)
from .profile import Profiler
from .seed import column_ids, note_id, seed_room
from .stats import aggregate, percentiles
from .worker import KEY_SPAN, REDIS_RELAY, ClientPlan, WorkerPlan, worker_main

__all__ = ["BASELINES", "REDIS_RELAY", "LoadSpec", "baselines", "compare", "join_workers",
           "recv", "run_load", "spawn_workers"]  # fmt: skip

#: What Atelier is compared with: the raw relay (bench/relay.py), the floor on this stack,
#: and the Node.js y-websocket server (bench/yjs/), what a team picking Yjs would run.
BASELINES = ("relay", "yjs")

READY_TIMEOUT = 300.0


@dataclass(frozen=True)
class LoadSpec:
    """The shape of one load."""

    clients: int = 10  # per room
    rooms: int = 1
    active: int = 2  # clients per room that send ops
    rate: float = 10.0  # ops per second, all rooms together
    duration: float = 5.0  # seconds of ops
    processes: int = 1  # server processes; more than one needs Redis
    workers: int = 1  # load-generator processes
    columns: int = 4
    notes: int = 0  # notes on the board before the run (at least one per sender)
    facilitator: bool = False  # the last passive client joins with the facilitator's link

    def check(self) -> None:
        """Refuse shapes that cannot run."""
        if not 0 < self.active <= self.clients:
            raise ValueError("Expected 0 < active <= clients")
        if self.rate <= 0 or self.duration <= 0 or self.columns < 2:
            raise ValueError("Expected a positive rate and duration, and 2 columns or more")
        if min(self.rooms, self.processes, self.workers) < 1:
            raise ValueError("Expected at least one room, process and worker")
        if self.facilitator and self.clients <= self.active:
            raise ValueError("Expected a passive client to join as the facilitator")


def _machine_busy() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores, /proc/stat)."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def baselines(spec: LoadSpec) -> tuple[str, ...]:
    """The baselines ``spec`` is compared with: with several processes, also the bare
    relay over Redis, what the same processes and Redis cost with nothing but relaying."""
    return (*BASELINES, REDIS_RELAY) if spec.processes > 1 else BASELINES


def _start_targets(target: str, spec: LoadSpec, workdir: Path) -> tuple[list[Proc], Proc | None]:
    if target == "relay":
        return [start_relay(workdir)], None
    if target == "yjs":
        return [start_yjs(workdir)], None
    if spec.processes == 1 and target == "atelier":
        return [start_server(workdir)], None
    redis = start_redis(workdir)
    url = f"redis://127.0.0.1:{redis.port}/0"
    start = start_relay if target == REDIS_RELAY else start_server
    try:
        return [start(workdir, url) for _ in range(spec.processes)], redis
    except BaseException:
        redis.stop()
        raise


def _rooms(target: str, spec: LoadSpec, servers: list[Proc]) -> list[Workshop]:
    if target != "atelier":
        return [Workshop(f"room{r}", "-", "-") for r in range(spec.rooms)]
    rooms = [new_workshop(servers[0].port, f"Banc {r}") for r in range(spec.rooms)]

    async def seed_all() -> None:
        gate = asyncio.Semaphore(8)

        async def one(room: Workshop) -> None:
            async with gate:
                await seed_room(servers[0].port, room.id, room.participant, columns=spec.columns,
                                notes=max(spec.active, spec.notes))  # fmt: skip

        await asyncio.gather(*(one(room) for room in rooms))

    asyncio.run(seed_all())
    return rooms


def _plans(
    spec: LoadSpec, target: str, servers: list[Proc], rooms: list[Workshop]
) -> list[WorkerPlan]:
    interval = spec.rooms * spec.active / spec.rate  # each active client's own period
    per_worker: list[list[ClientPlan]] = [[] for _ in range(spec.workers)]
    gidx = 0
    for r, room in enumerate(rooms):
        for j in range(spec.clients):
            active = j < spec.active
            facilitating = spec.facilitator and j == spec.clients - 1
            # spread each room's senders evenly over one period, rooms interleaved
            phase = ((j * spec.rooms + r) / (spec.active * spec.rooms)) * interval if active else 0
            plan = ClientPlan(
                gidx=gidx, room=r, port=servers[j % len(servers)].port, path=f"/ws/{room.id}",
                token=room.facilitator if facilitating else room.participant,
                note=note_id(j) if active else None, interval=interval, phase=phase,
            )  # fmt: skip
            per_worker[gidx % spec.workers].append(plan)
            gidx += 1
    return [WorkerPlan(target, c, column_ids(spec.columns), spec.duration) for c in per_worker]


def spawn_workers(plans: list[WorkerPlan]) -> tuple[list[Any], list[Any]]:
    """Start one load-generator process per plan; return their pipes and processes."""
    context = multiprocessing.get_context("spawn")
    pipes, workers = [], []
    for plan in plans:
        parent, child = context.Pipe()
        proc = context.Process(target=worker_main, args=(plan, child), daemon=True)
        proc.start()
        pipes.append(parent)
        workers.append(proc)
    return pipes, workers


def join_workers(workers: list[Any]) -> None:
    """Wait for the workers to exit (they close their sockets first); kill stragglers."""
    for proc in workers:
        proc.join(30)
        if proc.is_alive():
            proc.kill()
            proc.join(5)


def recv(conn: Any, timeout: float, what: str) -> Any:
    """The next message from a worker, or TimeoutError."""
    if not conn.poll(timeout):
        raise TimeoutError(f"timed out waiting for a worker to be {what}")
    return conn.recv()


def run_load(
    spec: LoadSpec, target: str = "atelier", profile: Path | None = None
) -> dict[str, Any]:
    """Run one load against fresh ``atelier`` processes (or a baseline); return its figures."""
    spec.check()
    raise_nofile(spec.clients * spec.rooms + 1024)
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as tmp:
        servers, redis = _start_targets(target, spec, Path(tmp))
        try:
            rooms = _rooms(target, spec, servers)
            plans = _plans(spec, target, servers, rooms)
            if target == "yjs":
                plans = _with_yjs_updates(spec, plans, Path(tmp))
            return _drive(spec, target, servers, redis, plans, profile)
        finally:
            for proc in [*servers, *([redis] if redis else [])]:
                proc.stop()


def _with_yjs_updates(spec: LoadSpec, plans: list[WorkerPlan], tmp: Path) -> list[WorkerPlan]:
    """Have yjs itself write every update the run's clients will send (one Y.Doc per
    sender, bench/yjs/updates.mjs), so that the load generator only sends bytes."""
    yjs_ready()
    script = YJS / "updates.mjs"
    counts = [f"{c.gidx}:{math.ceil(spec.duration / c.interval) + 1}"
              for plan in plans for c in plan.clients if c.note is not None]  # fmt: skip
    out = tmp / "yjs-updates.json"
    subprocess.run([shutil.which("node") or "node", str(script), str(out), str(KEY_SPAN),
                    str(spec.columns), *counts], check=True, timeout=300)  # fmt: skip
    return [replace(plan, extra={**plan.extra, "updates": str(out)}) for plan in plans]


def _drive(spec: LoadSpec, target: str, servers: list[Proc], redis: Proc | None,
           plans: list[WorkerPlan], profile: Path | None) -> dict[str, Any]:  # fmt: skip
    pipes, workers = spawn_workers(plans)
    try:
        ready = [recv(p, READY_TIMEOUT, "connected") for p in pipes]
        measured = [*servers, *([redis] if redis else [])]
        before = {id(p): p.usage() for p in measured}
        load_before = _loadavg()
        busy_before, busy_since = _machine_busy(), time.monotonic()
        t0 = time.monotonic() + 0.3
        for pipe in pipes:
            pipe.send(("go", t0))
        profiler = None
        if profile is not None:
            profiler = Profiler(profile)
            names = {f"{target}-{p.kind}-{p.port}": p.pid for p in measured}
            profiler.start(names, spec.duration)
        sent = [recv(p, spec.duration + 120, "done sending") for p in pipes]
        for pipe in pipes:
            pipe.send(("drain",))
        results = [recv(p, 120, "drained")[1] for p in pipes]
        elapsed = time.monotonic() - t0
        busy = _machine_busy() - busy_before
        busy_window = time.monotonic() - busy_since
        after = {id(p): p.usage() for p in measured}
        counters = _counters(servers) if target == "atelier" else None
        for pipe in pipes:
            pipe.send(("close",))
        summaries = profiler.finish() if profiler is not None else None
    finally:
        join_workers(workers)
    figures = aggregate(target, results)
    server_cpu = sum(after[id(s)].cpu - before[id(s)].cpu for s in servers)
    redis_cpu = after[id(redis)].cpu - before[id(redis)].cpu if redis else 0.0
    loadgen_cpu = sum(r["cpu"] for r in results)
    deliveries = figures["deliveries"]
    return {
        "target": target,
        **asdict(spec),
        "connected": sum(r[1] for r in ready),
        "connect_failed": sum(r[2] for r in ready),
        "connect_errors": _merge([r[4] for r in ready]),
        "connect_s": round(max(r[3] for r in ready), 2),
        "ops_sent": sum(s[1] for s in sent),
        "send_late_s": round(max(s[2] for s in sent), 3),
        # the load generator's own health: ops leaving later than scheduled (busy workers)
        "send_lag_ms": percentiles([lag for r in results for lag in r["lags"]]),
        **figures,
        "delivered_per_s": round(deliveries / spec.duration, 1),
        "dropped_connections": sum(r["dropped"] for r in results),
        "measured_s": round(elapsed, 2),
        "server_cpu_s": round(server_cpu, 3),
        "server_cpu_us_per_delivery": _per(server_cpu * 1e6, deliveries),
        "server_cpu_us_per_op": _per(server_cpu * 1e6, sum(s[1] for s in sent)),
        "server_rss_mib": [round(after[id(s)].rss / 2**20, 1) for s in servers],
        "redis_cpu_s": round(redis_cpu, 3) if redis else None,
        "loadgen_cpu_s": round(loadgen_cpu, 3),
        "loadavg_before": load_before,
        # what else ran meanwhile: the machine's busy CPU minus servers, Redis and load
        # generator, in cores; anything much above 0 means the figures are contended
        "others_cores": round(
            max(0.0, busy - server_cpu - redis_cpu - loadgen_cpu) / busy_window, 2
        ),
        **({"server_counters": counters} if counters is not None else {}),
        **({"profile": summaries} if summaries is not None else {}),
    }  # fmt: skip


#: The counters of /metrics a run reports, summed over the server processes.
COUNTERS = ("atelier_resyncs_total", "atelier_queue_overflows_total",
            "atelier_ops_committed_total", "atelier_socket_frames_total",
            "atelier_socket_writes_total")  # fmt: skip


def _counters(servers: list[Proc]) -> dict[str, float]:
    """Some of the servers' own counters (read from /metrics), summed over the processes:
    how often a replica read the log for a gap, how many sockets were cut, and so on."""
    totals: dict[str, float] = {}
    for server in servers:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as r:
            text = r.read().decode()
        for line in text.splitlines():
            name, _, value = line.rpartition(" ")
            if line.startswith(COUNTERS) and not line.startswith("#"):
                totals[name] = totals.get(name, 0.0) + float(value)
    return totals


def _merge(counts: list[dict[str, int]]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for count in counts:
        for key, n in count.items():
            merged[key] = merged.get(key, 0) + n
    return merged


def _per(total: float, count: int) -> float | None:
    return round(total / count, 2) if count else None


def compare(spec: LoadSpec, profile: Path | None = None, *, first: int = 0) -> dict[str, Any]:
    """The same load against Atelier and each baseline, one after the other, and the ratios.

    ``first`` rotates the order, so that scenarios alternate which side goes first and a
    machine that gets busier (or quieter) during a run does not always favour the same
    side. A baseline that cannot run here (no Node.js, say) is reported with its error.
    """
    sides = ["atelier", *baselines(spec)]
    order = sides[first % len(sides) :] + sides[: first % len(sides)]
    line: dict[str, Any] = {}
    for side in order:
        try:
            line[side] = run_load(spec, side, profile)
        except (RuntimeError, OSError, subprocess.SubprocessError) as error:
            if side == "atelier":
                raise
            line[side] = {"target": side, "error": str(error)}
    app = line["atelier"]
    return {**line, "ratios": {b: ratios(app, line[b]) for b in sides[1:]}, "order": order}


def ratios(app: dict[str, Any], raw: dict[str, Any]) -> dict[str, float | None]:
    """Atelier over a baseline: server CPU per delivered event, and fan-out p99."""

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 2) if a is not None and b else None

    def p99(run: dict[str, Any]) -> float | None:
        return run["fanout_ms"]["p99"] if run.get("fanout_ms") else None

    return {
        "cpu_per_delivery": ratio(
            app["server_cpu_us_per_delivery"], raw.get("server_cpu_us_per_delivery")
        ),
        "fanout_p99": ratio(p99(app), p99(raw)),
    }  # fmt: skip
