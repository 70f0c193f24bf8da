"""Turn what the workers recorded into the figures of one run.

Fan-out latency is matched after the run: the sender knows when it sent an op and,
from the ack, which seq it got; every receiver knows which seq arrived and when.
Loss is counted per receiver: each one must get every event committed in its room
(the relay forwards to the others only, so a relay sender does not expect its own).
"""

import math
import statistics
from typing import Any

from .worker import RELAYS, key_owner

__all__ = ["aggregate", "median_of", "percentiles"]


def percentiles(values: list[float], scale: float = 1000.0) -> dict[str, float] | None:
    """p50, p95, p99 and max (nearest rank), in milliseconds by default."""
    if not values:
        return None
    ordered = sorted(values)
    n = len(ordered)

    def rank(q: float) -> float:
        return ordered[min(n - 1, max(0, math.ceil(q * n) - 1))] * scale

    return {
        "p50": round(rank(0.50), 3),
        "p95": round(rank(0.95), 3),
        "p99": round(rank(0.99), 3),
        "max": round(ordered[-1] * scale, 3),
        "n": n,
    }


def aggregate(target: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Fan-out and ack latency, deliveries, loss and duplicates over every worker."""
    sent_by_room: dict[int, dict[int, float]] = {}
    clients: list[dict[str, Any]] = []
    acks: list[float] = []
    rejects = errors = unacked = 0
    for result in results:
        for client in result["clients"]:
            sent_by_room.setdefault(client["room"], {}).update(client["acked"])
            acks.extend(client["acks"])
            rejects += client["rejects"]
            errors += client["errors"]
            unacked += client["unacked"]
            clients.append(client)
    latencies: list[float] = []
    deliveries = loss = duplicates = strays = 0
    for client in clients:
        sent = sent_by_room.get(client["room"], {})
        for key, at in zip(client["keys"], client["times"], strict=True):
            start = sent.get(key)
            if start is None:
                strays += 1  # an event we did not send (or whose ack never came)
            else:
                latencies.append(at - start)
        received = set(client["keys"])
        deliveries += len(client["keys"])
        duplicates += len(client["keys"]) - len(received)
        expected = set(sent)
        if target in RELAYS:
            expected = {k for k in expected if key_owner(k) != client["gidx"]}
        loss += len(expected - received)
    ops = sum(len(s) for s in sent_by_room.values())
    return {
        "ops_committed": ops,
        "rejects": rejects,
        "unacked": unacked,
        "errors": errors,
        "deliveries": deliveries,
        "loss": loss,
        "duplicates": duplicates,
        "strays": strays,
        "fanout_ms": percentiles(latencies),
        "ack_ms": percentiles(acks) if target == "atelier" else None,
    }


def median_of(runs: list[dict[str, Any]], path: str) -> float | None:
    """The median of a dotted field (e.g. ``atelier.fanout_ms.p99``) over several runs."""
    values: list[float] = []
    for run in runs:
        value: Any = run
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, int | float):
            values.append(float(value))
    return round(statistics.median(values), 3) if values else None
