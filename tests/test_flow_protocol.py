"""Parsing the flow's ops: every field checked, the schema agreeing with the parser."""

from typing import Any

import orjson
import pytest
from atelier.protocol import ProtocolError, parse
from atelier.records import name_digest

from .support import check_client_frame

pytestmark = pytest.mark.pure  # no server, no I/O: the fast layer

GOOD: list[dict[str, Any]] = [
    {"kind": "column.state", "id": "c1", "statement": "Coopérer"},
    {"kind": "column.lock", "id": "c1"},
    {"kind": "column.unlock", "id": "c1"},
    {"kind": "idea.add", "id": "i1", "column": "c1", "text": "Un club"},
    {"kind": "idea.delete", "id": "i1"},
    {"kind": "vote.add", "column": "c1"},
    {"kind": "vote.remove", "column": "c1"},
    {"kind": "phase.next"},
    {"kind": "snapshot.take", "label": "Avant le vote"},
    {"kind": "tools.set", "silent": True},
    {"kind": "tools.set", "voting": True, "budget": 20},
    {"kind": "reveal"},
    {"kind": "notes.reveal"},
    {"kind": "votes.reveal"},
    {"kind": "vote.round"},
    {"kind": "vote.round", "budget": 4},
    {"kind": "tools.set", "shaping": True},
    {"kind": "timer.start", "seconds": 300},
    {"kind": "timer.stop"},
    {"kind": "freeze"},
    {"kind": "participant.erase", "name": "Ana"},
]

BAD: list[tuple[dict[str, Any], str]] = [
    ({"kind": "column.state", "id": "c1"}, "missing_field"),
    ({"kind": "column.state", "id": "c1", "statement": "x" * 1001}, "too_long"),
    ({"kind": "column.lock", "id": "bad id"}, "bad_field"),
    ({"kind": "idea.add", "id": "i1", "column": "c1", "text": "   "}, "bad_field"),
    ({"kind": "vote.add"}, "missing_field"),
    ({"kind": "snapshot.take", "label": ""}, "bad_field"),
    ({"kind": "tools.set"}, "missing_field"),
    ({"kind": "tools.set", "silent": "yes"}, "bad_field"),
    ({"kind": "tools.set", "budget": 0}, "bad_field"),
    ({"kind": "tools.set", "budget": 21}, "bad_field"),
    ({"kind": "tools.set", "shaping": 1}, "bad_field"),
    ({"kind": "vote.round", "budget": 0}, "bad_field"),
    ({"kind": "vote.round", "budget": "3"}, "bad_field"),
    ({"kind": "timer.start", "seconds": 0}, "bad_field"),
    ({"kind": "timer.start", "seconds": 14401}, "bad_field"),
    ({"kind": "timer.start", "seconds": True}, "bad_field"),
    ({"kind": "participant.erase", "name": " "}, "bad_field"),
    ({"kind": "participant.erase", "name": "x" * 41}, "too_long"),
]


@pytest.mark.parametrize("op", GOOD, ids=lambda op: str(op["kind"]))
def test_flow_ops_parse_and_match_the_schema(op: dict[str, Any]) -> None:
    """Each flow op parses to itself, and the schema accepts it."""
    frame = {"type": "op", "cop": 1, "op": op}
    check_client_frame(frame)
    parsed = parse(orjson.dumps(frame))
    if op["kind"] == "participant.erase":  # the name goes no further than the parser
        frame["op"] = {"kind": "participant.erase", "digest": name_digest(op["name"])}
    assert parsed == frame


@pytest.mark.parametrize(("op", "code"), BAD, ids=lambda x: str(x)[:40])
def test_bad_flow_ops_are_refused_with_a_code(op: dict[str, Any], code: str) -> None:
    """A malformed flow op is refused before the room, with the op's cop and a code."""
    with pytest.raises(ProtocolError) as caught:
        parse(orjson.dumps({"type": "op", "cop": 7, "op": op}))
    assert (caught.value.code, caught.value.cop) == (code, 7)
