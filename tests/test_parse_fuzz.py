"""Whatever a browser (or an import) puts in an op's fields, the parser answers with a
ProtocolError or a valid op: never another exception (a 1011 close, or a 500)."""

from typing import Any

import orjson
import pytest
from atelier.protocol import ProtocolError, parse
from hypothesis import given, settings
from hypothesis import strategies as st

from .support import check_client_frame

pytestmark = pytest.mark.pure  # no server, no I/O: the fast layer

KINDS = ["note.add", "note.edit", "note.move", "note.delete", "note.restore", "column.add",
         "column.rename", "column.move", "column.delete", "column.state", "column.lock",
         "column.unlock", "column.documents", "idea.add", "idea.delete", "idea.move",
         "vote.add", "vote.remove", "vote.round", "phase.next", "snapshot.take", "tools.set",
         "reveal", "notes.reveal", "votes.reveal", "timer.start", "timer.stop", "focus",
         "freeze", "participant.erase", "cap.set", "colleges.set", "member.set",
         "member.remove", "objection.add", "objection.answer", "objection.delete",
         "decision.set", "vigilance.answer", "meeting.set"]  # fmt: skip
FIELDS = ["id", "text", "column", "index", "title", "statement", "colour", "ambitions",
          "type", "theme", "source", "indicator", "label", "silent", "voting", "budget",
          "shaping", "seconds", "name", "documents", "others", "colleges", "college", "by",
          "answer", "decision", "point", "place", "date", "timezone", "outcome", "method",
          "tally", "amendment"]  # fmt: skip

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats(allow_nan=False)
    | st.text(max_size=20) | st.sampled_from(["c1", "yellow", "atout", "adoptee", "consent",
                                              "scot", "actions", "elus", "2026-05-12"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12,
)  # fmt: skip


#: One valid op of each kind (every field it takes), for the fuzz to spoil a field of.
VALID: dict[str, dict[str, Any]] = {
    "note.add": {"id": "n", "text": "t", "column": "c", "index": 0, "colour": "pink",
                 "ambitions": ["ancrage"], "type": "atout", "theme": "t", "source": "s",
                 "indicator": "i"},
    "note.edit": {"id": "n", "text": "t", "colour": "pink", "ambitions": [], "type": "menace"},
    "note.move": {"id": "n", "column": None, "index": 1},
    "column.add": {"id": "c", "title": "T", "index": 0},
    "column.state": {"id": "c", "statement": "S"},
    "column.documents": {"id": "c", "documents": ["scot"], "others": ["Charte"]},
    "idea.add": {"id": "i", "column": None, "text": "t"},
    "idea.move": {"id": "i", "column": "c"},
    "tools.set": {"silent": True, "voting": False, "budget": 3, "shaping": True},
    "vote.round": {"budget": 2},
    "timer.start": {"seconds": 60},
    "focus": {"column": "c"},
    "member.set": {"id": "m", "name": "Ana", "college": "elus"},
    "objection.add": {"id": "o", "column": "c", "text": "t", "by": "Bob"},
    "objection.answer": {"id": "o", "answer": "a"},
    "decision.set": {"column": "c", "decision": {"outcome": "adoptee", "method": "vote",
                     "amendment": "", "tally": [{"college": "elus", "for": 3, "against": 1,
                                                 "abstain": 0}]}},
    "vigilance.answer": {"point": "actions", "text": "t"},
    "meeting.set": {"place": "Mairie", "date": "2026-05-12", "timezone": "Europe/Paris"},
    "colleges.set": {"colleges": [{"id": "elus", "label": "Élus"}]},
    "cap.set": {"text": "Le cap"},
}  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(KINDS), st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=6),
       st.data())  # fmt: skip
def test_any_field_values_give_a_protocol_error_or_a_valid_op(
    kind: str, fields: dict[str, Any], data: st.DataObject
) -> None:
    """Lists where strings go, dicts where numbers go, anything anywhere: no crash."""
    base = dict(VALID.get(kind, {}))
    if base and data.draw(st.booleans()):  # spoil one field of a valid op, deep ones too
        key = data.draw(st.sampled_from(sorted(base)))
        fields = {**base, key: data.draw(JSON)}
    frame = {"type": "op", "cop": 1, "op": {"kind": kind, **fields}}
    try:
        parsed = parse(orjson.dumps(frame))
    except ProtocolError as error:
        assert error.code and error.cop == 1  # the sender is told which op was refused
    else:
        if kind != "participant.erase":  # the parser turns its name into a digest
            check_client_frame(dict(parsed))


BAD_VALUES: list[Any] = [["a"], [["a"]], {"a": 1}, 3, 2.5, True, None, "", "x" * 3000]


@pytest.mark.parametrize("kind", sorted(VALID))
def test_every_field_of_every_op_spoiled_every_way(kind: str) -> None:
    """Each field of a valid op, nested ones included, replaced by each kind of bad value."""

    def spoiled(value: Any) -> list[Any]:
        out: list[Any] = [bad for bad in BAD_VALUES]
        if isinstance(value, dict):
            out += [{**value, k: bad} for k in value for bad in BAD_VALUES]
        if isinstance(value, list) and value:
            out += [[spoil, *value[1:]] for spoil in spoiled(value[0])]
        return out

    for key, value in VALID[kind].items():
        for bad in spoiled(value):
            frame = {"type": "op", "cop": 1, "op": {"kind": kind, **VALID[kind], key: bad}}
            try:
                parse(orjson.dumps(frame))
            except ProtocolError as error:
                assert error.cop == 1, (key, bad)
