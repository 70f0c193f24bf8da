"""The pure room model: each op's effect, its refusals, and properties over random op streams."""

import contextlib
import copy
from typing import Any

import orjson
import pytest
from atelier.rooms.errors import RoomError
from atelier.rooms.model import AMBITIONS, COLOURS, Board, Note
from atelier.rooms.reducer import Context, apply_op
from hypothesis import given, settings
from hypothesis import strategies as st

from .support import apply_event, board_from_state, canonical

pytestmark = pytest.mark.pure  # no server, no I/O: the fast layer


def run(board: Board, *ops: dict[str, Any], author: str = "Ana") -> list[dict[str, Any]]:
    return [apply_op(board, op, Context(author)) for op in ops]  # type: ignore[arg-type]


def order(board: Board, column: str | None) -> list[str]:
    return [n.id for n in board.live_notes(column)]


def test_add_note_to_pool_and_column() -> None:
    """A note lands in the pool or in a column, with its author and a position."""
    board = Board()
    run(board, {"kind": "column.add", "id": "c1", "title": "Coopération"})
    add, add2 = run(
        board,
        {"kind": "note.add", "id": "n1", "text": "Peu de commerces"},
        {"kind": "note.add", "id": "n2", "text": "Tiers-lieu", "column": "c1"},
    )
    assert add["column"] is None and add["author"] == "Ana" and add["pos"]
    assert order(board, None) == ["n1"] and order(board, "c1") == ["n2"]
    assert add2["colour"] == "yellow" and add2["ambitions"] == []


def test_index_places_notes_in_order() -> None:
    """An index inserts before the note that held it; past the end means last."""
    board = Board()
    run(
        board,
        {"kind": "note.add", "id": "a", "text": "a"},
        {"kind": "note.add", "id": "b", "text": "b"},
        {"kind": "note.add", "id": "c", "text": "c", "index": 1},
        {"kind": "note.add", "id": "d", "text": "d", "index": 0},
        {"kind": "note.add", "id": "e", "text": "e", "index": 99},
    )
    assert order(board, None) == ["d", "a", "c", "b", "e"]


def test_move_between_columns_and_within() -> None:
    """A move changes one note's column and position, and nothing else."""
    board = Board()
    run(
        board,
        {"kind": "column.add", "id": "c1", "title": "A"},
        {"kind": "note.add", "id": "a", "text": "a"},
        {"kind": "note.add", "id": "b", "text": "b"},
        {"kind": "note.add", "id": "c", "text": "c"},
    )
    before = copy.deepcopy(board.notes)
    (event,) = run(board, {"kind": "note.move", "id": "b", "column": "c1"})
    assert event == {"kind": "note.move", "id": "b", "column": "c1", "pos": board.notes["b"].pos}
    assert board.notes["a"] == before["a"] and board.notes["c"] == before["c"]
    run(board, {"kind": "note.move", "id": "c", "column": None, "index": 0})
    assert order(board, None) == ["c", "a"]


def test_edit_changes_only_given_fields() -> None:
    """An edit touches only the fields it names; ambitions keep the method's order."""
    board = Board()
    run(board, {"kind": "note.add", "id": "a", "text": "avant", "colour": "pink"})
    (event,) = run(board, {"kind": "note.edit", "id": "a", "ambitions": ["travail", "ancrage"]})
    assert event == {"kind": "note.edit", "id": "a", "ambitions": ["travail", "ancrage"]}
    note = board.notes["a"]
    assert note.text == "avant" and note.colour == "pink"


def test_delete_then_restore() -> None:
    """A deleted note is a tombstone that restore brings back; its id is never reused."""
    board = Board()
    run(board, {"kind": "note.add", "id": "a", "text": "x"}, {"kind": "note.delete", "id": "a"})
    assert board.count_live_notes() == 0 and board.notes["a"].deleted
    with pytest.raises(RoomError) as taken:
        run(board, {"kind": "note.add", "id": "a", "text": "y"})
    assert taken.value.code == "id_taken"
    run(board, {"kind": "note.restore", "id": "a"})
    assert order(board, None) == ["a"]


