"""The op reducer: applies one validated op to a board, deterministically.

Every replica of a room applies the same ops in the same (sequence) order with this
function, so every replica holds the same board. It decides what the op means on the
board as it is *now* (the id is free, the column still exists, where "index 2" lands,
the sender's role may do this, the board is not frozen) and returns the resolved event
that clients apply without deciding anything. An op that no longer fits the board
raises :class:`RoomError` and changes nothing.

Authorization lives here, not in the socket layer, because only here is it
deterministic: the role in the committed record is checked by every replica alike,
and a freeze is final for every op ordered after it, whichever process sent it.

Some events are private (a silent note, a vote): :func:`apply` says who sees which
version of the event in an :class:`Applied`. The notes, columns and ideas are applied
here; the flow (votes, phases, tools, reveals, freeze, erasure) in ``flow_ops.py``, the
instance de co-décision's record in ``council_ops.py``.
"""

from typing import Any, cast

from fractional_indexing import generate_key_between

from .context import Applied, Context, Event
from .council_ops import COUNCIL_KINDS, apply_council
from .errors import RoomError
from .flow_ops import ANONYMISED, FLOW_KINDS, apply_flow, snapshot_id
from .items import FINDING_FIELDS
from .lookup import live_column, open_column, require_open_column
from .model import Board, Column, Idea, Note
from .ops import (
    FACILITATOR_KINDS,
    IMPORT_ROLE,
    SHAPING_KINDS,
    ColumnAdd,
    ColumnDelete,
    ColumnLock,
    ColumnMove,
    ColumnRename,
    ColumnState,
    IdeaAdd,
    IdeaDelete,
    IdeaMove,
    NoteAdd,
    NoteDelete,
    NoteEdit,
    NoteMove,
    NoteRestore,
    Op,
)
from .views import idea_view, note_event

__all__ = ["ANONYMISED", "Applied", "Context", "Event", "apply", "apply_op", "snapshot_id"]

FACILITATOR, PARTICIPANT = "facilitator", "participant"


def apply_op(board: Board, op: Op, ctx: Context | str) -> Event:
    """Apply ``op`` to ``board`` in place; return the event as its own sender sees it.

    A bare author name stands for a participant's context (what callers passed before
    the flow had roles). Raises :class:`RoomError`, with the board untouched, when the
    op does not fit.
    """
    if isinstance(ctx, str):
        ctx = Context(ctx)
    event = apply(board, op, ctx).for_client(ctx.client)
    assert event is not None  # the sender always sees what it did
    return event


def apply(board: Board, op: Op, ctx: Context) -> Applied:
    """Apply ``op`` to ``board`` in place; return who sees which resolved event."""
    kind = op["kind"]
    if board.frozen is not None:
        raise RoomError("frozen", "The board is frozen: it is the official record now.")
    if ctx.role == "observer":
        raise RoomError("forbidden", "Observers can watch but not edit.")
    if kind in FACILITATOR_KINDS and ctx.role not in (FACILITATOR, IMPORT_ROLE):
        raise RoomError("forbidden", "Only the facilitator may do this.")
    if kind in SHAPING_KINDS and ctx.role == PARTICIPANT and not board.tools.shaping:
        raise RoomError(
            "shaping_closed", "Only the facilitator shapes the orientations unless they open it."
        )
    applied = _dispatch(board, op, ctx)
    if ctx.role == PARTICIPANT:
        board.contributors.add(ctx.client)
    return applied


