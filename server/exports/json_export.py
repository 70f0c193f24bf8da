"""JSON export: the complete view, re-importable into a new workshop as an identical board."""

from collections.abc import Callable
from typing import Any

import orjson

from ..rooms.model import Board
from .document import Document

__all__ = ["FORMAT", "BoardImportError", "board_from_export", "export"]

FORMAT = "atelier-board"
VERSION = 1

#: Ballot keys no client id can take (client ids are letters, digits, '-' and '_').
_IMPORTED_BALLOT = "*import*"


class BoardImportError(ValueError):
    """The file is not an Atelier JSON export this version can read."""


def export(doc: Document) -> bytes:
    """The whole document as JSON (UTF-8, keys sorted, indented for people too)."""
    body: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "workshop": {"id": doc.workshop_id, "title": doc.title, "territory": doc.territory},
        "source": doc.source,
        "state": doc.state,
    }
    if doc.record is not None:
        body["record"] = doc.record
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)


def board_from_export(data: Any, check: Callable[[Board], None]) -> tuple[Board, dict[str, str]]:
    """Rebuild the exported board (not frozen, seq 0) and the workshop's title and territory.

    The board's every view equals the exported one, except that it is no longer frozen
    (a frozen board lives on only in its own workshop: an import is a new version) and
    that revealed vote counts stand without their ballots. ``check`` refuses (ValueError)
    a board the reducer could never have made: it came from a file.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BoardImportError("This is not an Atelier JSON export.")
    if data.get("version") != VERSION:
        raise BoardImportError(f"Only version {VERSION} exports can be imported.")
    state = data.get("state")
    workshop = data.get("workshop")
    if not isinstance(state, dict) or not isinstance(workshop, dict):
        raise BoardImportError("The export has no board state.")
    try:
        board = Board.from_dict({**state, "seq": 0, "frozen": None})
        counts = (state.get("votes") or {}).get("counts")
        if counts:
            board.votes = {_IMPORTED_BALLOT: {str(c): int(n) for c, n in counts.items()}}
        board.contributors = {f"*{i}" for i in range(int(state.get("contributors", 0)))}
        check(board)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BoardImportError(f"The board in the export is damaged: {exc}.") from None
    meta = {"title": str(workshop.get("title", ""))[:200],
            "territory": str(workshop.get("territory", ""))[:200]}  # fmt: skip
    return board, meta