def test_column_delete_returns_notes_to_pool() -> None:
    """Deleting a column sends its notes back to the pool, after those already there."""
    board = Board()
    run(
        board,
        {"kind": "note.add", "id": "p", "text": "pool"},
        {"kind": "column.add", "id": "c1", "title": "A"},
        {"kind": "note.add", "id": "a", "text": "a", "column": "c1"},
        {"kind": "note.add", "id": "b", "text": "b", "column": "c1"},
    )
    (event,) = run(board, {"kind": "column.delete", "id": "c1"})
    assert [n["id"] for n in event["notes"]] == ["a", "b"]
    assert order(board, None) == ["p", "a", "b"]
    assert board.live_columns() == []


def test_column_rename_and_reorder() -> None:
    """Columns are renamed in place and reordered by index."""
    board = Board()
    run(
        board,
        {"kind": "column.add", "id": "a", "title": "A"},
        {"kind": "column.add", "id": "b", "title": "B"},
        {"kind": "column.rename", "id": "a", "title": "Ancrage"},
        {"kind": "column.move", "id": "b", "index": 0},
    )
    assert [(c.id, c.title) for c in board.live_columns()] == [("b", "B"), ("a", "Ancrage")]


@pytest.mark.parametrize(
    ("op", "code"),
    [
        ({"kind": "note.edit", "id": "nope", "text": "x"}, "unknown_note"),
        ({"kind": "note.move", "id": "nope", "column": None}, "unknown_note"),
        ({"kind": "note.move", "id": "n", "column": "nope"}, "unknown_column"),
        ({"kind": "note.add", "id": "m", "text": "x", "column": "gone"}, "unknown_column"),
        ({"kind": "note.delete", "id": "nope"}, "unknown_note"),
        ({"kind": "note.restore", "id": "n"}, "not_deleted"),
        ({"kind": "column.rename", "id": "gone", "title": "x"}, "unknown_column"),
        ({"kind": "column.delete", "id": "gone"}, "unknown_column"),
        ({"kind": "column.add", "id": "c", "title": "again"}, "id_taken"),
    ],
)
def test_invalid_ops_are_refused_and_change_nothing(op: dict[str, Any], code: str) -> None:
    """An op that does not fit the board is refused with a reason; the board is unchanged."""
    board = Board()
    run(
        board,
        {"kind": "column.add", "id": "c", "title": "C"},
        {"kind": "column.add", "id": "gone", "title": "G"},
        {"kind": "column.delete", "id": "gone"},
        {"kind": "note.add", "id": "n", "text": "n", "column": "c"},
    )
    before = board.to_dict(tombstones=True)
    with pytest.raises(RoomError) as refused:
        run(board, op)
    assert refused.value.code == code and refused.value.message
    assert board.to_dict(tombstones=True) == before


IDS = st.sampled_from(["a", "b", "c", "d", "e", "f"])
COLS = st.sampled_from(["x", "y", "z"])


@st.composite
def ops(draw: st.DrawFn) -> dict[str, Any]:
    """Any op the protocol admits, on a small id space so ops collide often."""
    kind = draw(st.sampled_from(
        ["note.add", "note.edit", "note.move", "note.delete", "note.restore",
         "column.add", "column.rename", "column.move", "column.delete"]
    ))  # fmt: skip
    index = draw(st.none() | st.integers(0, 8))
    if kind == "note.add":
        colour = draw(st.sampled_from(COLOURS))
        op = {"kind": kind, "id": draw(IDS), "text": draw(st.text(max_size=5)),
              "column": draw(st.none() | COLS), "colour": colour}  # fmt: skip
    elif kind == "note.edit":
        op = {"kind": kind, "id": draw(IDS), "text": draw(st.text(max_size=5)),
              "ambitions": draw(st.lists(st.sampled_from(AMBITIONS), unique=True))}  # fmt: skip
    elif kind == "note.move":
        op = {"kind": kind, "id": draw(IDS), "column": draw(st.none() | COLS)}
    elif kind in ("column.add", "column.rename"):
        op = {"kind": kind, "id": draw(COLS), "title": draw(st.text(min_size=1, max_size=5))}
    elif kind == "column.move":
        op = {"kind": kind, "id": draw(COLS), "index": index or 0}
    else:
        op = {"kind": kind, "id": draw(COLS if kind.startswith("column") else IDS)}
    if index is not None and kind in ("note.add", "note.move", "column.add"):
        op["index"] = index
    return op


