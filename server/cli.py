"""The ``atelier`` command."""

import argparse
import logging
import os
import sys
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
        "ATELIER_WORKSHOPS_PER_HOUR, ATELIER_QR_PER_MINUTE, ATELIER_SEND_QUEUE, "
        "ATELIER_MAX_BAD_FRAMES, ATELIER_MAX_CONNECTIONS, ATELIER_KEEP_ALIVE_TIMEOUT, "
        "ATELIER_HEADER_TIMEOUT, ATELIER_BODY_TIMEOUT, ATELIER_WORKERS, "
        "ATELIER_WORKER_JOBS_PER_KEY, ATELIER_WORKER_WAITING_PER_KEY, ATELIER_WORKER_QUEUE, "
        "ATELIER_WORKER_NICE. "
        "The metrics token, by environment only: ATELIER_METRICS_TOKEN (see docs/operations.md).",
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
    serve.add_argument(
        "--public-url", metavar="URL",
        help="the address browsers use, e.g. https://atelier.example.fr: workshop links are "
        "built from it, never from a request's Host header, and its origin may open "
        "websockets (ATELIER_PUBLIC_URL; default: each request's own address, for a quick "
        "local start)",
    )  # fmt: skip
    serve.add_argument(
        "--trusted-proxy", dest="trusted_proxies", action="append", metavar="ADDRESS",
        help="address or network (127.0.0.1, 10.0.0.0/24) of a reverse proxy whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed; repeat for several "
        "(ATELIER_TRUSTED_PROXIES, comma-separated; default: none)",
    )  # fmt: skip
    _option(serve, "--log-level", "ATELIER_LOG_LEVEL, default %s", _DEFAULTS.log_level)
    _option(serve, "--log-format", "text or json, one object a line "
            "(ATELIER_LOG_FORMAT, default %s)", _DEFAULTS.log_format)  # fmt: skip
    serve.add_argument(
        "--metrics-address", metavar="HOST:PORT",
        help="serve /metrics there, alone, e.g. 127.0.0.1:9100 (ATELIER_METRICS_ADDRESS; "
        "default: on the main port, to direct loopback requests or to the bearer of "
        "ATELIER_METRICS_TOKEN)",
    )  # fmt: skip
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
        for many in ("origins", "trusted_proxies"):
            if args[many]:
                args[many] = tuple(args[many])
        settings = Settings.from_env(**args)
        problems = settings.problems()
        if problems:
            sys.exit("atelier serve: " + "; ".join(problems))
        serve(settings)
        return
    admin.run(command, args)


def serve(settings: Settings) -> None:
    """Run one server process until SIGINT or SIGTERM."""
    from .app import create_app
    from .http_protocol import guarded_protocol
    from .logs import configure

    configure(settings.log_level, settings.log_format)
    _warn_about(settings)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        http=guarded_protocol(settings.header_timeout, MAX_HEAD),
        # uvicorn's websockets-sansio stack (the cheapest, measured), plus an extension
        # that writes a frame framed once per event to every socket (server/transport.py)
        ws="atelier.transport:AtelierWebSocketProtocol",
        ws_max_size=settings.max_frame,  # a larger frame closes the socket with 1009
        ws_per_message_deflate=False,  # small JSON frames: compression costs more than it saves
        ws_ping_interval=20.0,  # notice vanished clients (a phone that left the Wi-Fi)
        ws_ping_timeout=20.0,
        log_config=None,  # logging is set up above: timestamps, ids, text or JSON
        log_level=settings.log_level,
        access_log=False,  # Atelier writes its own access lines, without query strings
        proxy_headers=False,  # the app believes forwarded headers from trusted proxies only
        limit_concurrency=settings.max_connections or None,
        timeout_keep_alive=settings.keep_alive_timeout,
        h11_max_incomplete_event_size=MAX_HEAD,
        timeout_graceful_shutdown=8,
        server_header=False,
    )


#: The largest request line and headers a client may send, in bytes.
MAX_HEAD = 64 * 1024


def _warn_about(settings: Settings) -> None:
    """Say at start what an operator should change before going live."""
    log = logging.getLogger("atelier")
    if not settings.public_url:
        loopback = settings.host in ("127.0.0.1", "::1", "localhost")
        log.log(
            logging.INFO if loopback else logging.WARNING,
            "no --public-url: workshop links follow each request's Host header; set "
            "--public-url (ATELIER_PUBLIC_URL) to the address browsers use before going live",
        )
    if os.environ.get("FORWARDED_ALLOW_IPS"):
        log.warning("FORWARDED_ALLOW_IPS is ignored; name the proxy with --trusted-proxy "
                    "(ATELIER_TRUSTED_PROXIES)")  # fmt: skip