def _dispatch(board: Board, op: Op, ctx: Context) -> Applied:
    kind = op["kind"]
    if kind == "note.add":
        return _note_add(board, cast(NoteAdd, op), ctx)
    if kind == "note.edit":
        return _note_edit(board, cast(NoteEdit, op), ctx)
    if kind == "note.move":
        return _note_move(board, cast(NoteMove, op), ctx)
    if kind == "note.delete":
        return _note_delete(board, cast(NoteDelete, op), ctx)
    if kind == "note.restore":
        return _note_restore(board, cast(NoteRestore, op), ctx)
    if kind == "column.add":
        return Applied(_column_add(board, cast(ColumnAdd, op), ctx))
    if kind == "column.rename":
        return Applied(_column_rename(board, cast(ColumnRename, op)))
    if kind == "column.move":
        return Applied(_column_move(board, cast(ColumnMove, op)))
    if kind == "column.delete":
        return _column_delete(board, cast(ColumnDelete, op))
    if kind == "column.state":
        return Applied(_column_state(board, cast(ColumnState, op)))
    if kind in ("column.lock", "column.unlock"):
        return Applied(_column_lock(board, cast(ColumnLock, op)))
    if kind == "idea.add":
        return Applied(_idea_add(board, cast(IdeaAdd, op), ctx))
    if kind == "idea.delete":
        return Applied(_idea_delete(board, cast(IdeaDelete, op)))
    if kind == "idea.move":
        return Applied(_idea_move(board, cast(IdeaMove, op)))
    if kind in COUNCIL_KINDS:
        return Applied(apply_council(board, op))
    if kind in FLOW_KINDS:
        return apply_flow(board, op, ctx)
    raise AssertionError(f"unhandled op kind {kind!r}")  # protocol admits no other


def _seen_by(board: Board, note: Note, event: Event, *, counted: bool = False) -> Applied:
    """Everyone sees an event about a public note; only its author one about a silent
    note, which says so (``private``): the client never has to guess.

    ``counted``: the op changed how many silent notes wait. Everyone else is then told
    the new count (``silent.waiting``), never the text; the author's event carries it too.
    """
    if note.private_to is None:
        return Applied(event)
    if not counted:
        return Applied(None, {note.private_to: {**event, "private": True}})
    waiting = board.silent_waiting()
    return Applied(
        {"kind": "silent.waiting", "silent_waiting": waiting},
        {note.private_to: {**event, "private": True, "silent_waiting": waiting}},
    )


def _note_add(board: Board, op: NoteAdd, ctx: Context) -> Applied:
    if op["id"] in board.notes:
        raise RoomError("id_taken", f"A note with id {op['id']!r} already exists.")
    if board.count_live_notes() >= ctx.limits.notes:
        raise RoomError("too_many_notes", f"This board already holds {ctx.limits.notes} notes.")
    column = op.get("column")
    require_open_column(board, column)
    note = Note(
        id=op["id"],
        text=op["text"],
        author=ctx.author,
        colour=op.get("colour", "yellow"),
        ambitions=list(op.get("ambitions", [])),
        column=column,
        pos=_imported_pos(board.order.last_pos(column), op, ctx)
        or _pos_at(*board.order.around(column, op.get("index"))),
        # silent writing is the participants'; the facilitator's notes (imports too) stay public
        private_to=ctx.client if board.tools.silent and ctx.role == PARTICIPANT else None,
        type=op.get("type", ""),
        theme=op.get("theme", ""),
        source=op.get("source", ""),
        indicator=op.get("indicator", ""),
        imported=_imported(op, ctx),
    )
    board.add_note(note)
    return _seen_by(board, note, note_event("note.add", note), counted=True)


def _note_edit(board: Board, op: NoteEdit, ctx: Context) -> Applied:
    note = _live_note(board, op["id"], ctx)
    require_open_column(board, note.column)
    event: Event = {"kind": "note.edit", "id": note.id}
    if "text" in op:
        note.text = event["text"] = op["text"]
    if "colour" in op:
        note.colour = event["colour"] = op["colour"]
    if "ambitions" in op:
        note.ambitions = event["ambitions"] = list(op["ambitions"])
    for key in FINDING_FIELDS:
        if key in op:  # '' clears it
            setattr(note, key, op[key])  # type: ignore[literal-required]
            event[key] = op[key]  # type: ignore[literal-required]
    return _seen_by(board, note, event)


