"""The heavy jobs of the HTTP API, as plain functions a worker process runs.

Each takes and returns plain, picklable data (an error comes back as a value, since an
exception with its own fields may not survive the trip between processes), so that
``WorkerPool.run`` can carry it off the event loop: an export of a 5,000-note board or
the replay of a large import takes seconds, and would otherwise stall every room.
"""

from typing import Any

from .exports import FORMATS, Document
from .imports import BoardImportError, CsvImportError, board_from_export, plan_csv
from .rooms.model import Board, Viewer, erase_names
from .rooms.ops import RoomLimits
from .rooms.record import RECORD_ID
from .rooms.reducer import ANONYMISED

__all__ = ["export_file", "plan_csv_import", "read_board_export", "snapshot_view"]


def export_file(fmt: str, doc: Document) -> bytes:
    """The file of format ``fmt`` (a key of ``exports.FORMATS``) for ``doc``."""
    exporter, _ = FORMATS[fmt]
    return exporter(doc)


def plan_csv_import(
    raw: bytes, board: Board, client: str, limits: RoomLimits, max_text: int
) -> tuple[Any, dict[str, Any] | None]:
    """(the plan, None), or (None, the refusal: message, line, reason)."""
    try:
        return plan_csv(raw, board, client=client, limits=limits, max_text=max_text), None
    except CsvImportError as error:
        return None, {"message": str(error), "line": error.line, "reason": error.reason}


def read_board_export(
    data: Any, limits: RoomLimits, max_text: int
) -> tuple[tuple[Board, dict[str, str]] | None, str | None]:
    """((board, title and territory), None), or (None, why the export is refused)."""
    try:
        return board_from_export(data, limits=limits, max_text=max_text), None
    except BoardImportError as error:
        return None, str(error)


def snapshot_view(
    body: dict[str, Any], role: str, erased: list[str]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """(view for ``role``, summary, record or None) of a stored snapshot or the record.

    Names erased since it was stored read anonymously (``erased``: their digests): the
    stored copy is immutable, what is served is not.
    """
    if erased:
        body = erase_names(body, set(erased), ANONYMISED)
    summary = {k: body[k] for k in ("id", "seq", "phase", "label", "at", "by", "hash")}
    if body["id"] == RECORD_ID:  # already the public view: a frozen board hides nothing
        return body["state"], {"kind": "record", **summary}, body["record"]
    view = Board.from_dict(body["state"]).to_dict(viewer=Viewer(role))
    return view, {"kind": "snapshot", **summary}, None
