"""Parsing client frames: good ones come out typed, bad ones name their problem."""

from typing import Any

import orjson
import pytest
from atelier.protocol import ProtocolError, parse

from .support import check_client_frame

pytestmark = pytest.mark.pure  # no server, no I/O: the fast layer

JOIN = {"type": "join", "v": 1, "token": "t", "client": "c-1", "name": " Ana ", "since": 4}


def test_join_is_parsed_and_name_trimmed() -> None:
    """A join frame comes out whole, its pseudonym trimmed."""
    message = parse(orjson.dumps(JOIN))
    assert message == {**JOIN, "name": "Ana"}


def test_op_fields_are_normalised() -> None:
    """Unknown op fields are dropped; ambitions come in the method's order."""
    frame = {"type": "op", "cop": 3, "op": {"kind": "note.add", "id": "n1", "text": "x",
             "ambitions": ["travail", "ancrage"], "evil": "<script>"}}  # fmt: skip
    message = parse(orjson.dumps(frame))
    assert message == {"type": "op", "cop": 3, "op": {"kind": "note.add", "id": "n1",
                       "text": "x", "ambitions": ["ancrage", "travail"]}}  # fmt: skip


def test_every_parsed_op_matches_the_schema() -> None:
    """What the parser accepts, the published schema accepts too."""
    for op in [
        {"kind": "note.add", "id": "a", "text": "x", "column": None, "index": 0, "colour": "blue"},
        {"kind": "note.edit", "id": "a", "colour": "pink"},
        {"kind": "note.move", "id": "a", "column": "c", "index": 2},
        {"kind": "note.delete", "id": "a"},
        {"kind": "note.restore", "id": "a"},
        {"kind": "column.add", "id": "c", "title": "T"},
        {"kind": "column.rename", "id": "c", "title": "T"},
        {"kind": "column.move", "id": "c", "index": 0},
        {"kind": "column.delete", "id": "c"},
    ]:
        message: Any = parse(orjson.dumps({"type": "op", "cop": 1, "op": op}))
        check_client_frame(message)


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"{not json", "bad_json"),
        (b"[1, 2]", "bad_frame"),
        (b'{"no": "type"}', "missing_field"),
        (b'{"type": "dance"}', "unknown_type"),
        (b'{"type": "op", "op": {"kind": "note.delete", "id": "a"}}', "missing_field"),
        (b'{"type": "op", "cop": "1", "op": {"kind": "note.delete", "id": "a"}}', "bad_field"),
        (b'{"type": "op", "cop": true, "op": {"kind": "note.delete", "id": "a"}}', "bad_field"),
        (b'{"type": "op", "cop": 0, "op": {"kind": "note.delete", "id": "a"}}', "bad_field"),
        (b'{"type": "op", "cop": 1, "op": []}', "missing_field"),
        (b'{"type": "op", "cop": 1, "op": {"kind": "note.fly", "id": "a"}}', "unknown_op"),
        (b'{"type": "op", "cop": 1, "op": {"kind": "note.delete"}}', "missing_field"),
        (b'{"type": "op", "cop": 1, "op": {"kind": "note.delete", "id": "a b"}}', "bad_field"),
        (b'{"type": "op", "cop": 1, "op": {"kind": "note.add", "id": "a", "text": 5}}',
         "bad_field"),
        (b'{"type": "op", "cop": 1, "op": {"kind": "note.add", "id": "a"}}', "missing_field"),
        (b'{"type": "op", "cop": 1, "op": {"kind": "note.edit", "id": "a"}}', "missing_field"),
        (b'{"type": "op", "cop": 1, "op": {"kind": "note.move", "id": "a"}}', "missing_field"),
        (b'{"type": "op", "cop": 1, "op": {"kind": "note.edit", "id": "a", "colour": "red"}}',
         "bad_field"),
        (b'{"type": "op", "cop": 1, "op": {"kind": "note.edit", "id": "a", "ambitions": ["x"]}}',
         "bad_field"),
        (b'{"type": "op", "cop": 1, "op": {"kind": "column.add", "id": "a", "title": "  "}}',
         "bad_field"),
        (b'{"type": "op", "cop": 1, "op": {"kind": "column.move", "id": "a", "index": -1}}',
         "bad_field"),
        (b'{"type": "join", "v": 2, "token": "t", "client": "c", "name": "n"}', "bad_version"),
        (b'{"type": "join", "v": 1, "token": "t", "client": "c", "name": "  "}', "bad_field"),
        (b'{"type": "drag", "note": 3}', "bad_field"),
    ],
)  # fmt: skip
def test_bad_frames_name_their_problem(frame: bytes, code: str) -> None:
    """Each kind of bad frame raises ProtocolError with its own code and a message."""
    with pytest.raises(ProtocolError) as error:
        parse(frame)
    assert error.value.code == code and error.value.message


def test_text_over_the_limit_is_refused() -> None:
    """A note's text over 1000 characters is refused as too long."""
    op = {"kind": "note.add", "id": "a", "text": "é" * 1001}
    with pytest.raises(ProtocolError) as error:
        parse(orjson.dumps({"type": "op", "cop": 1, "op": op}))
    assert error.value.code == "too_long"


def test_a_bad_op_keeps_its_client_op_id() -> None:
    """A bad op with a good cop carries the cop, so the sender can drop it from its outbox."""
    with pytest.raises(ProtocolError) as error:
        parse(b'{"type": "op", "cop": 7, "op": {"kind": "note.add", "id": "a"}}')
    assert error.value.cop == 7
