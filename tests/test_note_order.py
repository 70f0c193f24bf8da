"""The board's note order (rooms/note_order.py) always says what a scan of every note
would: each column's live notes in (pos, id) order, how many there are, how many are
silent, including across silent writing, reveals, deletions, restores, column deletions
and a reload from storage."""

from contextlib import suppress
from typing import Any

import pytest
from atelier.rooms.context import Context
from atelier.rooms.errors import RoomError
from atelier.rooms.items import Note
from atelier.rooms.model import Board
from atelier.rooms.note_order import NoteOrder
from atelier.rooms.reducer import apply
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.pure

FACILITATOR = Context("Fanny", role="facilitator", client="f")
PARTICIPANTS = [Context("Ana", role="participant", client="a"),
                Context("Bob", role="participant", client="b")]  # fmt: skip
IDS = st.sampled_from(["n1", "n2", "n3", "n4", "n5", "n6"])
COLUMNS = st.sampled_from(["c1", "c2"])
INDEX = st.none() | st.integers(0, 7)


def scanned(board: Board, column: str | None) -> list[str]:
    """The live notes of ``column`` the slow way, as the board was read before the index."""
    found = [n for n in board.notes.values() if not n.deleted and n.column == column]
    return [n.id for n in sorted(found, key=lambda n: (n.pos, n.id))]


def assert_order_is_true(board: Board) -> None:
    for column in [None, *board.columns]:
        assert [n.id for n in board.live_notes(column)] == scanned(board, column)
    live = [n for n in board.notes.values() if not n.deleted]
    assert board.count_live_notes() == len(live)
    assert board.silent_waiting() == sum(1 for n in live if n.private_to is not None)


@st.composite
def steps(draw: st.DrawFn) -> tuple[Context, dict[str, Any]]:
    """An op and who sends it: participants write (silently when it is on), the
    facilitator turns silent writing on and off, reveals, deletes columns."""
    kind = draw(st.sampled_from(
        ["note.add", "note.add", "note.move", "note.move", "note.delete", "note.restore",
         "column.add", "column.delete", "tools.set", "notes.reveal"]
    ))  # fmt: skip
    who = draw(st.sampled_from(PARTICIPANTS))
    if kind == "note.add":
        return who, {"kind": kind, "id": draw(IDS), "text": "constat",
                     "column": draw(st.none() | COLUMNS), "index": draw(INDEX)}  # fmt: skip
    if kind == "note.move":
        return who, {"kind": kind, "id": draw(IDS), "column": draw(st.none() | COLUMNS),
                     "index": draw(INDEX)}  # fmt: skip
    if kind in ("note.delete", "note.restore"):
        return who, {"kind": kind, "id": draw(IDS)}
    if kind == "column.add":
        return FACILITATOR, {"kind": kind, "id": draw(COLUMNS), "title": "Orientation"}
    if kind == "column.delete":
        return FACILITATOR, {"kind": kind, "id": draw(COLUMNS)}
    if kind == "tools.set":
        return FACILITATOR, {"kind": kind, "silent": draw(st.booleans())}
    return FACILITATOR, {"kind": kind}


@settings(max_examples=300, deadline=None)
@given(st.lists(steps(), max_size=50))
def test_the_order_says_what_a_scan_of_every_note_says(stream: list[Any]) -> None:
    board = Board.new(4)
    for who, op in stream:
        op = {k: v for k, v in op.items() if not (k == "index" and v is None)}
        with suppress(RoomError):  # a refused op changes nothing, the order included
            apply(board, op, who)
        assert_order_is_true(board)
    reloaded = Board.from_dict(board.to_dict(tombstones=True))
    assert_order_is_true(reloaded)
    for column in [None, *board.columns]:
        assert reloaded.live_notes(column) == board.live_notes(column)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text("abc", min_size=1, max_size=3), unique=True, max_size=8),
    st.none() | st.integers(0, 9),
    st.none() | st.integers(0, 9),
)
def test_around_an_index_as_if_the_leaving_note_were_gone(
    positions: list[str], index: int | None, leaving_at: int | None
) -> None:
    """``around`` gives the neighbours a plain list without the leaving note would."""
    order = NoteOrder()
    notes = [Note(f"n{i}", "", "", "yellow", [], None, pos) for i, pos in enumerate(positions)]
    for note in notes:
        order.add(note)
    ordered = sorted(notes, key=lambda n: (n.pos, n.id))
    leaving = ordered[leaving_at] if leaving_at is not None and leaving_at < len(ordered) else None
    others = [n for n in ordered if n is not leaving]
    if index is None or index >= len(others):
        expected = (others[-1].pos if others else None, None)
    else:
        expected = (others[index - 1].pos if index > 0 else None, others[index].pos)
    assert order.around(None, index, leaving) == expected
