"""Where the live notes of a board sit: each column's notes (and the pool's) in board
order, how many live notes there are and which of them are silent.

The reducer asks these on every note op (is the board full, what is next to index 3 of
that column, how many silent notes wait). Scanning every note for them made a note op
cost O(N) in the board: about 0.4 ms at 5,000 notes. Each column keeps a list sorted by
``(pos, id)``, the board's order, searched with ``bisect``: a lookup is O(log N)
comparisons, an insertion or removal one ``memmove`` of the column's pointers.

Pure data; :class:`~.model.Board` keeps one and updates it whenever a note enters,
moves, leaves or goes public, through its own methods.
"""

from bisect import bisect_left, insort

from .items import Note

__all__ = ["NoteOrder"]

Key = tuple[str, str]  # (pos, id): the board's order within a column


class NoteOrder:
    """The live notes' order per column (``None`` is the pool), their count, the silent ones
    and whose they are."""

    __slots__ = ("_columns", "_count", "_silent")

    def __init__(self) -> None:
        self._columns: dict[str | None, list[Key]] = {}
        self._count = 0
        self._silent: dict[str, str] = {}  # silent note id -> its author's client id

    def add(self, note: Note) -> None:
        """Count a live note where it now sits (a deleted one is not counted)."""
        if note.deleted:
            return
        insort(self._columns.setdefault(note.column, []), (note.pos, note.id))
        self._count += 1
        if note.private_to is not None:
            self._silent[note.id] = note.private_to

    def remove(self, note: Note) -> None:
        """Forget a live note, before it moves, goes, or goes public."""
        if note.deleted:
            return
        keys = self._columns[note.column]
        del keys[bisect_left(keys, (note.pos, note.id))]
        self._count -= 1
        self._silent.pop(note.id, None)

    @property
    def count(self) -> int:
        """How many live notes the board holds."""
        return self._count

    @property
    def silent(self) -> int:
        """How many live notes are still silent (seen by their author only)."""
        return len(self._silent)

    def has_silent_notes_of(self, client: str) -> bool:
        """Whether any live silent note is ``client``'s."""
        return client in self._silent.values()

    def ids(self, column: str | None) -> list[str]:
        """The live notes of ``column``, in board order."""
        return [note_id for _, note_id in self._columns.get(column, ())]

    def last_pos(self, column: str | None) -> str | None:
        """The position of the last live note of ``column``, if any."""
        keys = self._columns.get(column)
        return keys[-1][0] if keys else None

    def around(
        self, column: str | None, index: int | None, leaving: Note | None = None
    ) -> tuple[str | None, str | None]:
        """The positions on either side of ``index`` in ``column`` (the end when None or
        past it), as if ``leaving`` were not there: where a note put at ``index`` goes."""
        keys = self._columns.get(column, [])
        skip = -1
        if leaving is not None and not leaving.deleted and leaving.column == column:
            skip = bisect_left(keys, (leaving.pos, leaving.id))
        size = len(keys) - (skip >= 0)
        if index is None or index >= size:
            return self._pos_before(keys, len(keys), skip), None
        at = index + (0 <= skip <= index)  # the index among ``keys``, the leaving one kept
        return self._pos_before(keys, at, skip), keys[at][0]

    @staticmethod
    def _pos_before(keys: list[Key], at: int, skip: int) -> str | None:
        before = at - 1
        if before == skip:
            before -= 1
        return keys[before][0] if before >= 0 else None