def check_invariants(board: Board) -> None:
    live_columns = {c.id for c in board.live_columns()}
    for column in [None, *live_columns]:
        positions = [n.pos for n in board.live_notes(column)]
        assert len(positions) == len(set(positions)), "two notes share a position"
    for note in board.notes.values():
        if not note.deleted:
            assert note.column is None or note.column in live_columns
    column_positions = [c.pos for c in board.live_columns()]
    assert len(column_positions) == len(set(column_positions))


@settings(max_examples=200, deadline=None)
@given(st.lists(ops(), max_size=60))
def test_random_streams_converge_and_keep_invariants(stream: list[dict[str, Any]]) -> None:
    """Any op stream: replicas agree, events rebuild the board, refusals change nothing."""
    first, second = Board(), Board()
    mirror = board_from_state(Board().to_dict())
    for seq, op in enumerate(stream, start=1):
        before = first.to_dict(tombstones=True)
        try:
            event = apply_op(first, op, Context("Ana"))  # type: ignore[arg-type]
        except RoomError:
            assert first.to_dict(tombstones=True) == before
            with pytest.raises(RoomError):
                apply_op(second, op, Context("Ana"))  # type: ignore[arg-type]
        else:
            assert apply_op(second, op, Context("Ana")) == event  # type: ignore[arg-type]
            apply_event(mirror, event)
        first.seq = second.seq = seq
        check_invariants(first)
    assert first.to_dict(tombstones=True) == second.to_dict(tombstones=True)
    assert canonical(mirror) == canonical(first.to_dict())
    assert Board.from_dict(first.to_dict(tombstones=True)) == first


def test_a_checkpoint_keeps_every_field_of_a_note() -> None:
    """Every field of a note, silent, imported, deleted or with the diagnostic's fields,
    reads back from a checkpoint as it was (a lost ``private_to`` would show a silent
    note to everyone after a reload)."""
    board = Board()
    notes = [
        Note("n1", "Silencieux", "Ana", "pink", ["ancrage", "travail"], None, "a0",
             private_to="client-ana"),
        Note("n2", "Importé", "INSEE", "blue", [], "c1", "a1", type="menace",
             theme="Emploi", source="INSEE 2021", indicator="12 %", imported=True),
        Note("n3", "Effacé", "Bob", "yellow", ["transition"], "c1", "a2", deleted=True),
    ]  # fmt: skip
    for note in notes:
        board.add_note(note)
    reloaded = Board.from_dict(orjson.loads(orjson.dumps(board.to_checkpoint())))
    assert list(reloaded.notes.values()) == notes
    assert reloaded.silent_waiting() == board.silent_waiting() == 1
    assert reloaded.holds_silent_notes_of("client-ana")


@settings(max_examples=100, deadline=None)
@given(st.lists(ops(), max_size=40), st.lists(ops(), max_size=40))
def test_a_checkpoint_reads_back_as_the_board_it_was_taken_from(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> None:
    """A checkpoint (notes as a table) reads back as the board it was taken from, even
    once the board moved on before it was encoded (the room encodes it a step later):
    no later add, edit, move, delete or restore leaks in."""
    board = Board()
    for op in before:
        with contextlib.suppress(RoomError):
            apply_op(board, op, Context("Ana"))  # type: ignore[arg-type]
    checkpoint, expected = board.to_checkpoint(), board.to_dict(tombstones=True)
    touch_every_note = [
        op
        for note in list(board.notes)
        for op in (
            {"kind": "note.edit", "id": note, "text": "après", "ambitions": ["ancrage"]},
            {"kind": "note.restore", "id": note},
            {"kind": "note.move", "id": note, "column": None, "index": 0},
            {"kind": "note.delete", "id": note},
        )
    ]
    for op in touch_every_note + after:
        with contextlib.suppress(RoomError):
            apply_op(board, op, Context("Ana"))  # type: ignore[arg-type]
    reloaded = Board.from_dict(orjson.loads(orjson.dumps(checkpoint)))
    assert reloaded.to_dict(tombstones=True) == expected
    assert Board.from_dict(board.to_checkpoint()) == board
