"""The HTTP side of the workshop's flow: snapshots, diffs, exports, imports and reopening.

Free of the web framework: each call takes what the request said (the workshop and the
role its link grants, already checked by ``server/app.py``) and returns a :class:`Reply`
that the app turns into a response. Every board view is filtered for the reader's
role, so no silent note and no one's vote leaves through here before the reveal.
"""

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from .backends.base import BackendError, Store, WorkshopMeta
from .capabilities import ROLES, hash_secret, new_secret, new_workshop_id
from .exports import FORMATS, Document
from .heavy import export_file, plan_csv_import, read_board_export, snapshot_view
from .rooms.diff import diff
from .rooms.model import PHASES, Board
from .rooms.ops import MAX_NOTE_TEXT, RoomLimits
from .rooms.record import RECORD_ID
from .rooms.registry import RoomRegistry
from .workers import WorkerPool

__all__ = ["MAX_UPLOAD", "FlowApi", "Reply", "new_workshop", "start_phase"]

#: The largest CSV or JSON file one may import, in bytes.
MAX_UPLOAD = 4 * 1024 * 1024
#: What may name a snapshot in a URL: ``s{seq}`` or the official record.
_SNAPSHOT_ID = re.compile(r"s[0-9]{1,15}|" + RECORD_ID)


@dataclass(frozen=True, slots=True)
class Reply:
    """What to answer: a status, the body's bytes, its media type, extra headers."""

    status: int
    body: bytes
    media_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _json(data: Any, status: int = 200) -> Reply:
    return Reply(status, orjson.dumps(data))


def _error(status: int, code: str, message: str) -> Reply:
    return _json({"error": code, "message": message}, status)


def start_phase(value: Any) -> int | None:
    """The phase a new workshop starts in: phase 4 when none is asked, else 1 to 5;
    None when what was asked is no phase."""
    if value is None:
        return 4
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= len(PHASES):
        return None
    return value


async def new_workshop(
    backend: Store,
    board: Board,
    *,
    title: str,
    territory: str,
    previous: str | None,
    base_url: str,
) -> dict[str, Any]:
    """Create a workshop that starts from ``board``; return its id and fresh links."""
    secrets_by_role = {role: new_secret() for role in ROLES}
    meta = WorkshopMeta(
        id=new_workshop_id(),
        title=title or "Atelier",
        territory=territory,
        created_at=int(time.time() * 1000),
        token_hashes={role: hash_secret(s) for role, s in secrets_by_role.items()},
        previous=previous,
    )
    await backend.create_workshop(meta)
    board.seq = 0  # its log starts empty: the board is its checkpoint at seq 0
    await backend.save_checkpoint(meta.id, 0, board.to_checkpoint())
    links = {role: f"{base_url}/w/{meta.id}#k={s}" for role, s in secrets_by_role.items()}
    return {"id": meta.id, "title": meta.title, "territory": meta.territory,
            "previous": previous, "links": links}  # fmt: skip


