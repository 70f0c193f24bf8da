"""The op reducer: applies one validated op to a board, deterministically.

Every replica of a room applies the same ops in the same (sequence) order with this
function, so every replica holds the same board. It decides what the op means on the
board as it is *now* (the id is free, the column still exists, where "index 2" lands)
and returns the resolved event that clients apply without deciding anything. An op
that no longer fits the board raises :class:`RoomError` and changes nothing.
"""

from typing import Any

from fractional_indexing import generate_key_between

from .errors import RoomError
from .model import Board, Column, Note
from .ops import (
    MAX_COLUMNS,
    MAX_NOTES,
    ColumnAdd,
    ColumnDelete,
    ColumnMove,
    ColumnRename,
    NoteAdd,
    NoteDelete,
    NoteEdit,
    NoteMove,
    NoteRestore,
    Op,
)

__all__ = ["Event", "apply_op"]

Event = dict[str, Any]


def apply_op(board: Board, op: Op, author: str) -> Event:
    """Apply ``op`` (made by ``author``) to ``board`` in place; return its resolved event.

    Raises :class:`RoomError`, with the board untouched, when the op does not fit.
    """
    if op["kind"] == "note.add":
        return _note_add(board, op, author)
    if op["kind"] == "note.edit":
        return _note_edit(board, op)
    if op["kind"] == "note.move":
        return _note_move(board, op)
    if op["kind"] == "note.delete":
        return _note_delete(board, op)
    if op["kind"] == "note.restore":
        return _note_restore(board, op)
    if op["kind"] == "column.add":
        return _column_add(board, op)
    if op["kind"] == "column.rename":
        return _column_rename(board, op)
    if op["kind"] == "column.move":
        return _column_move(board, op)
    if op["kind"] == "column.delete":
        return _column_delete(board, op)
    raise AssertionError(f"unhandled op kind {op['kind']!r}")  # protocol admits no other


def _note_add(board: Board, op: NoteAdd, author: str) -> Event:
    if op["id"] in board.notes:
        raise RoomError("id_taken", f"A note with id {op['id']!r} already exists.")
    if board.count_live_notes() >= MAX_NOTES:
        raise RoomError("too_many_notes", f"This board already holds {MAX_NOTES} notes.")
    column = op.get("column")
    _require_column(board, column)
    pos = _pos_at(board.live_notes(column), op.get("index"))
    note = Note(
        id=op["id"],
        text=op["text"],
        author=author,
        colour=op.get("colour", "yellow"),
        ambitions=list(op.get("ambitions", [])),
        column=column,
        pos=pos,
    )
    board.notes[note.id] = note
    return {
        "kind": "note.add",
        "id": note.id,
        "text": note.text,
        "author": note.author,
        "colour": note.colour,
        "ambitions": note.ambitions,
        "column": note.column,
        "pos": note.pos,
    }


def _note_edit(board: Board, op: NoteEdit) -> Event:
    note = _live_note(board, op["id"])
    event: Event = {"kind": "note.edit", "id": note.id}
    if "text" in op:
        note.text = event["text"] = op["text"]
    if "colour" in op:
        note.colour = event["colour"] = op["colour"]
    if "ambitions" in op:
        note.ambitions = event["ambitions"] = list(op["ambitions"])
    return event


def _note_move(board: Board, op: NoteMove) -> Event:
    note = _live_note(board, op["id"])
    column = op["column"]
    _require_column(board, column)
    others = [n for n in board.live_notes(column) if n.id != note.id]
    note.pos = _pos_at(others, op.get("index"))
    note.column = column
    return {"kind": "note.move", "id": note.id, "column": column, "pos": note.pos}


def _note_delete(board: Board, op: NoteDelete) -> Event:
    note = _live_note(board, op["id"])
    note.deleted = True
    return {"kind": "note.delete", "id": note.id}


def _note_restore(board: Board, op: NoteRestore) -> Event:
    note = board.notes.get(op["id"])
    if note is None:
        raise RoomError("unknown_note", f"There is no note {op['id']!r} on this board.")
    if not note.deleted:
        raise RoomError("not_deleted", "This note is not deleted.")
    if board.count_live_notes() >= MAX_NOTES:
        raise RoomError("too_many_notes", f"This board already holds {MAX_NOTES} notes.")
    column = note.column
    if column is not None and (column not in board.columns or board.columns[column].deleted):
        column = None  # its column went away meanwhile: it comes back to the pool
    note.pos = _pos_at(board.live_notes(column), None)
    note.column = column
    note.deleted = False
    return {
        "kind": "note.restore",
        "id": note.id,
        "text": note.text,
        "author": note.author,
        "colour": note.colour,
        "ambitions": note.ambitions,
        "column": note.column,
        "pos": note.pos,
    }


def _column_add(board: Board, op: ColumnAdd) -> Event:
    if op["id"] in board.columns:
        raise RoomError("id_taken", f"A column with id {op['id']!r} already exists.")
    if len(board.live_columns()) >= MAX_COLUMNS:
        raise RoomError("too_many_columns", f"This board already holds {MAX_COLUMNS} columns.")
    column = Column(
        id=op["id"], title=op["title"], pos=_pos_at(board.live_columns(), op.get("index"))
    )
    board.columns[column.id] = column
    return {"kind": "column.add", "id": column.id, "title": column.title, "pos": column.pos}


def _column_rename(board: Board, op: ColumnRename) -> Event:
    column = _live_column(board, op["id"])
    column.title = op["title"]
    return {"kind": "column.rename", "id": column.id, "title": column.title}


def _column_move(board: Board, op: ColumnMove) -> Event:
    column = _live_column(board, op["id"])
    others = [c for c in board.live_columns() if c.id != column.id]
    column.pos = _pos_at(others, op["index"])
    return {"kind": "column.move", "id": column.id, "pos": column.pos}


def _column_delete(board: Board, op: ColumnDelete) -> Event:
    column = _live_column(board, op["id"])
    returned = []
    last = _last_pos(board.live_notes(None))
    for note in board.live_notes(column.id):
        last = generate_key_between(last, None)
        note.column, note.pos = None, last
        returned.append({"id": note.id, "pos": note.pos})
    column.deleted = True
    return {"kind": "column.delete", "id": column.id, "notes": returned}


def _live_note(board: Board, note_id: str) -> Note:
    note = board.notes.get(note_id)
    if note is None or note.deleted:
        raise RoomError("unknown_note", f"There is no note {note_id!r} on this board.")
    return note


def _live_column(board: Board, column_id: str) -> Column:
    column = board.columns.get(column_id)
    if column is None or column.deleted:
        raise RoomError("unknown_column", f"There is no column {column_id!r} on this board.")
    return column


def _require_column(board: Board, column_id: str | None) -> None:
    if column_id is not None:
        _live_column(board, column_id)


def _pos_at(ordered: list[Note] | list[Column], index: int | None) -> str:
    """A position key that puts an item at ``index`` among ``ordered`` (end when None)."""
    if index is None or index >= len(ordered):
        return str(generate_key_between(_last_pos(ordered), None))
    before = ordered[index - 1].pos if index > 0 else None
    return str(generate_key_between(before, ordered[index].pos))


def _last_pos(ordered: list[Note] | list[Column]) -> str | None:
    return ordered[-1].pos if ordered else None
