"""Settings of one Atelier process, from the command line or ``ATELIER_*`` variables."""

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """Everything a process needs to know to serve."""

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("atelier-data")
    redis_url: str | None = None
    #: Origins allowed to open a websocket; empty means "the origin the page was served from".
    origins: tuple[str, ...] = field(default_factory=tuple)
    #: Frames a socket may have waiting before it is cut off as too slow.
    send_queue: int = 1024
    #: Bad frames a socket may send before it is closed with 1008.
    max_bad_frames: int = 20
    log_level: str = "info"

    @classmethod
    def from_env(cls, environ: "os._Environ[str] | dict[str, str] | None" = None) -> "Settings":
        """Settings from ``ATELIER_*`` environment variables, defaults elsewhere."""
        env = os.environ if environ is None else environ
        origins = tuple(o.strip() for o in env.get("ATELIER_ORIGINS", "").split(",") if o.strip())
        return cls(
            host=env.get("ATELIER_HOST", "127.0.0.1"),
            port=int(env.get("ATELIER_PORT", "8000")),
            data_dir=Path(env.get("ATELIER_DATA", "atelier-data")),
            redis_url=env.get("ATELIER_REDIS_URL") or None,
            origins=origins,
            log_level=env.get("ATELIER_LOG_LEVEL", "info"),
        )