class FlowApi:
    """The flow's HTTP calls, over this process's backend and rooms."""

    def __init__(
        self,
        backend: Store,
        registry: RoomRegistry,
        *,
        limits: RoomLimits,
        workers: WorkerPool,
        max_text: int = MAX_NOTE_TEXT,
    ) -> None:
        self.backend = backend
        self.registry = registry
        self.workers = workers  # exports and imports run there, never on the event loop
        self.limits = limits  # imports are checked with the rooms' own limits
        self.max_text = max_text

    async def _board(self, workshop_id: str) -> Board:
        """A copy of this process's replica of the board."""
        hub = await self.registry.acquire(workshop_id)
        try:
            return Board.from_dict(hub.board.to_dict(tombstones=True))
        finally:
            self.registry.release(workshop_id)

    async def _source(
        self, workshop_id: str, role: str, source: str | None
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None] | None:
        """(view, source summary, record or None) of the board now, a snapshot or the record.

        A stored snapshot's view is built in the worker pool (it may be a 5,000-note
        board); the board now is this process's replica's view, built once.
        """
        hub = await self.registry.acquire(workshop_id)
        try:
            if source in (None, "", "now"):
                summary = {"kind": "board", "seq": hub.board.seq, "at": int(time.time() * 1000)}
                # a role with no client sees what anyone sees: the view shared per seq
                return hub.public_view(), summary, None
            erased = sorted(hub.board.erased)
        finally:
            self.registry.release(workshop_id)
        assert source is not None
        if not _SNAPSHOT_ID.fullmatch(source):
            return None
        body = await self.backend.get_snapshot(workshop_id, source)
        if body is None:
            return None
        return await self.workers.run(workshop_id, snapshot_view, body, role, erased)

    async def snapshots(self, workshop_id: str) -> Reply:
        """Every snapshot's summary (and the record's, once frozen), oldest first."""
        return _json({"snapshots": await self.backend.list_snapshots(workshop_id)})

    async def snapshot(self, workshop_id: str, role: str, snapshot_id: str) -> Reply:
        """One snapshot, its board filtered for the reader."""
        found = await self._source(workshop_id, role, snapshot_id)
        if found is None:
            return _error(404, "not_found", f"No snapshot {snapshot_id!r} in this workshop.")
        view, summary, record = found
        body = {**summary, "state": view}
        if record is not None:
            body["record"] = record
        return _json(body)

    async def diff(self, workshop_id: str, role: str, before: str, after: str) -> Reply:
        """What changed from one snapshot to another (``now`` is the board as it is)."""
        with self.workers.admit(workshop_id) as place:  # refused before any view is made
            old = await self._source(workshop_id, role, before)
            new = await self._source(workshop_id, role, after)
            if old is None or new is None:
                return _error(404, "not_found", "No such snapshot in this workshop.")
            changes = await place.run(diff, old[0], new[0])
        return _json({"before": old[1], "after": new[1], **changes})

    async def export(
        self, meta: WorkshopMeta, role: str, fmt: str, source: str | None, base_url: str
    ) -> Reply:
        """The board, a snapshot or the record as a file of the given format."""
        if fmt not in FORMATS:
            return _error(404, "not_found", f"No export format {fmt!r}.")
        # a place in the workshop's line first: an export refused (429 busy) costs no view
        # of the board (5,000 notes: milliseconds of the event loop every room waits on)
        with self.workers.admit(meta.id) as place:
            found = await self._source(meta.id, role, source)
            if found is None:
                return _error(404, "not_found", f"No snapshot {source!r} in this workshop.")
            view, summary, record = found
            doc = Document(meta.id, meta.title, meta.territory, view, summary, record, base_url)
            body = await place.run(export_file, fmt, doc)  # off the event loop
        _, media_type = FORMATS[fmt]
        name = f"atelier-{meta.id}-{summary.get('id', 'tableau')}.{fmt}"
        return Reply(200, body, media_type,
                     {"content-disposition": f'attachment; filename="{name}"',
                      "cache-control": "no-store"})  # fmt: skip

    async def import_findings(
        self, meta: WorkshopMeta, role: str, raw: bytes, *, preview: bool = False
    ) -> Reply:
        """Add a CSV file's findings to the pool and its action ideas under no orientation,
        as ops checked and committed like a socket's; or, with ``preview``, only say what
        would be added and what refused (line and reason), committing nothing."""
        if role != "facilitator":
            return _error(403, "forbidden", "Only the facilitator may import findings.")
        client = "import-" + secrets.token_hex(6)  # one import, one client: retries dedupe
        hub = await self.registry.acquire(meta.id)
        try:
            plan, refused = await self.workers.run(meta.id, plan_csv_import, raw, hub.board,
                                                   client, self.limits, self.max_text)  # fmt: skip
            if refused is not None:
                return _json({"error": "bad_csv", **refused}, 400)
            report = plan.report()
            if preview:
                return _json({**report, "preview": True})
            try:  # one write, one fsync for the whole file
                results = await hub.commit_many(plan.records(client, int(time.time() * 1000)))
                outcomes = [await hub.outcome(r.seq) for r in results]
            except BackendError:
                return _error(503, "unavailable", "Storage is unavailable; try again.")
            seqs = [r.seq for r in results]
            rejected = [o.code for o in outcomes if o.code is not None]
        finally:
            self.registry.release(meta.id)
        return _json({**report, "preview": False, "added": len(seqs) - len(rejected),
                      "rejected": rejected, "seq": seqs[-1] if seqs else None})  # fmt: skip

    async def reopen(self, meta: WorkshopMeta, role: str, base_url: str) -> Reply:
        """Copy a frozen workshop into a new one (not frozen) that links back to it."""
        if role != "facilitator":
            return _error(403, "forbidden", "Only the facilitator may reopen a workshop.")
        board = await self._board(meta.id)
        if board.frozen is None:
            return _error(409, "not_frozen", "Only a frozen workshop can be reopened.")
        board.frozen = None
        board.tools.voting = False
        created = await new_workshop(self.backend, board, title=meta.title,
                                     territory=meta.territory, previous=meta.id,
                                     base_url=base_url)  # fmt: skip
        return _json(created, 201)

    async def import_board(self, raw: bytes, base_url: str, key: str) -> Reply:
        """Make a new workshop from a JSON export (the board as its reader saw it); ``key``
        (the client's address) keeps one client's imports in one line of the pool."""
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _error(400, "bad_json", "The file is not valid JSON.")
        read, refused = await self.workers.run(key, read_board_export, data, self.limits,
                                               self.max_text)  # fmt: skip
        if read is None:
            return _error(400, "bad_export", refused or "")
        board, fields = read
        created = await new_workshop(self.backend, board, title=fields["title"],
                                     territory=fields["territory"], previous=None,
                                     base_url=base_url)  # fmt: skip
        return _json(created, 201)
