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
- ``atelier_ops_rejected_total{code}``: ops refused, by the refusal's code
  (``forbidden``, ``too_many_notes``…); bumped where the reject frame is sent.
- ``atelier_rate_limited_total{limit}``: refusals by a rate or count limit:
  ``workshops`` (creating, importing or reopening a workshop), ``qr``, ``connections``
  (per address), ``room_full``, and ``ops`` (a socket slowed down by its op rate).
- ``atelier_storage_errors_total{backend}``: errors a backend raised as
  ``BackendError`` (``sqlite``, ``redis``); bumped by the backends.
- ``atelier_http_requests_total{route,method,status}`` and
  ``atelier_http_request_seconds{route}``: every HTTP request, by route template
  (``/api/workshops/{workshop_id}``; ``static`` for the web client's files), never by
  raw path, so the number of series stays fixed.
- ``atelier_worker_jobs``: heavy jobs (QR codes, exports) running or waiting in the
  worker pool; ``atelier_worker_refusals_total{scope}``: jobs refused because one
  workshop or address (``key``) or the whole process (``process``) had too many.
- ``atelier_socket_frames_total`` and ``atelier_socket_writes_total``: frames sockets
  wrote at once (Atelier's own websocket protocol; not those a slow socket queued, nor
  compressed sockets') and the ``write()`` calls that carried them; a socket handed
  several frames in a row writes them in one call (``server/outbox.py``), so the first
  exceeds the second under load.
- ``atelier_build_info{version,python}``: always 1; the labels say what runs.
- ``process_*`` and ``python_*``: the process's CPU, memory, open files, start time and
  garbage collector, from prometheus_client's own collectors.
"""

import platform
from collections.abc import Callable, Iterable

from prometheus_client import (
    GC_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.registry import Collector

from . import __version__
from .outbox import SENT

__all__ = [
    "BUILD_INFO",
    "CONNECTIONS",
    "CONTENT_TYPE",
    "FANOUT_SECONDS",
    "HTTP_REQUESTS",
    "HTTP_SECONDS",
    "OPS_COMMITTED",
    "OPS_REJECTED",
    "QUEUE_OVERFLOWS",
    "RATE_LIMITED",
    "REGISTRY",
    "RESYNCS",
    "ROOMS",
    "STORAGE_BYTES",
    "STORAGE_ERRORS",
    "WORKER_JOBS",
    "WORKER_REFUSALS",
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


OPS_REJECTED = Counter(
    "atelier_ops_rejected", "Ops refused, by the reject frame's code.", ["code"], registry=REGISTRY
)
RATE_LIMITED = Counter(
    "atelier_rate_limited",
    "Requests, sockets or ops refused or slowed by a rate or count limit.",
    ["limit"],
    registry=REGISTRY,
)
for _limit in ("workshops", "qr", "join_codes", "connections", "room_full", "ops"):
    RATE_LIMITED.labels(_limit)
STORAGE_ERRORS = Counter(
    "atelier_storage_errors",
    "Errors a backend raised as BackendError (storage unavailable or refusing).",
    ["backend"],
    registry=REGISTRY,
)
for _backend in ("sqlite", "redis"):
    STORAGE_ERRORS.labels(_backend)
STORAGE_BYTES = Gauge(
    "atelier_storage_bytes",
    "Bytes the store holds: the SQLite database's files, or Redis's used memory.",
    registry=REGISTRY,
)
HTTP_REQUESTS = Counter(
    "atelier_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    "atelier_http_request_seconds",
    "Time to answer an HTTP request, by route template.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
WORKER_JOBS = Gauge(
    "atelier_worker_jobs", "Heavy jobs running or waiting in the worker pool.", registry=REGISTRY
)
WORKER_REFUSALS = Counter(
    "atelier_worker_refusals",
    "Heavy jobs refused: too many for one key (workshop, address) or for the process.",
    ["scope"],
    registry=REGISTRY,
)
for _scope in ("key", "process"):
    WORKER_REFUSALS.labels(_scope)
BUILD_INFO = Gauge(
    "atelier_build_info",
    "Always 1; the labels say which Atelier and which Python run.",
    ["version", "python"],
    registry=REGISTRY,
)
BUILD_INFO.labels(__version__, platform.python_version()).set(1)


class _SendPath(Collector):
    """The outbox's totals, read at each scrape (the hot path bumps plain integers)."""

    def collect(self) -> Iterable[Metric]:
        yield CounterMetricFamily(
            "atelier_socket_frames",
            "Frames a socket wrote at once, in one write() with those handed to it in a row "
            "(not those a slow socket queued).",
            value=SENT.frames,
        )
        yield CounterMetricFamily(
            "atelier_socket_writes",
            "write() calls that carried those frames.",
            value=SENT.writes,
        )


REGISTRY.register(_SendPath())
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
REGISTRY.register(GC_COLLECTOR)


def watch_rooms(count: Callable[[], int]) -> None:
    """Read the number of open rooms from ``count`` at each scrape."""
    ROOMS.set_function(count)


def render() -> bytes:
    """The whole registry in the Prometheus text format."""
    return generate_latest(REGISTRY)
