"""The ``atelier`` command."""

import argparse
import asyncio
import logging
import sys
from pathlib import Path

import orjson
import uvicorn

from .backends import open_backends
from .backends.base import Store
from .config import Settings
from .transfer import TransferError, dumps, export_workshop, import_workshop

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
    for name, text in (
        ("export", "write a whole workshop (board, snapshots, official record) as JSON"),
        ("import", "recreate a workshop from an 'atelier export' file"),
        ("demo", "create demo workshops from the seed's examples and print their links"),
    ):
        sub = commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        if name == "export":
            sub.add_argument("workshop", help="the workshop's id (in its links: /w/ID)")
            sub.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
        elif name == "import":
            sub.add_argument("file", type=Path, help="a file written by 'atelier export'")
        else:
            sub.add_argument("--base", default="http://127.0.0.1:8000", metavar="URL",
                             help="the server's public address, for the links "
                             "(default %(default)s)")  # fmt: skip
        _option(sub, "--data", "the embedded backend's directory "
                "(ATELIER_DATA, default ./%s)", _DEFAULTS.data, Path)  # fmt: skip
        sub.add_argument("--redis", dest="redis_url", metavar="URL",
                         help="use this Redis instead (ATELIER_REDIS_URL)")  # fmt: skip
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
    settings = Settings.from_env(data=args["data"], redis_url=args["redis_url"])
    try:
        if command == "export":
            document = asyncio.run(_export(settings, args["workshop"]))
            if args["output"] is None:
                sys.stdout.buffer.write(document)
            else:
                args["output"].write_bytes(document)
        elif command == "demo":
            _demo(settings, args["base"].rstrip("/"))
        else:
            asyncio.run(_import(settings, orjson.loads(args["file"].read_bytes())))
    except (TransferError, OSError, orjson.JSONDecodeError) as error:
        sys.exit(f"atelier {command}: {error}")


def _store(settings: Settings) -> Store:
    """The store the settings name (the bus is the server's business, not the CLI's)."""
    return open_backends(settings.redis_url, settings.data_dir).store


def _demo(settings: Settings, base_url: str) -> None:
    from .demo import run

    for workshop in run(_store(settings), base_url):
        print(f"{workshop['territory']}")
        for role, link in workshop["links"].items():
            print(f"  {role:<12} {link}")


async def _export(settings: Settings, workshop_id: str) -> bytes:
    backend = _store(settings)
    await backend.start()
    try:
        return dumps(await export_workshop(backend, workshop_id, settings.room_limits))
    finally:
        await backend.close()


async def _import(settings: Settings, document: object) -> None:
    backend = _store(settings)
    await backend.start()
    try:
        meta = await import_workshop(backend, document)
    finally:
        await backend.close()
    print(f"imported workshop {meta.id} ({meta.title}); its links work as before")


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
        # uvicorn's websockets-sansio stack (the cheapest, measured), plus an extension
        # that writes a frame framed once per event to every socket (server/transport.py)
        ws="atelier.transport:AtelierWebSocketProtocol",
        ws_max_size=settings.max_frame,  # a larger frame closes the socket with 1009
        ws_per_message_deflate=False,  # small JSON frames: compression costs more than it saves
        ws_ping_interval=20.0,  # notice vanished clients (a phone that left the Wi-Fi)
        ws_ping_timeout=20.0,
        log_level=settings.log_level,
        timeout_graceful_shutdown=8,
        server_header=False,
    )
