"""The operator's commands: list workshops, back up and restore, migrate, export and
import a workshop, make the demo. Each opens the store itself (the bus only where other
processes must hear of a change), does its job and closes it; ``atelier serve`` is in
``cli.py``.
"""

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from .backends import Backends, open_backends
from .backends.base import BackendError, Store
from .backends.sqlite_backup import backup_database, restore_database
from .config import Settings
from .rooms.hub import revocation
from .transfer import TransferError, dumps, export_workshop, import_workshop

__all__ = ["COMMANDS", "add_commands", "run"]

#: name -> its help line
COMMANDS = {
    "workshops": "list the workshops: id, title, creation, last activity, size",
    "backup": "write a consistent backup of every workshop, while the server runs",
    "restore": "put a backup in place (stop the server first)",
    "migrate": "bring the stored data to this Atelier's schema version (also done on start)",
    "export": "write a whole workshop (board, snapshots, official record) as JSON",
    "import": "recreate a workshop from an 'atelier export' file",
    "demo": "create demo workshops from the seed's examples and print their links",
}


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the operator's subcommands to the ``atelier`` parser."""
    defaults = Settings()
    for name, text in COMMANDS.items():
        sub = commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        if name == "export":
            sub.add_argument("workshop", help="the workshop's id (in its links: /w/ID)")
            sub.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
        elif name == "import":
            sub.add_argument("file", type=Path, help="a file written by 'atelier export'")
            sub.add_argument("--replace", action="store_true",
                             help="replace a workshop of the same id")  # fmt: skip
        elif name == "backup":
            sub.add_argument("-o", "--output", type=Path, required=True,
                             help="the backup file to write (it must not exist)")  # fmt: skip
        elif name == "restore":
            sub.add_argument("file", type=Path, help="a file written by 'atelier backup'")
            sub.add_argument("--replace", action="store_true",
                             help="overwrite the data there (stop the server first)")  # fmt: skip
        elif name == "demo":
            sub.add_argument("--base", default="http://127.0.0.1:8000", metavar="URL",
                             help="the server's public address, for the links "
                             "(default %(default)s)")  # fmt: skip
        elif name == "workshops":
            sub.add_argument("--json", action="store_true", help="one JSON object per line")
        sub.add_argument("--data", type=Path, default=None,
                         help=f"the embedded store's directory (ATELIER_DATA, default "
                         f"./{defaults.data})")  # fmt: skip
        sub.add_argument("--redis", dest="redis_url", metavar="URL",
                         help="use this Redis instead (ATELIER_REDIS_URL)")  # fmt: skip


def run(command: str, args: dict[str, Any]) -> None:
    """Carry out one operator command; a failure ends the process with its message."""
    settings = Settings.from_env(data=args["data"], redis_url=args["redis_url"])
    try:
        if command == "backup":
            _backup(settings, args["output"])
        elif command == "restore":
            _restore(settings, args["file"], args["replace"])
        elif command == "demo":
            _demo(settings, args["base"].rstrip("/"))
        else:
            asyncio.run(_ASYNC[command](settings, args))
    except (TransferError, BackendError, OSError, orjson.JSONDecodeError) as error:
        sys.exit(f"atelier {command}: {error}")


def _backends(settings: Settings) -> Backends:
    return open_backends(settings.redis_url, settings.data_dir, keep=settings.log_keep)


async def _with_store(settings: Settings, work: Callable[[Store], Awaitable[None]]) -> None:
    store = _backends(settings).store
    await store.start()  # checks (and migrates) the schema
    try:
        await work(store)
    finally:
        await store.close()


async def _workshops(settings: Settings, args: dict[str, Any]) -> None:
    async def listing(store: Store) -> None:
        usage = await store.usage()
        for workshop_id, touched in await store.list_workshops():
            meta = await store.get_workshop(workshop_id)
            title, created = (meta.title, _day(meta.created_at)) if meta else ("", "")
            size = usage.get(workshop_id, 0)
            if args["json"]:
                row = {"id": workshop_id, "title": title, "created": created,
                       "last_activity": _day(touched), "bytes": size}  # fmt: skip
                print(orjson.dumps(row).decode())
            else:
                print(f"{workshop_id}  {created:<10}  {_day(touched):<10}  {_size(size):>9}  "
                      f"{title}")  # fmt: skip

    await _with_store(settings, listing)


async def _migrate(settings: Settings, args: dict[str, Any]) -> None:
    async def report(store: Store) -> None:
        found, now = getattr(store, "schema", (0, 0))
        print(f"schema version {found} -> {now}" if found != now else f"schema version {now}")

    await _with_store(settings, report)


async def _export(settings: Settings, args: dict[str, Any]) -> None:
    async def write(store: Store) -> None:
        document = dumps(await export_workshop(store, args["workshop"], settings.room_limits))
        if args["output"] is None:
            sys.stdout.buffer.write(document)
        else:
            args["output"].write_bytes(document)

    await _with_store(settings, write)


async def _import(settings: Settings, args: dict[str, Any]) -> None:
    document = orjson.loads(args["file"].read_bytes())
    backends = _backends(settings)
    await backends.start()
    try:
        meta = await import_workshop(backends.store, document, replace=args["replace"],
                                     before_replace=lambda wid: backends.bus.publish_presence(
                                         wid, revocation("*")))  # fmt: skip
    finally:
        await backends.close()
    print(f"imported workshop {meta.id} ({meta.title}); its links work as before")


def _backup(settings: Settings, target: Path) -> None:
    if settings.redis_url:
        from .backends.redis_backup import backup_redis

        if target.exists():
            raise BackendError(f"{target} exists; choose a new file")
        data, count = asyncio.run(backup_redis(settings.redis_url))
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        print(f"backed up {count} Redis keys to {target} ({_size(len(data))})")
    else:
        size = backup_database(settings.data_dir, target)
        print(f"backed up {settings.data_dir} to {target} ({_size(size)})")


def _restore(settings: Settings, source: Path, replace: bool) -> None:
    if settings.redis_url:
        from .backends.redis_backup import restore_redis

        count = asyncio.run(restore_redis(source.read_bytes(), settings.redis_url,
                                          replace=replace))  # fmt: skip
        print(f"restored {count} Redis keys from {source}; start the servers")
    else:
        version = restore_database(source, settings.data_dir, replace=replace)
        print(f"restored {source} (schema {version}) into {settings.data_dir}; start the server")


def _demo(settings: Settings, base_url: str) -> None:
    from .demo import run as make_demos

    for workshop in make_demos(_backends(settings).store, base_url):
        print(f"{workshop['territory']}")
        for role, link in workshop["links"].items():
            print(f"  {role:<12} {link}")


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat() if ms else ""


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    amount = float(count)
    for unit in ("KiB", "MiB", "GiB"):
        amount /= 1024
        if amount < 1024 or unit == "GiB":
            break
    return f"{amount:.1f} {unit}"


_ASYNC: dict[str, Callable[[Settings, dict[str, Any]], Coroutine[Any, Any, None]]] = {
    "workshops": _workshops,
    "migrate": _migrate,
    "export": _export,
    "import": _import,
}
