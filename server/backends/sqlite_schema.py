"""The SQLite store's schema, its version, and the migrations between versions.

The version lives in SQLite's ``PRAGMA user_version``. A database at version 0 with
tables is what release 0.1.0 wrote (it never set a version): version 1. Opening a
database migrates it to :data:`SCHEMA_VERSION` in one transaction, or refuses it when
it was written by a newer Atelier (:class:`SchemaError`): an older release must never
guess at data it does not know.
"""

import sqlite3

from .base import BackendError

__all__ = ["SCHEMA_VERSION", "SchemaError", "migrate"]

#: The version this code writes and reads.
SCHEMA_VERSION = 2

_V1 = """
CREATE TABLE IF NOT EXISTS workshops (
    id TEXT PRIMARY KEY, meta BLOB NOT NULL, touched INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS ops (
    workshop TEXT NOT NULL, seq INTEGER NOT NULL, client TEXT NOT NULL, cop INTEGER NOT NULL,
    record BLOB NOT NULL, PRIMARY KEY (workshop, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS ops_dedupe ON ops (workshop, client, cop);
CREATE TABLE IF NOT EXISTS checkpoints (
    workshop TEXT PRIMARY KEY, seq INTEGER NOT NULL, state BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshots (
    workshop TEXT NOT NULL, id TEXT NOT NULL, created INTEGER NOT NULL, body BLOB NOT NULL,
    PRIMARY KEY (workshop, id)
);
"""

# Version 2: the op log is compacted behind each checkpoint, as on Redis. ``trimmed``
# says up to which seq a room's log is gone; ``floors`` keeps, per client, the highest
# op compacted away, so that an old retry is still recognised as a duplicate.
# ``join_codes``: the short join links of the join screen (a code for a participant link,
# for a few hours).
_V2 = """
CREATE TABLE IF NOT EXISTS trimmed (workshop TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS floors (
    workshop TEXT NOT NULL, client TEXT NOT NULL, cop INTEGER NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (workshop, client)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS join_codes (
    code TEXT PRIMARY KEY, workshop TEXT NOT NULL, secret TEXT NOT NULL,
    expires INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS join_codes_workshop ON join_codes (workshop);
"""

#: version reached -> the statements that reach it from the one before
_STEPS = {1: _V1, 2: _V2}


class SchemaError(BackendError):
    """The database was written by a newer Atelier than this one."""


def migrate(db: sqlite3.Connection) -> tuple[int, int]:
    """Bring ``db`` to :data:`SCHEMA_VERSION`; return (version found, version now)."""
    found = _version(db)
    if found > SCHEMA_VERSION:
        raise SchemaError(
            f"this database has schema version {found}, written by a newer Atelier; "
            f"this one reads up to {SCHEMA_VERSION}: upgrade Atelier, or restore a backup"
        )
    if found == SCHEMA_VERSION:
        return found, found
    db.execute("BEGIN IMMEDIATE")
    try:
        for version in range(found + 1, SCHEMA_VERSION + 1):
            for statement in _STEPS[version].split(";"):
                if statement.strip():
                    db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return found, SCHEMA_VERSION


def _version(db: sqlite3.Connection) -> int:
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version == 0:
        tables = db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'ops'").fetchone()
        return 1 if tables[0] else 0  # 0.1.0 wrote tables but no version
    return version