def _note_move(board: Board, op: NoteMove, ctx: Context) -> Applied:
    note = _live_note(board, op["id"], ctx)
    column = op["column"]
    require_open_column(board, note.column)
    require_open_column(board, column)
    board.place_note(note, column, _pos_at(*board.order.around(column, op.get("index"), note)))
    return _seen_by(
        board, note, {"kind": "note.move", "id": note.id, "column": column, "pos": note.pos}
    )


def _note_delete(board: Board, op: NoteDelete, ctx: Context) -> Applied:
    note = _live_note(board, op["id"], ctx)
    require_open_column(board, note.column)
    board.delete_note(note)
    return _seen_by(board, note, {"kind": "note.delete", "id": note.id}, counted=True)


def _note_restore(board: Board, op: NoteRestore, ctx: Context) -> Applied:
    note = board.notes.get(op["id"])
    if note is None or note.private_to not in (None, ctx.client):
        raise RoomError("unknown_note", f"There is no note {op['id']!r} on this board.")
    if not note.deleted:
        raise RoomError("not_deleted", "This note is not deleted.")
    if board.count_live_notes() >= ctx.limits.notes:
        raise RoomError("too_many_notes", f"This board already holds {ctx.limits.notes} notes.")
    column = note.column
    if column is not None and (column not in board.columns or board.columns[column].deleted):
        column = None  # its column went away meanwhile: it comes back to the pool
    require_open_column(board, column)
    board.restore_note(note, column, _pos_at(board.order.last_pos(column), None))
    return _seen_by(board, note, note_event("note.restore", note), counted=True)


def _column_add(board: Board, op: ColumnAdd, ctx: Context) -> Event:
    if op["id"] in board.columns:
        raise RoomError("id_taken", f"A column with id {op['id']!r} already exists.")
    if len(board.live_columns()) >= ctx.limits.columns:
        raise RoomError(
            "too_many_columns", f"This board already holds {ctx.limits.columns} columns."
        )
    ordered = board.live_columns()
    pos = _imported_pos(_last_pos(ordered), op, ctx) or _pos_at(*_around(ordered, op.get("index")))
    column = Column(id=op["id"], title=op["title"], pos=pos)
    board.columns[column.id] = column
    return {"kind": "column.add", "id": column.id, "title": column.title, "pos": column.pos}


def _column_rename(board: Board, op: ColumnRename) -> Event:
    column = open_column(board, op["id"])
    column.title = op["title"]
    return {"kind": "column.rename", "id": column.id, "title": column.title}


def _column_move(board: Board, op: ColumnMove) -> Event:
    # moving a locked column is allowed: the lock guards its content, not the order
    column = live_column(board, op["id"])
    others = [c for c in board.live_columns() if c.id != column.id]
    column.pos = _pos_at(*_around(others, op["index"]))
    return {"kind": "column.move", "id": column.id, "pos": column.pos}


def _column_delete(board: Board, op: ColumnDelete) -> Applied:
    column = open_column(board, op["id"])
    moved: list[tuple[Note, dict[str, str]]] = []
    last = board.order.last_pos(None)
    for note in board.live_notes(column.id):
        last = generate_key_between(last, None)
        board.place_note(note, None, last)
        moved.append((note, {"id": note.id, "pos": note.pos}))
    column.deleted = True
    if board.focus == column.id:
        board.focus = None  # the wall no longer points at it (clients clear it alike)
    # its ideas wait under no orientation, rather than vanish with it
    ideas = sorted(i.id for i in board.ideas.values() if i.column == column.id and not i.deleted)
    for idea_id in ideas:
        board.ideas[idea_id].column = None
    # a silent note that went back to the pool is news for its author only
    public = [entry for note, entry in moved if note.private_to is None]
    applied = Applied({"kind": "column.delete", "id": column.id, "notes": public, "ideas": ideas})
    for owner in sorted({n.private_to for n, _ in moved if n.private_to is not None}):
        own = [entry for note, entry in moved if note.private_to in (None, owner)]
        applied.private[owner] = {"kind": "column.delete", "id": column.id, "notes": own,
                                  "ideas": ideas}  # fmt: skip
    return applied


