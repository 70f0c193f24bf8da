"""The embedded store: SQLite in a data directory, for one process.

Nothing to install. All SQLite work runs on one dedicated thread (SQLite connections
are not shared across threads, and one writer is what SQLite wants anyway), off the
event loop. Commits that arrive while a write is in flight are grouped into the next
transaction, so one fsync acknowledges many ops; above 500 ops a second a batch also
waits 2 ms for more (see ``SqliteStore._flush``). The data directory is made 0700 and its
files 0600: it holds silent notes, ballots and pseudonyms.
"""

import asyncio
import functools
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson

from ..metrics import STORAGE_ERRORS
from .base import (
    BackendError,
    CommitResult,
    Committed,
    JoinLink,
    LogTrimmedError,
    OpRecord,
    WorkshopMeta,
    rehash,
    scrub,
)
from .linger import Linger
from .space import FreeSpace
from .sqlite_schema import migrate

__all__ = ["SqliteStore"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Rows an erasure rewrites per transaction (then other rooms' commits get their turn).
SCRUB_BATCH = 200

#: A room's last activity (for the retention setting) is written at most this often, ms.
TOUCH_EVERY = 60_000

#: Where pseudonyms are stored: table, JSON column, row key.
_SCRUBBED = (("ops", "record", "seq"), ("checkpoints", "state", "seq"),
             ("snapshots", "body", "id"))  # fmt: skip

#: Every table that holds a workshop's data, with the column naming the workshop.
_TABLES = (("ops", "workshop"), ("checkpoints", "workshop"), ("snapshots", "workshop"),
           ("floors", "workshop"), ("trimmed", "workshop"), ("join_codes", "workshop"),
           ("workshops", "id"))  # fmt: skip

#: Ops kept in the log behind the latest checkpoint, for clients and replicas that lag
#: (as on Redis); older ones are compacted away.
DEFAULT_KEEP = 10_000


@dataclass
class _Pending:
    workshop_id: str
    records: list[OpRecord]
    future: "asyncio.Future[list[CommitResult]]" = field(repr=False)


#: A transaction handed to the SQLite thread: the commits it carries, and its results.
_Writing = tuple[list[_Pending], "asyncio.Future[list[list[CommitResult] | None]]"]


class SqliteStore:
    """A :class:`~atelier.backends.base.Store` on one SQLite file, for one process."""

    def __init__(
        self, data_dir: Path, *, keep: int = DEFAULT_KEEP, min_free_bytes: int = 0
    ) -> None:
        self._path = data_dir / "atelier.sqlite3"
        self._data_dir = data_dir
        self._keep = keep
        self._space = FreeSpace(data_dir, min_free_bytes)
        #: The schema version the database had when opened, and has now.
        self.schema: tuple[int, int] = (0, 0)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="atelier-sqlite")
        self._db: sqlite3.Connection | None = None
        self._heads: dict[str, int] = {}  # touched only on the SQLite thread
        self._touched: dict[str, int] = {}  # room -> last activity written (SQLite thread)
        self._queue: list[_Pending] = []
        self._linger = Linger()  # whether, and how long, a batch waits for more
        #: Commit transactions written (each one fsync); tests and benchmarks read it.
        self.transactions = 0
        self._flushing: asyncio.Task[None] | None = None  # answers every transaction
        self._writing: _Writing | None = None  # the transaction in the SQLite thread

    async def start(self) -> None:
        self._data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        await self._run(self._open)

    def _open(self) -> None:
        # SQLite gives its -wal and -shm files the database file's mode: make that 0600
        os.close(os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(self._path, 0o600)
        os.chmod(self._data_dir, 0o700)
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # an acknowledged op survives a power cut
        db.execute("PRAGMA secure_delete=ON")  # an erased pseudonym's old bytes are zeroed
        self.schema = migrate(db)
        self._db = db

    async def close(self) -> None:
        if self._flushing is not None:
            await self._flushing
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)

    async def ready(self) -> bool:
        try:
            await self._run(lambda: self._conn().execute("SELECT 1").fetchone())
        except (sqlite3.Error, BackendError):
            return False
        return True

    async def create_workshop(self, meta: WorkshopMeta) -> None:
        self._space.require()
        await self._run(
            lambda: self._conn().execute(
                "INSERT INTO workshops (id, meta, touched) VALUES (?, ?, ?)",
                (meta.id, meta.to_bytes(), meta.created_at),
            )
        )

    async def update_workshop(self, meta: WorkshopMeta) -> None:
        await self._run(
            lambda: self._conn().execute(
                "UPDATE workshops SET meta = ? WHERE id = ?", (meta.to_bytes(), meta.id)
            )
        )

    async def delete_workshop(self, workshop_id: str) -> None:
        await self._run(functools.partial(self._delete, workshop_id))

    def _delete(self, workshop_id: str) -> None:
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            for table, key in _TABLES:
                db.execute(f"DELETE FROM {table} WHERE {key} = ?", (workshop_id,))  # noqa: S608
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            self._heads.pop(workshop_id, None)
            self._touched.pop(workshop_id, None)

    async def scrub_author(self, workshop_id: str, digest: str, replacement: str) -> None:
        """Rewrite the rows holding the pseudonym, a few at a time: each batch is a short
        transaction of its own, so the commits of every other room go on in between."""
        for table, column, key in _SCRUBBED:
            keys = await self._run(functools.partial(self._row_keys, table, key, workshop_id))
            for start in range(0, len(keys), SCRUB_BATCH):
                rows = (table, column, key, workshop_id, keys[start : start + SCRUB_BATCH])
                await self._run(functools.partial(self._scrub_rows, *rows, digest, replacement))

    def _row_keys(self, table: str, key: str, workshop_id: str) -> list[Any]:
        query = f"SELECT {key} FROM {table} WHERE workshop = ?"  # noqa: S608
        return [row[0] for row in self._conn().execute(query, (workshop_id,))]

    def _scrub_rows(self, table: str, column: str, key: str, workshop_id: str,
                    keys: list[Any], digest: str, replacement: str) -> None:  # fmt: skip
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            for row_key in keys:
                row = db.execute(
                    f"SELECT {column} FROM {table} WHERE workshop = ? AND {key} = ?",  # noqa: S608
                    (workshop_id, row_key),
                ).fetchone()
                if row is None:
                    continue  # compacted or deleted meanwhile
                before = orjson.loads(row[0])
                after = scrub(before, digest, replacement)
                if after != before:
                    if table == "snapshots":
                        after = rehash(after)
                    db.execute(
                        f"UPDATE {table} SET {column} = ? "  # noqa: S608
                        f"WHERE workshop = ? AND {key} = ?",
                        (orjson.dumps(after), workshop_id, row_key),
                    )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    async def usage(self) -> dict[str, int]:
        return await self._run(self._usage)

    def _usage(self) -> dict[str, int]:
        db = self._conn()
        used: dict[str, int] = {}
        for query in (
            "SELECT workshop, SUM(LENGTH(record)) FROM ops GROUP BY workshop",
            "SELECT workshop, LENGTH(state) FROM checkpoints",
            "SELECT workshop, SUM(LENGTH(body)) FROM snapshots GROUP BY workshop",
            "SELECT id, LENGTH(meta) FROM workshops",
        ):
            for workshop, size in db.execute(query):
                used[workshop] = used.get(workshop, 0) + int(size or 0)
        return used

    async def size(self) -> int:
        files = [self._path, Path(f"{self._path}-wal"), Path(f"{self._path}-shm")]
        return sum(f.stat().st_size for f in files if f.exists())

    async def list_workshops(self) -> list[tuple[str, int]]:
        rows = await self._run(
            lambda: self._conn().execute("SELECT id, touched FROM workshops ORDER BY id").fetchall()
        )
        return [(row[0], row[1]) for row in rows]

    async def restore_workshop(
        self, meta: WorkshopMeta, seq: int, state: dict[str, Any], snapshots: list[dict[str, Any]]
    ) -> None:
        self._space.require()
        await self._run(functools.partial(self._restore, meta, seq, state, snapshots))

    def _restore(
        self, meta: WorkshopMeta, seq: int, state: dict[str, Any], snapshots: list[dict[str, Any]]
    ) -> None:
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "INSERT INTO workshops (id, meta, touched) VALUES (?, ?, ?)",
                (meta.id, meta.to_bytes(), int(time.time() * 1000)),
            )
            db.execute(
                "INSERT INTO checkpoints (workshop, seq, state) VALUES (?, ?, ?)",
                (meta.id, seq, orjson.dumps(state)),
            )
            for body in snapshots:
                db.execute(
                    "INSERT INTO snapshots (workshop, id, created, body) VALUES (?, ?, ?, ?)",
                    (meta.id, body["id"], body.get("at", 0), orjson.dumps(body)),
                )
            db.execute("COMMIT")
        except sqlite3.IntegrityError:
            db.execute("ROLLBACK")
            raise BackendError(f"workshop {meta.id!r} exists already") from None
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._heads.pop(meta.id, None)

    async def get_workshop(self, workshop_id: str) -> WorkshopMeta | None:
        row = await self._run(
            lambda: (
                self._conn()
                .execute("SELECT meta FROM workshops WHERE id = ?", (workshop_id,))
                .fetchone()
            )
        )
        return None if row is None else WorkshopMeta.from_bytes(row[0])

    async def commit(self, workshop_id: str, record: OpRecord) -> CommitResult:
        return (await self.submit(workshop_id, [record]))[0]

    async def commit_many(self, workshop_id: str, records: list[OpRecord]) -> list[CommitResult]:
        return await self.submit(workshop_id, records)

    def submit(
        self, workshop_id: str, records: list[OpRecord]
    ) -> "asyncio.Future[list[CommitResult]]":
        """Queue ``records`` for the next transaction now, in this very step: a socket's
        op queued one turn later than it was read misses batches it could have joined
        (a fifth more transactions at 200 ops/s in a 200-client room, bench/)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[CommitResult]] = loop.create_future()
        try:
            self._space.require()
        except Exception as refused:  # StorageFullError: answered through the future
            future.set_exception(refused)
            return future
        self._queue.append(_Pending(workshop_id, records, future))
        now = loop.time()
        self._linger.arrived(now, {r.client for r in records}, len(self._queue))
        enough = self._linger.enough(now)
        if enough and len(self._queue) >= enough and self._writing is None:
            # a lingering batch is full: start its transaction in this very turn. Waking
            # the flushing task instead would put it behind whatever the loop already
            # holds, such as the fan-out of the last batch's events (5 ms at 200 sockets
            # on a slow machine), which can run while the SQLite thread writes instead.
            # A batch that does not linger is still started by the task, in the next
            # turn, so that the commits of one turn share it.
            self._start_writing(loop)
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        return future

    def _start_writing(self, loop: asyncio.AbstractEventLoop) -> None:
        """Hand every queued commit to the SQLite thread as one transaction."""
        batch = self._queue
        writing: asyncio.Future[list[list[CommitResult] | None]]
        try:
            writing = loop.run_in_executor(
                self._executor, functools.partial(self._write_batch, batch)
            )
        except Exception as exc:  # a closed store's thread is gone: answered, not left hanging
            writing = loop.create_future()
            writing.set_exception(BackendError(f"commit failed: {exc}"))
        self._queue = []
        self._writing = (batch, writing)
        self._linger.cut_short()  # the flushing task answers it, without waiting any more

    async def _flush(self) -> None:
        """Write every queued commit in one transaction: one fsync answers them all.

        Commits that arrive while a transaction is being written wait for the next one;
        a batch may first wait a few milliseconds for more (:mod:`.linger` says when).
        The commit that makes a batch due starts its transaction itself (above); this
        task starts the others, and answers every batch. Durability is unchanged: a
        future is resolved only after the COMMIT of its op returned (``synchronous=FULL``:
        after the fsync).
        """
        loop = asyncio.get_running_loop()
        try:
            while self._queue or self._writing is not None:
                if self._writing is None:
                    await self._linger.wait(len(self._queue))
                    if self._writing is None:  # a commit may have started it meanwhile
                        self._start_writing(loop)
                assert self._writing is not None
                batch, writing = self._writing
                try:
                    results = await writing
                except Exception as exc:  # every waiter must hear of it, whatever it is
                    STORAGE_ERRORS.labels("sqlite").inc()
                    if not isinstance(exc, sqlite3.Error | BackendError):
                        log.exception("the SQLite commit failed unexpectedly")
                    for item in batch:
                        if not item.future.done():
                            item.future.set_exception(BackendError(f"commit failed: {exc}"))
                    continue
                finally:
                    self._writing = None
                for item, result in zip(batch, results, strict=True):
                    if item.future.done():
                        continue
                    if result is None:  # deleted while its ops were on their way
                        item.future.set_exception(BackendError("this workshop was deleted"))
                    else:
                        item.future.set_result(result)
        finally:
            self._flushing = None

    def _write_batch(self, batch: list[_Pending]) -> list[list[CommitResult] | None]:
        """Write a batch in one transaction; its COMMIT is the one fsync it waits for.
        A workshop deleted meanwhile gets None: its ops leave no orphan rows behind."""
        db = self._conn()
        results: list[list[CommitResult] | None] = []
        db.execute("BEGIN IMMEDIATE")
        try:
            touched: dict[str, int] = {}
            alive: dict[str, bool] = {}
            for item in batch:
                workshop = item.workshop_id
                if workshop not in alive:
                    query = "SELECT 1 FROM workshops WHERE id = ?"
                    alive[workshop] = db.execute(query, (workshop,)).fetchone() is not None
                if not alive[workshop]:
                    results.append(None)
                    continue
                results.append([self._write_one(db, workshop, r) for r in item.records])
                last = max(r.at for r in item.records) if item.records else 0
                if last - self._touched.get(item.workshop_id, 0) >= TOUCH_EVERY:
                    touched[item.workshop_id] = max(touched.get(item.workshop_id, 0), last)
            if touched:  # retention counts days: a row rewritten per op would cost a page
                db.executemany(
                    "UPDATE workshops SET touched = MAX(touched, ?) WHERE id = ?",
                    [(at, workshop) for workshop, at in touched.items()],
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            self._heads.clear()  # the cached heads may count rolled-back ops
            raise
        self.transactions += 1
        self._touched.update(touched)
        return results

    def _write_one(
        self, db: sqlite3.Connection, workshop_id: str, record: OpRecord
    ) -> CommitResult:
        row = db.execute(
            "SELECT seq FROM ops WHERE workshop = ? AND client = ? AND cop = ?",
            (workshop_id, record.client, record.cop),
        ).fetchone()
        if row is not None:
            return CommitResult(seq=row[0], duplicate=True)
        floor = db.execute(  # an op this old was compacted away: it was committed long ago
            "SELECT seq FROM floors WHERE workshop = ? AND client = ? AND cop >= ?",
            (workshop_id, record.client, record.cop),
        ).fetchone()
        if floor is not None:
            return CommitResult(seq=floor[0], duplicate=True, known=False)
        if workshop_id not in self._heads:
            # a restored or compacted workshop: its checkpoint's seq is the floor
            head = db.execute(
                "SELECT MAX(COALESCE((SELECT MAX(seq) FROM ops WHERE workshop = ?1), 0), "
                "COALESCE((SELECT seq FROM checkpoints WHERE workshop = ?1), 0), "
                "COALESCE((SELECT seq FROM trimmed WHERE workshop = ?1), 0))",
                (workshop_id,),
            ).fetchone()[0]
            self._heads[workshop_id] = head
        seq = self._heads[workshop_id] + 1
        # what Committed.to_bytes writes, without dataclasses.asdict's deep copy of the op
        blob = orjson.dumps({"seq": seq, "client": record.client, "cop": record.cop,
                             "op": record.op, "author": record.author, "role": record.role,
                             "at": record.at})  # fmt: skip
        db.execute(
            "INSERT INTO ops (workshop, seq, client, cop, record) VALUES (?, ?, ?, ?, ?)",
            (workshop_id, seq, record.client, record.cop, blob),
        )
        self._heads[workshop_id] = seq
        return CommitResult(seq=seq, duplicate=False)

    async def read_since(self, workshop_id: str, seq: int) -> list[Committed]:
        rows = await self._run(functools.partial(self._read_since, workshop_id, seq))
        return [Committed.from_bytes(r[0]) for r in rows]

    def _read_since(self, workshop_id: str, seq: int) -> list[tuple[bytes]]:
        db = self._conn()
        trimmed = db.execute("SELECT seq FROM trimmed WHERE workshop = ?", (workshop_id,))
        floor = trimmed.fetchone()
        if floor is not None and seq < floor[0]:
            raise LogTrimmedError(f"ops after {seq} were compacted (up to {floor[0]})")
        return db.execute(
            "SELECT record FROM ops WHERE workshop = ? AND seq > ? ORDER BY seq",
            (workshop_id, seq),
        ).fetchall()

    async def load_checkpoint(self, workshop_id: str) -> tuple[int, dict[str, Any]] | None:
        row = await self._run(
            lambda: (
                self._conn()
                .execute("SELECT seq, state FROM checkpoints WHERE workshop = ?", (workshop_id,))
                .fetchone()
            )
        )
        return None if row is None else (row[0], orjson.loads(row[1]))

    async def save_checkpoint(self, workshop_id: str, seq: int, state: dict[str, Any]) -> None:
        """Save a later board state, then compact the log ``keep`` ops behind it (never
        refused for want of space: compaction is what frees it)."""
        blob = orjson.dumps(state)
        await self._run(functools.partial(self._save_checkpoint, workshop_id, seq, blob))

    def _save_checkpoint(self, workshop_id: str, seq: int, blob: bytes) -> None:
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "INSERT INTO checkpoints (workshop, seq, state) VALUES (?, ?, ?) "
                "ON CONFLICT (workshop) DO UPDATE SET seq = excluded.seq, state = excluded.state "
                "WHERE excluded.seq > checkpoints.seq",
                (workshop_id, seq, blob),
            )
            self._compact(db, workshop_id, seq - self._keep)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @staticmethod
    def _compact(db: sqlite3.Connection, workshop_id: str, floor: int) -> None:
        """Drop the ops up to ``floor``, keeping each client's highest op id among them."""
        row = db.execute("SELECT seq FROM trimmed WHERE workshop = ?", (workshop_id,)).fetchone()
        if floor <= (0 if row is None else row[0]):
            return
        # SQLite takes the bare `seq` from the row holding MAX(cop)
        db.execute(
            "INSERT INTO floors (workshop, client, cop, seq) "
            "SELECT workshop, client, MAX(cop), seq FROM ops WHERE workshop = ?1 AND seq <= ?2 "
            "GROUP BY client "
            "ON CONFLICT (workshop, client) DO UPDATE SET cop = excluded.cop, seq = excluded.seq "
            "WHERE excluded.cop > floors.cop",
            (workshop_id, floor),
        )
        db.execute("DELETE FROM ops WHERE workshop = ? AND seq <= ?", (workshop_id, floor))
        db.execute(
            "INSERT INTO trimmed (workshop, seq) VALUES (?, ?) "
            "ON CONFLICT (workshop) DO UPDATE SET seq = excluded.seq",
            (workshop_id, floor),
        )

    async def put_join_code(self, code: str, link: JoinLink) -> bool:
        self._space.require()
        return await self._run(functools.partial(self._put_join_code, code, link))

    def _put_join_code(self, code: str, link: JoinLink) -> bool:
        db = self._conn()
        now = int(time.time() * 1000)
        db.execute("DELETE FROM join_codes WHERE expires <= ?", (now,))  # no table grows
        try:
            db.execute(
                "INSERT INTO join_codes (code, workshop, secret, expires) VALUES (?, ?, ?, ?)",
                (code, link.workshop_id, link.secret, link.expires),
            )
        except sqlite3.IntegrityError:
            return False
        return True

    async def get_join_code(self, code: str) -> JoinLink | None:
        row = await self._run(
            lambda: (
                self._conn()
                .execute(
                    "SELECT workshop, secret, expires FROM join_codes "
                    "WHERE code = ? AND expires > ?",
                    (code, int(time.time() * 1000)),
                )
                .fetchone()
            )
        )
        return None if row is None else JoinLink(row[0], row[1], row[2])

    async def find_join_code(self, workshop_id: str) -> tuple[str, JoinLink] | None:
        row = await self._run(
            lambda: (
                self._conn()
                .execute(
                    "SELECT code, secret, expires FROM join_codes "
                    "WHERE workshop = ? AND expires > ? ORDER BY expires DESC LIMIT 1",
                    (workshop_id, int(time.time() * 1000)),
                )
                .fetchone()
            )
        )
        return None if row is None else (row[0], JoinLink(workshop_id, row[1], row[2]))

    async def save_snapshot(self, workshop_id: str, snapshot_id: str, body: dict[str, Any]) -> None:
        self._space.require()
        blob = orjson.dumps(body)
        try:
            await self._run(
                lambda: self._conn().execute(
                    "INSERT INTO snapshots (workshop, id, created, body) VALUES (?, ?, ?, ?)",
                    (workshop_id, snapshot_id, body.get("at", 0), blob),
                )
            )
        except sqlite3.IntegrityError:
            raise BackendError(f"snapshot {snapshot_id!r} exists and is immutable") from None

    async def list_snapshots(self, workshop_id: str) -> list[dict[str, Any]]:
        rows = await self._run(
            lambda: (
                self._conn()
                .execute(
                    "SELECT body FROM snapshots WHERE workshop = ? ORDER BY created, id",
                    (workshop_id,),
                )
                .fetchall()
            )
        )
        summaries = []
        for (blob,) in rows:
            body = orjson.loads(blob)
            body.pop("state", None)
            summaries.append(body)
        return summaries

    async def get_snapshot(self, workshop_id: str, snapshot_id: str) -> dict[str, Any] | None:
        row = await self._run(
            lambda: (
                self._conn()
                .execute(
                    "SELECT body FROM snapshots WHERE workshop = ? AND id = ?",
                    (workshop_id, snapshot_id),
                )
                .fetchone()
            )
        )
        return None if row is None else dict(orjson.loads(row[0]))

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise BackendError("the embedded backend is not started")
        return self._db

    async def _run(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)
