"""Backing up and restoring the embedded store's database, while the server runs.

A plain ``cp`` of a live SQLite database in WAL mode copies a file whose latest pages
are still in the ``-wal`` file: it restores an older or empty database. SQLite's online
backup API copies a consistent snapshot instead, page by page under a read lock, while
the server goes on writing (WAL lets one writer and readers work at once).
"""

import os
import sqlite3
from pathlib import Path

from .base import BackendError
from .sqlite_schema import SCHEMA_VERSION

__all__ = ["DATABASE", "backup_database", "restore_database"]

#: The database's file name in the data directory.
DATABASE = "atelier.sqlite3"


def backup_database(data_dir: Path, target: Path) -> int:
    """Copy the live database of ``data_dir`` to ``target`` (0600); its size in bytes."""
    source_path = data_dir / DATABASE
    if not source_path.is_file():
        raise BackendError(f"no Atelier database in {data_dir}")
    if target.exists():
        raise BackendError(f"{target} exists; choose a new file")
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source = sqlite3.connect(source_path)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # every page at once: one consistent snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        copy.close()
        source.close()
    return target.stat().st_size


def restore_database(backup: Path, data_dir: Path, *, replace: bool = False) -> int:
    """Put a backup in place as ``data_dir``'s database (the server must be stopped);
    the schema version it holds; it is migrated when the server starts."""
    version = check_backup(backup)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = data_dir / DATABASE
    if target.exists() and not replace:
        raise BackendError(f"{target} exists; stop the server and pass --replace to overwrite it")
    staging = data_dir / f".{DATABASE}.restoring"
    staging.unlink(missing_ok=True)
    os.close(os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source = sqlite3.connect(backup)
    fresh = sqlite3.connect(staging)
    try:
        source.backup(fresh)
        fresh.execute("PRAGMA journal_mode=DELETE")
    finally:
        fresh.close()
        source.close()
    # only once the copy is whole does it replace the database (a failed copy leaves it)
    for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)  # a WAL of the database replaced must not be replayed
    os.replace(staging, target)
    return version


def check_backup(backup: Path) -> int:
    """The schema version of an Atelier database backup; BackendError if it is none."""
    try:
        db = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
        try:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        finally:
            db.close()
    except sqlite3.Error as error:
        raise BackendError(f"{backup} is not an SQLite database: {error}") from None
    if not {"workshops", "ops", "checkpoints", "snapshots"} <= tables:
        raise BackendError(f"{backup} is not an Atelier database")
    if version > SCHEMA_VERSION:
        raise BackendError(f"{backup} has schema {version}, newer than this Atelier's")
    return version
