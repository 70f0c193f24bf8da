"""Settings of one Atelier process, from the command line or ``ATELIER_*`` variables.

Every field ``name`` can be set by the environment variable ``ATELIER_NAME`` (upper
case); the command line wins over the environment. Processes that serve the same rooms
(through Redis) must share the same limits.
"""

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .outbox import REDIS_WINDOW
from .rooms.ops import RoomLimits
from .workers import NICE

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """Everything a process needs to know to serve."""

    host: str = "127.0.0.1"
    port: int = 8000
    data: Path = Path("atelier-data")
    redis_url: str | None = None
    #: Origins allowed to open a websocket; empty means "the origin the page came from".
    origins: tuple[str, ...] = ()
    log_level: str = "info"
    #: The largest frame a client may send, in bytes (larger: closed with 1009).
    max_frame: int = 64 * 1024
    #: The longest note text, in characters.
    max_note_text: int = 1000
    #: Notes, orientation columns and action ideas one board may hold.
    max_notes: int = 5000
    max_columns: int = 30
    max_ideas: int = 2000
    #: Sockets one process serves in one room (0: no limit).
    max_connections_per_room: int = 2000
    #: Sockets one client address may hold on one process; a town hall's Wi-Fi puts
    #: everyone behind one address, so this is generous (0: no limit).
    max_connections_per_address: int = 500
    #: Ops a socket may send per second on average, and in one burst (an outbox replay).
    ops_per_second: float = 20.0
    ops_burst: float = 200.0
    #: Workshops one client address may create per hour on one process (0: no limit).
    workshops_per_hour: int = 30
    #: Frames a socket may have waiting before it is cut off as too slow.
    send_queue: int = 1024
    #: Milliseconds a busy process may hold the frames bound for a socket so that they
    #: leave in one write (server/outbox.py); -1: automatic, 5 with Redis (each op
    #: reaches each process on its own) and 0 with SQLite (its group commit groups them).
    send_window_ms: float = -1
    #: Bad frames a socket may send before it is closed with 1008.
    max_bad_frames: int = 20
    #: Workshops untouched for this many days are deleted with all their data (0: never).
    retention_days: int = 0
    #: The address browsers use, e.g. ``https://atelier.example.fr``: links are built
    #: from it. Empty: from each request's Host header (a quick local start; warned).
    public_url: str = ""
    #: Addresses (or networks) of the reverse proxies whose X-Forwarded-For and
    #: X-Forwarded-Proto are believed; empty: nobody's (the peer is the client).
    trusted_proxies: tuple[str, ...] = ()
    #: ``text`` (one readable line) or ``json`` (one object a line) for every log line.
    log_format: str = "text"
    #: /metrics: a bearer token to require on the main port, and/or a separate
    #: ``HOST:PORT`` serving it alone. Neither: only direct loopback requests.
    metrics_token: str = ""
    metrics_address: str = ""
    #: Connections (and HTTP requests under way) one process takes before answering 503.
    max_connections: int = 8192
    #: Seconds an idle keep-alive connection stays open, and a client may take to send
    #: a request's headers, and then its body.
    keep_alive_timeout: int = 5
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    #: QR codes one client address may ask for per minute on one process (0: no limit).
    qr_per_minute: int = 30
    #: Worker processes for heavy work (QR codes, exports); the jobs one workshop or client
    #: address may have running at once, and waiting; the process's waiting line.
    workers: int = 2
    worker_jobs_per_key: int = 1
    worker_waiting_per_key: int = 8
    worker_queue: int = 32
    #: How much lower the workers' CPU priority is than the server's (a nice increment,
    #: 0 to 19; 0: the same): the event loop every room waits on comes first.
    worker_nice: int = NICE

    #: Seconds a room stays open in a process after its last socket left (then it closes,
    #: leaving a checkpoint behind).
    room_idle_seconds: float = 30.0
    #: Named snapshots one workshop may take; MiB all its snapshots may hold; their pace:
    #: a burst, then one every so many seconds (see docs/deploy.md, "Sizing the storage").
    max_snapshots: int = 40
    max_snapshot_mb: int = 64
    snapshot_burst: int = 5
    snapshot_interval_seconds: int = 10
    #: Ops kept in a room's log behind its latest checkpoint; older ones are compacted.
    log_keep: int = 10_000
    #: Below this much free disk (MiB) the embedded store refuses new writes (0: no floor).
    min_free_disk_mb: int = 100
    #: Redis: refuse new writes when less than this (MiB) is left under its maxmemory.
    redis_min_headroom_mb: int = 32

    def __post_init__(self) -> None:
        # Browsers come from the public URL's origin: that is the one to allow by default.
        if not self.origins and self.public_origin:
            object.__setattr__(self, "origins", (self.public_origin,))

    @property
    def room_limits(self) -> RoomLimits:
        """What one board may hold (the reducer's limits)."""
        return RoomLimits(
            notes=self.max_notes,
            columns=self.max_columns,
            ideas=self.max_ideas,
            snapshots=self.max_snapshots,
            snapshot_bytes=self.max_snapshot_mb * 2**20,
            snapshot_burst=self.snapshot_burst,
            snapshot_interval_ms=self.snapshot_interval_seconds * 1000,
        )

    @property
    def send_window(self) -> float:
        """Seconds the outbox may hold frames while the process is busy."""
        if self.send_window_ms >= 0:
            return self.send_window_ms / 1000
        return REDIS_WINDOW if self.redis_url else 0.0

    @property
    def data_dir(self) -> Path:
        """The embedded backend's directory."""
        return self.data

    @property
    def public_base(self) -> str:
        """The public URL without its trailing slash ('' when not set)."""
        return self.public_url.rstrip("/")

    @property
    def public_origin(self) -> str:
        """The origin (scheme://host[:port]) of the public URL ('' when not set)."""
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""

    def problems(self) -> list[str]:
        """What is wrong with these settings, in words an operator can act on."""
        found = []
        parts = urlsplit(self.public_url)
        if self.public_url and (parts.scheme not in ("http", "https") or not parts.netloc
                                or parts.query or parts.fragment):  # fmt: skip
            found.append(f"--public-url must be an http(s) address, got {self.public_url!r}")
        if self.log_format not in ("text", "json"):
            found.append(f"--log-format is text or json, got {self.log_format!r}")
        if self.metrics_address and not _host_port(self.metrics_address):
            found.append(f"--metrics-address is HOST:PORT, got {self.metrics_address!r}")
        if "*" in self.trusted_proxies:
            found.append("--trusted-proxy '*' would let any client choose its own address; "
                         "name the proxy's address or network")  # fmt: skip
        if self.workers < 1:
            found.append("ATELIER_WORKERS must be at least 1")
        if self.send_window_ms != -1 and not 0 <= self.send_window_ms <= 100:
            found.append(f"ATELIER_SEND_WINDOW_MS is -1 (automatic) to 100, got "
                         f"{self.send_window_ms}")  # fmt: skip
        if not 0 <= self.worker_nice <= 19:
            found.append(f"ATELIER_WORKER_NICE is 0 to 19, got {self.worker_nice}")
        return found

    @property
    def metrics_host_port(self) -> tuple[str, int] | None:
        """The separate metrics listener's (host, port), if one is set."""
        return _host_port(self.metrics_address)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> "Settings":
        """Settings from ``ATELIER_*`` variables, then ``overrides`` (not None) on top."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f"ATELIER_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _host_port(value: str) -> tuple[str, int] | None:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host.strip("[]"), int(port)


def _convert(kind: object, raw: str) -> object:
    if kind in (int, "int"):
        return int(raw)
    if kind in (float, "float"):
        return float(raw)
    if kind in (Path, "Path"):
        return Path(raw)
    if kind in (tuple[str, ...], "tuple[str, ...]"):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw
