"""The issue's scenarios, one name each, run several times with medians at the end.

Each load scenario runs against Atelier and, in the same run, against the raw relay
and the Node.js y-websocket server (the order rotates from run to run). The figures of
every run are printed, then a ``summary`` line with the median of each headline figure
over the runs (these 2-core machines are noisy).
"""

import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from .abuse import ABUSE_MEDIANS, AbuseSpec, run_abuse
from .board import ImportSpec, compare_boards, run_import
from .idle import IdleSpec, run_idle
from .joins import JoinSpec, run_joins
from .load import LoadSpec, baselines, compare, run_load
from .stats import median_of

__all__ = ["SCENARIOS", "run_scenario"]

LOADS: dict[str, LoadSpec] = {
    # (a) a regional forum on one process
    "forum": LoadSpec(clients=300, active=30, rate=150, duration=30, workers=2),
    # (b) the same forum over three processes sharing Redis
    "forum-redis": LoadSpec(clients=300, active=30, rate=150, duration=30, processes=3, workers=2),
    # (c) an evening of workshops: 50 rooms of 12, 2 ops/s in each
    "rooms": LoadSpec(clients=12, rooms=50, active=2, rate=100, duration=30, workers=2),
    # (f) a thousand people on one board, one process
    "crowd": LoadSpec(clients=1000, active=20, rate=20, duration=30, workers=2),
    # issue 14: a 200-client room, 10 senders, 200 ops/s (40,000 deliveries/s), one process
    "room200": LoadSpec(clients=200, active=10, rate=200, duration=30, workers=2),
    # ...the same over three processes sharing Redis
    "room200-redis": LoadSpec(clients=200, active=10, rate=200, duration=30, processes=3,
                              workers=2),
    # ...the same ops in a room of 10: what each op costs apart from its deliveries
    "room10": LoadSpec(clients=10, active=10, rate=200, duration=30, workers=1),
    # ...and the ceiling: 800 ops/s in that room (160,000 deliveries/s) on one process
    "ceiling": LoadSpec(clients=200, active=10, rate=800, duration=30, workers=3),
}  # fmt: skip
#: issue 14: 2,000 ops/s in a room of 10 senders and the facilitator, on a 5,000-note
#: board, against the same load on an empty board in the same run
BOARD = LoadSpec(clients=11, active=10, rate=2000, duration=15, workers=2, notes=5000,
                 facilitator=True)  # fmt: skip
SCENARIOS = [*LOADS, "board5000", "import2000", "latejoin", "latejoin5000", "idle", "abuse"]

HEADLINES = [
    "fanout_ms.p50", "fanout_ms.p95", "fanout_ms.p99", "fanout_ms.max", "ack_ms.p99",
    "server_cpu_us_per_delivery", "delivered_per_s", "loss", "server_cpu_s", "loadgen_cpu_s",
    "others_cores", "send_lag_ms.p99",
]  # fmt: skip


def machine() -> dict[str, Any]:
    """When and where: the figures mean nothing without it."""
    model = "?"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "nproc": os.cpu_count(),
        "cpu": model,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def _scaled(spec: LoadSpec, scale: float) -> LoadSpec:
    if scale == 1.0:
        return spec
    clients = max(2, math.ceil(spec.clients * scale))
    return replace(
        spec,
        clients=clients,
        active=min(clients, max(1, math.ceil(spec.active * scale))),
        rate=max(1.0, spec.rate * scale),
        duration=max(2.0, spec.duration * scale),
        notes=int(spec.notes * scale),
    )


