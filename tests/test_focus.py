"""The facilitator points the wall at one orientation (``focus``); blank findings are refused."""

from typing import Any

import orjson
import pytest
from atelier.protocol import ProtocolError, parse
from atelier.rooms.errors import RoomError
from atelier.rooms.model import ANONYMOUS, Board
from atelier.rooms.reducer import Context, apply

from .support import check_client_frame, check_server_frame

pytestmark = pytest.mark.pure  # no server, no I/O: the fast layer

FACILITATOR = Context("Fanny", "facilitator", "cf", 1_000)
ANA = Context("Ana", "participant", "ca", 2_000)


def board_with_columns() -> Board:
    board = Board.new()
    for column in ("c1", "c2"):
        apply(board, {"kind": "column.add", "id": column, "title": column}, FACILITATOR)
    return board


def test_focus_points_the_wall_at_an_orientation_and_back_to_the_board() -> None:
    """The facilitator's focus is in the view and its event; null is the whole board."""
    board = board_with_columns()
    event = apply(board, {"kind": "focus", "column": "c2"}, FACILITATOR).event
    assert event == {"kind": "focus", "column": "c2"}
    check_server_frame({"type": "event", "seq": 3, "op": event})
    assert board.to_dict(viewer=ANONYMOUS)["focus"] == "c2"
    apply(board, {"kind": "focus", "column": None}, FACILITATOR)
    assert board.to_dict(viewer=ANONYMOUS)["focus"] is None


def test_focus_is_the_facilitators_and_needs_a_live_orientation() -> None:
    """A participant may not move the wall; an unknown orientation is refused; deleting the
    orientation in focus clears it, on every replica alike."""
    board = board_with_columns()
    for who, op, code in (
        (ANA, {"kind": "focus", "column": "c1"}, "forbidden"),
        (FACILITATOR, {"kind": "focus", "column": "nope"}, "unknown_column"),
    ):
        with pytest.raises(RoomError) as refused:
            apply(board, op, who)  # type: ignore[arg-type]
        assert refused.value.code == code
    apply(board, {"kind": "focus", "column": "c1"}, FACILITATOR)
    apply(board, {"kind": "column.delete", "id": "c1"}, FACILITATOR)
    assert board.focus is None
    assert Board.from_dict(board.to_dict(tombstones=True)).focus is None


@pytest.mark.parametrize(
    ("op", "code"),
    [
        ({"kind": "focus"}, "missing_field"),
        ({"kind": "focus", "column": "bad id"}, "bad_field"),
        ({"kind": "note.add", "id": "n", "text": ""}, "bad_field"),
        ({"kind": "note.add", "id": "n", "text": "  \n\t "}, "bad_field"),
        ({"kind": "note.edit", "id": "n", "text": " "}, "bad_field"),
    ],
    ids=lambda x: str(x)[:40],
)
def test_bad_focus_and_blank_findings_are_refused_before_the_room(
    op: dict[str, Any], code: str
) -> None:
    """A focus without its column and a finding with nothing in it get a code, not a room."""
    with pytest.raises(ProtocolError) as refused:
        parse(orjson.dumps({"type": "op", "cop": 1, "op": op}))
    assert refused.value.code == code


def test_a_good_focus_parses_and_matches_the_schema() -> None:
    """The focus op, either way, is a valid client frame."""
    for column in ("c1", None):
        frame = {"type": "op", "cop": 1, "op": {"kind": "focus", "column": column}}
        check_client_frame(frame)
        assert parse(orjson.dumps(frame)) == frame