def _column_state(board: Board, op: ColumnState) -> Event:
    column = open_column(board, op["id"])
    column.statement = op["statement"]
    return {"kind": "column.state", "id": column.id, "statement": column.statement}


def _column_lock(board: Board, op: ColumnLock) -> Event:
    column = live_column(board, op["id"])
    column.locked = op["kind"] == "column.lock"
    return {"kind": op["kind"], "id": column.id}


def _idea_add(board: Board, op: IdeaAdd, ctx: Context) -> Event:
    if op["id"] in board.ideas:
        raise RoomError("id_taken", f"An idea with id {op['id']!r} already exists.")
    if sum(1 for i in board.ideas.values() if not i.deleted) >= ctx.limits.ideas:
        raise RoomError("too_many_ideas", f"This board already holds {ctx.limits.ideas} ideas.")
    column = op.get("column")
    if column is not None:
        live_column(board, column)
    idea = Idea(id=op["id"], column=column, text=op["text"], author=ctx.author,
                imported=_imported(op, ctx))  # fmt: skip
    board.ideas[idea.id] = idea
    return {"kind": "idea.add", **idea_view(idea, storage=False)}


def _idea_delete(board: Board, op: IdeaDelete) -> Event:
    idea = _live_idea(board, op["id"])
    idea.deleted = True
    return {"kind": "idea.delete", "id": idea.id}


def _idea_move(board: Board, op: IdeaMove) -> Event:
    idea = _live_idea(board, op["id"])
    column = op["column"]
    if column is not None:
        live_column(board, column)
    idea.column = column
    return {"kind": "idea.move", "id": idea.id, "column": column}


def _live_idea(board: Board, idea_id: str) -> Idea:
    idea = board.ideas.get(idea_id)
    if idea is None or idea.deleted:
        raise RoomError("unknown_idea", f"There is no idea {idea_id!r} on this board.")
    # under a deleted orientation (a board stored before column.delete moved its ideas
    # out), an idea is in no view: it does not exist
    column = None if idea.column is None else board.columns.get(idea.column)
    if column is not None and column.deleted:
        raise RoomError("unknown_idea", f"There is no idea {idea_id!r} on this board.")
    return idea


def _live_note(board: Board, note_id: str, ctx: Context) -> Note:
    note = board.notes.get(note_id)
    # a silent note does not exist for anyone but its author until the reveal
    if note is None or note.deleted or note.private_to not in (None, ctx.client):
        raise RoomError("unknown_note", f"There is no note {note_id!r} on this board.")
    return note


def _imported(op: Any, ctx: Context) -> bool:
    """Whether an item comes from a file: an import says so (a board's export keeps its
    participants' notes as theirs); nothing else can."""
    return ctx.role == IMPORT_ROLE and op.get("imported") is True


def _imported_pos(last: str | None, op: Any, ctx: Context) -> str | None:
    """The position an import gives (it keeps the exported order), checked to come after
    ``last``, the last item already there, so that positions stay distinct and increasing."""
    pos = op.get("pos") if ctx.role == IMPORT_ROLE else None
    if pos is None:
        return None
    if last is not None and pos <= last:
        raise RoomError("bad_position", "An imported item must come after those before it.")
    return str(pos)


def _pos_at(before: str | None, after: str | None) -> str:
    """A position key between ``before`` and ``after`` (None: either end)."""
    return str(generate_key_between(before, after))


def _around(ordered: list[Column], index: int | None) -> tuple[str | None, str | None]:
    """The positions on either side of ``index`` among ``ordered`` (the end when None)."""
    if index is None or index >= len(ordered):
        return _last_pos(ordered), None
    return (ordered[index - 1].pos if index > 0 else None), ordered[index].pos


def _last_pos(ordered: list[Column]) -> str | None:
    return ordered[-1].pos if ordered else None