def _load_runs(spec: LoadSpec, runs: int, raw: bool) -> Iterator[dict[str, Any]]:
    done: list[dict[str, Any]] = []
    for i in range(runs):
        if raw:
            line: dict[str, Any] = compare(spec, first=i)
        else:
            line = {"atelier": run_load(spec, "atelier")}
        line["run"] = i + 1
        done.append(line)
        yield line
    summary: dict[str, Any] = {"summary": True, "runs": runs, "machine": machine()}
    for side in ("atelier", *baselines(spec)):
        summary[side] = {h: median_of(done, f"{side}.{h}") for h in HEADLINES}
        summary[side]["loss_all_runs"] = sum(line.get(side, {}).get("loss", 0) for line in done)
    # the median of each run's ratio (both sides of one run saw the same machine)
    summary["ratios"] = {
        base: {r: median_of(done, f"ratios.{base}.{r}") for r in ("cpu_per_delivery",
                                                                  "fanout_p99")}
        for base in baselines(spec)
    }  # fmt: skip
    yield summary


def _board_runs(spec: LoadSpec, runs: int) -> Iterator[dict[str, Any]]:
    done: list[dict[str, Any]] = []
    for i in range(runs):
        line = {**compare_boards(spec, first=i), "run": i + 1}
        done.append(line)
        yield line
    fields = ["server_cpu_us_per_op", "ops_sent", "fanout_ms.p99", "ack_ms.p99", "loss",
              "others_cores", "send_lag_ms.p99"]  # fmt: skip
    summary: dict[str, Any] = {"summary": True, "runs": runs, "machine": machine()}
    for side in ("empty", "full"):
        summary[side] = {f: median_of(done, f"{side}.{f}") for f in fields}
    summary["ratio_cpu_per_op"] = median_of(done, "ratio_cpu_per_op")
    yield summary


def _repeat(
    once: Callable[[], dict[str, Any]], runs: int, fields: list[str]
) -> Iterator[dict[str, Any]]:
    done: list[dict[str, Any]] = []
    for i in range(runs):
        line = once()
        line["run"] = i + 1
        done.append(line)
        yield line
    medians = {f: median_of(done, f) for f in fields}
    yield {"summary": True, "runs": runs, "machine": machine(), **medians}


def run_scenario(name: str, runs: int, *, raw: bool, scale: float) -> Iterator[dict[str, Any]]:
    """Run a scenario ``runs`` times; yield each run's JSON line, then the medians."""
    if name in LOADS:
        spec = _scaled(LOADS[name], scale)
        for line in _load_runs(spec, runs, raw):
            yield {"scenario": name, **line}
    elif name == "board5000":
        for line in _board_runs(_scaled(BOARD, scale), runs):
            yield {"scenario": name, **line}
    elif name == "import2000":
        rows = ImportSpec(rows=max(10, int(2000 * scale)))
        fields = ["answered_s", "landed_s", "server_cpu_s"]
        for line in _repeat(lambda: run_import(rows), runs, fields):
            yield {"scenario": name, **line}
    elif name in ("latejoin", "latejoin5000"):
        notes = max(10, int((5000 if name == "latejoin5000" else 2000) * scale))
        joins = JoinSpec(notes=notes) if scale == 1.0 else JoinSpec(notes=notes, joins=5)
        fields = ["atelier.join_ms.p50", "atelier.join_ms.p95", "atelier.join_ms.max",
                  "relay.join_ms.p95"]  # fmt: skip
        for line in _repeat(lambda: run_joins(joins, raw=raw), runs, fields):
            yield {"scenario": name, **line}
    elif name == "idle":
        idle = IdleSpec() if scale == 1.0 else IdleSpec(connections=max(10, int(5000 * scale)))
        fields = ["atelier.kib_per_connection", "relay.kib_per_connection",
                  "atelier.connect_s", "relay.connect_s"]  # fmt: skip
        for line in _repeat(lambda: run_idle(idle, raw=raw), runs, fields):
            yield {"scenario": name, **line}
    elif name == "abuse":
        abuse = AbuseSpec().scaled(scale)
        for line in _repeat(lambda: run_abuse(abuse), runs, ABUSE_MEDIANS):
            yield {"scenario": name, **line}
    else:
        raise ValueError(f"Expected one of {', '.join(SCENARIOS)} but got {name!r}")
