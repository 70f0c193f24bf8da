"""What this process exposes at ``/metrics``, in the Prometheus text format.

The metric objects live here, in one registry of the process's own (not the
library's global one), so the web layer only renders it and the hot paths only bump
counters. Every figure is this process's: with several processes behind Redis,
Prometheus sums them.

- ``atelier_connections``: websockets open now (joined or not yet).
- ``atelier_rooms``: rooms this process holds a replica of.
- ``atelier_ops_committed_total``: ops this process committed (its own sockets' ops).
- ``atelier_fanout_seconds``: for every event applied here, the time from the op's
  arrival at the process that committed it (``OpRecord.at``, wall clock, millisecond
  precision) to the push of the event into this process's socket queues. It covers
  validation, the commit (SQLite or Redis), the doorbell, the reducer and the encode,
  not the sockets' own send queues.
- ``atelier_queue_overflows_total``: sockets cut because their send queue was full.
- ``atelier_resyncs_total{kind}``: ``gap`` (a replica read missed ops from the log),
  ``reload`` (a replica too far behind reloaded from a checkpoint), ``catchup``
  (a client rejoined with ``since`` and got the events it missed), ``full`` (a client
  rejoined with ``since`` but got the whole board).
"""

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = [
    "CONNECTIONS",
    "CONTENT_TYPE",
    "FANOUT_SECONDS",
    "OPS_COMMITTED",
    "QUEUE_OVERFLOWS",
    "REGISTRY",
    "RESYNCS",
    "ROOMS",
    "render",
    "watch_rooms",
]

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST

CONNECTIONS = Gauge("atelier_connections", "Websockets open now.", registry=REGISTRY)
ROOMS = Gauge("atelier_rooms", "Rooms this process holds a replica of.", registry=REGISTRY)
OPS_COMMITTED = Counter(
    "atelier_ops_committed", "Ops committed by this process's sockets.", registry=REGISTRY
)
FANOUT_SECONDS = Histogram(
    "atelier_fanout_seconds",
    "From an op's arrival at the committing process to its event's push into this "
    "process's socket queues.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
QUEUE_OVERFLOWS = Counter(
    "atelier_queue_overflows",
    "Sockets cut off because their send queue was full (they resync by seq).",
    registry=REGISTRY,
)
RESYNCS = Counter(
    "atelier_resyncs",
    "Catch-ups from the log: gap and reload (a replica), catchup and full (a client).",
    ["kind"],
    registry=REGISTRY,
)
for _kind in ("gap", "reload", "catchup", "full"):
    RESYNCS.labels(_kind)  # present at zero from the start, so rates are defined


def watch_rooms(count: Callable[[], int]) -> None:
    """Read the number of open rooms from ``count`` at each scrape."""
    ROOMS.set_function(count)


def render() -> bytes:
    """The whole registry in the Prometheus text format."""
    return generate_latest(REGISTRY)
