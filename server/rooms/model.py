"""The board of one workshop: findings (sticky notes), orientation columns and the pool.

Pure data, no I/O. A note whose ``column`` is ``None`` sits in the pool of unsorted
findings. Deleted notes and columns stay as tombstones so their ids are never reused
and a late client can still be told they went away.
"""

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "AMBITIONS",
    "COLOURS",
    "Board",
    "Column",
    "Note",
]

#: The four structuring ambitions of the Néolab² method, as stable codes.
AMBITIONS: tuple[str, ...] = ("ancrage", "transition", "travail", "consommation")

#: The sticky-note palette.
COLOURS: tuple[str, ...] = ("yellow", "pink", "blue", "green", "orange", "purple")


@dataclass(slots=True)
class Note:
    """A finding on a sticky note."""

    id: str
    text: str
    author: str
    colour: str
    ambitions: list[str]
    column: str | None
    pos: str
    deleted: bool = False


@dataclass(slots=True)
class Column:
    """An orientation column."""

    id: str
    title: str
    pos: str
    deleted: bool = False


@dataclass(slots=True)
class Board:
    """A workshop board at a given sequence number."""

    notes: dict[str, Note] = field(default_factory=dict)
    columns: dict[str, Column] = field(default_factory=dict)
    seq: int = 0

    def live_notes(self, column: str | None) -> list[Note]:
        """The live notes of one column (or of the pool), in board order."""
        found = [n for n in self.notes.values() if not n.deleted and n.column == column]
        found.sort(key=lambda n: (n.pos, n.id))
        return found

    def live_columns(self) -> list[Column]:
        """The live columns, left to right."""
        found = [c for c in self.columns.values() if not c.deleted]
        found.sort(key=lambda c: (c.pos, c.id))
        return found

    def count_live_notes(self) -> int:
        """How many notes are on the board (tombstones excluded)."""
        return sum(1 for n in self.notes.values() if not n.deleted)

    def to_dict(self, *, tombstones: bool = False) -> dict[str, Any]:
        """A JSON-ready view, in board order so equal boards give equal bytes."""
        columns = (
            sorted(self.columns.values(), key=lambda c: (c.pos, c.id))
            if tombstones
            else self.live_columns()
        )
        notes = sorted(
            (n for n in self.notes.values() if tombstones or not n.deleted),
            key=lambda n: (n.column or "", n.pos, n.id),
        )
        return {
            "seq": self.seq,
            "columns": [_public(asdict(c), tombstones) for c in columns],
            "notes": [_public(asdict(n), tombstones) for n in notes],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Board":
        """Rebuild a board saved with ``to_dict(tombstones=True)``."""
        board = cls(seq=int(data["seq"]))
        for c in data["columns"]:
            board.columns[c["id"]] = Column(**c)
        for n in data["notes"]:
            board.notes[n["id"]] = Note(**n)
        return board


def _public(item: dict[str, Any], tombstones: bool) -> dict[str, Any]:
    if not tombstones:
        item.pop("deleted", None)
    return item
