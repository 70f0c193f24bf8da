"""The ``atelier`` command."""

import argparse
import logging
from pathlib import Path

import uvicorn

from . import admin
from .config import Settings

__all__ = ["main"]

_DEFAULTS = Settings()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atelier",
        description="Atelier: a live board for territorial strategy workshops (Néolab² phase 4).",
        epilog="Every option of 'serve' can also be set by the ATELIER_* environment variable "
        "named in its help; the option wins.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="start the server",
        description="Start the web server (HTTP and websockets) on the embedded backend, or on "
        "Redis with --redis. Every option can also be set by the ATELIER_* environment "
        "variable named in its help; the option wins.",
        epilog="Limits, by environment only (see docs/security.md): ATELIER_MAX_FRAME, "
        "ATELIER_MAX_NOTE_TEXT, ATELIER_MAX_NOTES, ATELIER_MAX_COLUMNS, ATELIER_MAX_IDEAS, "
        "ATELIER_MAX_CONNECTIONS_PER_ROOM, "
        "ATELIER_MAX_CONNECTIONS_PER_ADDRESS, ATELIER_OPS_PER_SECOND, ATELIER_OPS_BURST, "
        "ATELIER_WORKSHOPS_PER_HOUR, ATELIER_SEND_QUEUE, ATELIER_MAX_BAD_FRAMES.",
    )
    _option(serve, "--host", "address to listen on (ATELIER_HOST, default %s)", _DEFAULTS.host)
    _option(serve, "--port", "port to listen on (ATELIER_PORT, default %s)", _DEFAULTS.port, int)
    _option(serve, "--data", "directory of the embedded backend's data "
            "(ATELIER_DATA, default ./%s)", _DEFAULTS.data, Path)  # fmt: skip
    serve.add_argument(
        "--redis", dest="redis_url", metavar="URL",
        help="serve from Redis instead, e.g. redis://127.0.0.1:6379/0, so that several "
        "processes share the rooms (ATELIER_REDIS_URL; default: the embedded backend)",
    )  # fmt: skip
    serve.add_argument(
        "--origin", dest="origins", action="append", metavar="ORIGIN",
        help="public origin allowed to open websockets, e.g. https://atelier.example.fr; "
        "repeat for several (ATELIER_ORIGINS, comma-separated; default: the page's own origin)",
    )  # fmt: skip
    _option(serve, "--log-level", "ATELIER_LOG_LEVEL, default %s", _DEFAULTS.log_level)
    _option(serve, "--retention-days", "delete workshops untouched for this many days "
            "(ATELIER_RETENTION_DAYS, default %s: never)", _DEFAULTS.retention_days,
            int)  # fmt: skip
    admin.add_commands(commands)
    return parser


def _option(parser: argparse.ArgumentParser, flag: str, text: str, default: object,
            kind: type = str) -> None:  # fmt: skip
    parser.add_argument(flag, type=kind, default=None, help=text % default)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``atelier`` console command."""
    args = vars(_parser().parse_args(argv))
    command = args.pop("command")
    if command == "serve":
        if args["origins"]:
            args["origins"] = tuple(args["origins"])
        serve(Settings.from_env(**args))
        return
    admin.run(command, args)


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
        ws_max_size=settings.max_frame,  # a larger frame closes the socket with 1009
        ws_per_message_deflate=False,  # small JSON frames: compression costs more than it saves
        ws_ping_interval=20.0,  # notice vanished clients (a phone that left the Wi-Fi)
        ws_ping_timeout=20.0,
        log_level=settings.log_level,
        timeout_graceful_shutdown=8,
        server_header=False,
    )
