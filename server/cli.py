"""The ``atelier`` command."""

import argparse
import logging
from pathlib import Path

import uvicorn

from .config import Settings
from .protocol import MAX_FRAME

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    env = Settings.from_env()
    parser = argparse.ArgumentParser(
        prog="atelier",
        description="Atelier: a live board for territorial strategy workshops (Néolab² phase 4).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="start the server",
        description="Start the web server. Every option can also be set by the ATELIER_* "
        "environment variable named in its help; the option wins.",
    )
    serve.add_argument(
        "--host", default=env.host, help="address to listen on (ATELIER_HOST, default %(default)s)"
    )
    serve.add_argument(
        "--port",
        type=int,
        default=env.port,
        help="port to listen on (ATELIER_PORT, default %(default)s)",
    )
    serve.add_argument(
        "--data",
        type=Path,
        default=env.data_dir,
        help="directory of the embedded backend's data (ATELIER_DATA, default %(default)s)",
    )
    serve.add_argument(
        "--redis",
        default=env.redis_url,
        metavar="URL",
        help="serve from Redis instead, e.g. redis://127.0.0.1:6379/0, so several processes "
        "share rooms (ATELIER_REDIS_URL; default: the embedded backend)",
    )
    serve.add_argument(
        "--origin",
        action="append",
        default=list(env.origins),
        metavar="ORIGIN",
        help="public origin allowed to open websockets, e.g. https://atelier.example.fr; "
        "repeat for several (ATELIER_ORIGINS, comma-separated; default: the page's own origin)",
    )
    serve.add_argument(
        "--log-level", default=env.log_level, help="ATELIER_LOG_LEVEL, default %(default)s"
    )
    return parser  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``atelier`` console command."""
    args = _parser().parse_args(argv)
    if args.command == "serve":
        serve(
            Settings(
                host=args.host,
                port=args.port,
                data_dir=args.data,
                redis_url=args.redis,
                origins=tuple(args.origin),
                log_level=args.log_level,
            )
        )


def serve(settings: Settings) -> None:
    """Run one server process until SIGINT or SIGTERM."""
    from .app import create_app

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",  # the cheapest of uvicorn's websocket stacks, measured
        ws_max_size=MAX_FRAME,  # a larger frame closes the socket with 1009
        ws_per_message_deflate=False,  # small JSON frames: compression costs more CPU than it saves
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        log_level=settings.log_level,
        timeout_graceful_shutdown=8,
        server_header=False,
    )
