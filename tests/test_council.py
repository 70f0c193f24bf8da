"""The co-decision record in the pure reducer and the op parser (issue 11): findings as
the diagnostic made them, ideas under no orientation, the instance's collèges and
members, objections and decisions, documents fed, the cap, the vigilance answers, the
meeting; who may, what is refused, what a frozen board says, and that the events alone
rebuild every view."""

import copy
from typing import Any

import orjson
import pytest
from atelier.op_fields import ProtocolError
from atelier.op_parse import OP_KINDS, parse_op
from atelier.protocol import parse
from atelier.records import name_digest
from atelier.rooms.council_ops import COUNCIL_KINDS
from atelier.rooms.errors import RoomError
from atelier.rooms.flow_ops import FLOW_KINDS
from atelier.rooms.model import ANONYMOUS, Board
from atelier.rooms.ops import IMPORT_ROLE
from atelier.rooms.reducer import ANONYMISED, Context, apply, apply_op
from hypothesis import given, settings
from hypothesis import strategies as st

from .support import check_client_frame
from .test_flow_reducer import PROTOCOL_SCHEMA, check_event
from .test_room_controls import ANA, FACILITATOR, OBSERVER, reject, run, started

pytestmark = pytest.mark.pure  # no server, no I/O: the fast layer

IMPORT = Context("Diagnostic", IMPORT_ROLE, "import-1", 5_000)

DECISION = {"outcome": "adoptee", "method": "vote", "amendment": "",
            "tally": [{"college": "elus", "for": 5, "against": 1, "abstain": 0},
                      {"college": "habitants", "for": 3, "against": 0, "abstain": 2}]}  # fmt: skip

#: One op of every kind this issue adds, valid on ``started()``'s board, in an order
#: that applies (objections before their answer, members before their removal...).
COUNCIL_OPS: list[dict[str, Any]] = [
    {"kind": "column.documents", "id": "c1", "documents": ["scot", "pcaet"], "others": ["SRADDET"]},
    {"kind": "cap.set", "text": "Une économie locale sobre, qui emploie et qui dure."},
    {"kind": "colleges.set", "colleges": [{"id": "elus", "label": "Élus"},
                                          {"id": "habitants", "label": "Habitants"}]},
    {"kind": "member.set", "id": "m1", "name": "Marie Le Gall", "college": "elus"},
    {"kind": "member.set", "id": "m2", "name": "Yann Kerhervé", "college": "habitants"},
    {"kind": "member.remove", "id": "m2"},
    {"kind": "objection.add", "id": "ob1", "column": "c1", "text": "Trop vague", "by": "Yann"},
    {"kind": "objection.answer", "id": "ob1", "answer": "Précisé : les zones d'activité"},
    {"kind": "objection.add", "id": "ob2", "column": "c1", "text": "Doublon", "by": ""},
    {"kind": "objection.delete", "id": "ob2"},
    {"kind": "decision.set", "column": "c1", "decision": DECISION},
    {"kind": "vigilance.answer", "point": "ess", "text": "Deux orientations parlent d'emploi."},
    {"kind": "meeting.set", "place": "Salle du conseil, Crozon", "date": "2025-03-14",
     "timezone": "Europe/Paris"},
]  # fmt: skip


def parsed(op: dict[str, Any]) -> Any:
    """The op as a socket's frame brings it to the reducer (checked by the schema too)."""
    frame = {"type": "op", "cop": 1, "op": op}
    check_client_frame(frame)
    return parse(orjson.dumps(frame))["op"]  # type: ignore[typeddict-item]


@pytest.mark.parametrize("op", COUNCIL_OPS, ids=lambda op: str(op["kind"]))
def test_each_new_op_parses_and_matches_the_schema(op: dict[str, Any]) -> None:
    """Every op of the co-decision record passes the parser (as sent) and the schema."""
    assert parsed(op) == op


def test_every_council_op_applies_for_the_facilitator_and_each_event_fits_the_schema() -> None:
    """In order, each op applies, changes the board, and its event matches its schema."""
    board = started()
    for op in COUNCIL_OPS:
        before = board.to_dict(tombstones=True)
        applied = apply(board, parsed(op), FACILITATOR)
        assert applied.event is not None and applied.event["kind"] == op["kind"], op
        assert not applied.private
        check_event(applied.event)
        assert board.to_dict(tombstones=True) != before, op
    view = board.to_dict()
    assert view["cap"] == "Une économie locale sobre, qui emploie et qui dure."
    assert view["members"] == [{"id": "m1", "name": "Marie Le Gall", "college": "elus"}]
    assert view["meeting"] == {"place": "Salle du conseil, Crozon", "date": "2025-03-14",
                               "timezone": "Europe/Paris"}  # fmt: skip
    assert view["answers"] == {"actions": "", "ess": "Deux orientations parlent d'emploi.",
                               "documents": ""}  # fmt: skip
    first = view["orientations"][0]
    assert first["documents"] == ["scot", "pcaet"] and first["others"] == ["SRADDET"]
    assert first["decision"] == DECISION
    assert first["objections"] == [{"id": "ob1", "text": "Trop vague", "by": "Yann",
                                    "answer": "Précisé : les zones d'activité"}]  # fmt: skip
    assert Board.from_dict(copy.deepcopy(board.to_dict(tombstones=True))).to_dict() == view


@pytest.mark.parametrize(
    "op", [op for op in COUNCIL_OPS if op["kind"] not in ("column.documents", "cap.set")],
    ids=lambda op: str(op["kind"]),
)  # fmt: skip
def test_the_instance_s_record_is_the_facilitator_s_alone(op: dict[str, Any]) -> None:
    """Members, collèges, objections, decisions, answers and the meeting: a participant's
    or an observer's op is forbidden and changes nothing, even with shaping open."""
    board = started()
    run(board, FACILITATOR, {"kind": "tools.set", "shaping": True})
    before = board.to_dict(tombstones=True)
    for who in (ANA, OBSERVER):
        assert reject(board, who, op) == "forbidden", op
    assert board.to_dict(tombstones=True) == before


@pytest.mark.parametrize("op", COUNCIL_OPS[:2], ids=lambda op: str(op["kind"]))
def test_documents_and_the_cap_shape_the_orientations(op: dict[str, Any]) -> None:
    """The documents an orientation feeds and the cap are shaping: the facilitator's,
    and the participants' once shaping is open."""
    board = started()
    assert reject(board, ANA, op) == "shaping_closed"
    run(board, FACILITATOR, {"kind": "tools.set", "shaping": True})
    assert run(board, ANA, op)[0]["kind"] == op["kind"]


@pytest.mark.parametrize("op", COUNCIL_OPS, ids=lambda op: str(op["kind"]))
def test_a_frozen_board_refuses_every_council_op(op: dict[str, Any]) -> None:
    """Once frozen, nothing of the record changes, whoever asks."""
    board = started()
    run(board, FACILITATOR, {"kind": "member.set", "id": "m2", "name": "Y", "college": "elus"},
        {"kind": "objection.add", "id": "ob1", "column": "c1", "text": "x", "by": ""},
        {"kind": "objection.add", "id": "ob2", "column": "c1", "text": "y", "by": ""},
        {"kind": "freeze"})  # fmt: skip
    before = board.to_dict(tombstones=True)
    assert reject(board, FACILITATOR, op) == "frozen"
    assert board.to_dict(tombstones=True) == before


@pytest.mark.parametrize(
    ("op", "code"),
    [
        ({"kind": "column.documents", "id": "zz", "documents": [], "others": []},
         "unknown_column"),
        ({"kind": "member.set", "id": "m1", "name": "X", "college": "nowhere"},
         "unknown_college"),
        ({"kind": "member.remove", "id": "m9"}, "unknown_member"),
        ({"kind": "objection.add", "id": "ob1", "column": "zz", "text": "x", "by": ""},
         "unknown_column"),
        ({"kind": "objection.add", "id": "seen", "column": "c1", "text": "x", "by": ""},
         "id_taken"),
        ({"kind": "objection.answer", "id": "ob9", "answer": "x"}, "unknown_objection"),
        ({"kind": "objection.delete", "id": "ob9"}, "unknown_objection"),
        ({"kind": "decision.set", "column": "zz", "decision": None}, "unknown_column"),
        ({"kind": "decision.set", "column": "c1", "decision": {**DECISION, "tally": [
            {"college": "nowhere", "for": 1, "against": 0, "abstain": 0}]}}, "unknown_college"),
        ({"kind": "colleges.set", "colleges": [{"id": "habitants", "label": "Habitants"}]},
         "college_in_use"),
        ({"kind": "idea.add", "id": "i9", "column": "zz", "text": "x"}, "unknown_column"),
        ({"kind": "idea.move", "id": "i1", "column": "zz"}, "unknown_column"),
        ({"kind": "idea.move", "id": "i9", "column": None}, "unknown_idea"),
    ],
    ids=lambda x: str(x)[:50],
)  # fmt: skip
def test_council_ops_that_do_not_fit_the_board_are_refused(op: dict[str, Any], code: str) -> None:
    """Each op that names something missing (or in use) is refused with its own code."""
    board = started()
    run(board, FACILITATOR, {"kind": "member.set", "id": "m1", "name": "M", "college": "elus"},
        {"kind": "objection.add", "id": "seen", "column": "c1", "text": "x", "by": ""},
        {"kind": "idea.add", "id": "i1", "column": "c1", "text": "Un annuaire"})  # fmt: skip
    before = board.to_dict(tombstones=True)
    assert reject(board, FACILITATOR, op) == code
    assert board.to_dict(tombstones=True) == before


@pytest.mark.parametrize(
    ("op", "code"),
    [
        ({"kind": "note.add", "id": "n", "text": "x", "type": "force"}, "bad_field"),
        ({"kind": "note.add", "id": "n", "text": "x", "theme": "t" * 81}, "too_long"),
        ({"kind": "note.add", "id": "n", "text": "x", "source": 3}, "bad_field"),
        ({"kind": "note.edit", "id": "n", "indicator": "i" * 201}, "too_long"),
        ({"kind": "note.add", "id": "n", "text": "x", "pos": "a0"}, None),  # dropped: no import
        ({"kind": "idea.move", "id": "i"}, "missing_field"),
        ({"kind": "column.documents", "id": "c", "documents": ["scot", "plu"]}, "bad_field"),
        ({"kind": "column.documents", "id": "c", "others": ["a", "b", "c", "d", "e", "f"]},
         "bad_field"),
        ({"kind": "column.documents", "id": "c", "others": ["x" * 81]}, "too_long"),
        ({"kind": "column.documents", "id": "c", "others": ["  "]}, "bad_field"),
        ({"kind": "cap.set", "text": "x" * 1001}, "too_long"),
        ({"kind": "cap.set"}, "missing_field"),
        ({"kind": "colleges.set", "colleges": []}, "bad_field"),
        ({"kind": "colleges.set", "colleges": [{"id": "a", "label": "A"}] * 2}, "bad_field"),
        ({"kind": "colleges.set", "colleges": [{"id": f"c{i}", "label": "C"} for i in range(13)]},
         "bad_field"),
        ({"kind": "colleges.set", "colleges": [{"id": "a b", "label": "A"}]}, "bad_field"),
        ({"kind": "colleges.set", "colleges": ["elus"]}, "bad_field"),
        ({"kind": "member.set", "id": "m", "name": " ", "college": "elus"}, "bad_field"),
        ({"kind": "member.set", "id": "m", "name": "n" * 81, "college": "elus"}, "too_long"),
        ({"kind": "member.set", "id": "m", "name": "N"}, "missing_field"),
        ({"kind": "objection.add", "id": "o", "column": "c", "text": ""}, "bad_field"),
        ({"kind": "objection.add", "id": "o", "column": "c", "text": "x", "by": "b" * 81},
         "too_long"),
        ({"kind": "objection.answer", "id": "o"}, "missing_field"),
        ({"kind": "decision.set", "column": "c"}, "missing_field"),
        ({"kind": "decision.set", "column": "c", "decision": "adoptee"}, "bad_field"),
        ({"kind": "decision.set", "column": "c", "decision": {"outcome": "oui",
                                                              "method": "vote"}}, "bad_field"),
        ({"kind": "decision.set", "column": "c", "decision": {"outcome": "adoptee",
                                                              "method": "poll"}}, "bad_field"),
        ({"kind": "decision.set", "column": "c", "decision": {**DECISION, "method": "consent"}},
         "bad_field"),
        ({"kind": "decision.set", "column": "c", "decision": {**DECISION, "tally": [
            {"college": "elus", "for": -1, "against": 0, "abstain": 0}]}}, "bad_field"),
        ({"kind": "decision.set", "column": "c", "decision": {**DECISION, "tally": [
            {"college": "elus", "for": 1, "against": 0}]}}, "missing_field"),
        ({"kind": "decision.set", "column": "c", "decision": {**DECISION, "tally": [
            {"college": None, "for": 1, "against": 0, "abstain": 0}] * 2}}, "bad_field"),
        ({"kind": "decision.set", "column": "c", "decision": {**DECISION,
                                                              "amendment": "a" * 1001}},
         "too_long"),
        ({"kind": "vigilance.answer", "point": "budget", "text": "x"}, "bad_field"),
        ({"kind": "vigilance.answer", "point": "ess"}, "missing_field"),
        ({"kind": "meeting.set"}, "missing_field"),
        ({"kind": "meeting.set", "date": "14/03/2025"}, "bad_field"),
        ({"kind": "meeting.set", "date": "2025-02-30"}, "bad_field"),
        ({"kind": "meeting.set", "timezone": "Europe/Nowhere"}, "bad_field"),
        ({"kind": "meeting.set", "timezone": "../../etc/passwd"}, "bad_field"),
        ({"kind": "meeting.set", "place": "p" * 201}, "too_long"),
        ({"kind": "meeting.set", "place": "a\x00b"}, "bad_field"),
    ],
    ids=lambda x: str(x)[:50],
)  # fmt: skip
def test_bad_council_ops_are_refused_by_the_parser_with_a_code(
    op: dict[str, Any], code: str | None
) -> None:
    """Each malformed field is refused before the room, with its own code."""
    if code is None:
        assert "pos" not in parse_op(op)
        return
    with pytest.raises(ProtocolError) as caught:
        parse_op(op)
    assert caught.value.code == code


def test_findings_keep_the_diagnostic_s_fields_and_edits_can_clear_them() -> None:
    """A note keeps its type, theme, source and indicator; views show them only when set;
    an edit to '' clears one."""
    board = started()
    op = parsed({"kind": "note.add", "id": "n2", "text": "Chômage des jeunes en hausse",
                 "type": "menace", "theme": "Emploi", "source": "INSEE 2023",
                 "indicator": "18 % des 15-24 ans"})  # fmt: skip
    event = run(board, ANA, op)[0]
    assert (event["type"], event["theme"], event["source"], event["indicator"]) == (
        "menace", "Emploi", "INSEE 2023", "18 % des 15-24 ans")  # fmt: skip
    note = next(n for n in board.to_dict()["notes"] if n["id"] == "n2")
    assert note["type"] == "menace" and "imported" not in note
    plain = next(n for n in board.to_dict()["notes"] if n["id"] == "n1")
    assert set(plain) == {"id", "text", "author", "colour", "ambitions", "column", "pos"}
    edit = run(board, ANA, parsed({"kind": "note.edit", "id": "n2", "type": None, "theme": ""}))[0]
    assert edit == {"kind": "note.edit", "id": "n2", "type": "", "theme": ""}
    note = next(n for n in board.to_dict()["notes"] if n["id"] == "n2")
    assert "type" not in note and "theme" not in note and note["source"] == "INSEE 2023"


def test_imports_are_marked_public_and_never_a_participant() -> None:
    """Notes and ideas an import adds are marked imported, stay public in silent writing,
    and count no participant; the import role may do the facilitator's ops."""
    board = started()
    run(board, FACILITATOR, {"kind": "tools.set", "silent": True})
    applied = apply(board, {"kind": "note.add", "id": "d1", "text": "Atout", "imported": True},
                    IMPORT)  # fmt: skip
    assert applied.event is not None and applied.event["imported"] is True
    plain = apply(board, {"kind": "note.add", "id": "d3", "text": "Ana's"}, IMPORT).event
    assert plain is not None and "imported" not in plain  # a board's export keeps it Ana's
    faked = apply(board, {"kind": "note.add", "id": "d4", "text": "x", "imported": True}, ANA)
    assert "imported" not in str(faked.private)  # nobody but an import can say so
    run(board, IMPORT, {"kind": "idea.add", "id": "d2", "text": "Une ressourcerie",
                        "imported": True},
        {"kind": "member.set", "id": "m1", "name": "Élue", "college": "elus"})  # fmt: skip
    assert board.contributors == {"ca"} and board.notes["d1"].private_to is None
    assert board.to_dict()["ideas"] == [{"id": "d2", "column": None, "text": "Une ressourcerie",
                                         "author": "Diagnostic", "imported": True}]  # fmt: skip


def test_ideas_wait_under_no_orientation_move_and_survive_their_column() -> None:
    """An idea may be parked under no orientation, moved under one and back; deleting its
    orientation leaves it under none (the event says which)."""
    board = started()
    run(board, ANA, {"kind": "idea.add", "id": "i1", "column": None, "text": "Un annuaire"})
    assert run(board, ANA, {"kind": "idea.move", "id": "i1", "column": "c2"})[0] == {
        "kind": "idea.move", "id": "i1", "column": "c2"}  # fmt: skip
    deleted = run(board, FACILITATOR, {"kind": "column.delete", "id": "c2"})[0]
    assert deleted["ideas"] == ["i1"] and board.ideas["i1"].column is None
    assert [i["column"] for i in board.to_dict()["ideas"]] == [None]


def test_an_imported_position_must_come_after_those_before_it() -> None:
    """An import keeps exported positions, but only in increasing order (a position a
    browser could never send, and one that would break ordering, is refused)."""
    board = Board.new()
    run(board, IMPORT, parse_op({"kind": "column.add", "id": "c1", "title": "A", "pos": "a5"},
                                imported=True))  # fmt: skip
    assert board.columns["c1"].pos == "a5"
    again = parse_op({"kind": "column.add", "id": "c2", "title": "B", "pos": "a5"}, imported=True)
    assert reject(board, IMPORT, again) == "bad_position"
    with pytest.raises(ProtocolError):
        parse_op({"kind": "column.add", "id": "c2", "title": "B", "pos": "a0000"}, imported=True)
    from_facilitator = apply_op(board, {**again, "id": "c3"}, FACILITATOR)  # type: ignore[typeddict-item]
    assert from_facilitator["pos"] != "a5"  # only an import's position is taken


def test_erasing_a_name_reaches_members_and_objections() -> None:
    """participant.erase re-signs members and objections with that name too (the storage
    scrub rewrites every name field: the replica must forget them alike)."""
    board = started()
    run(board, FACILITATOR, {"kind": "member.set", "id": "m1", "name": "Ana", "college": "elus"})
    run(board, FACILITATOR, {"kind": "objection.add", "id": "o1", "column": "c1", "text": "x",
                             "by": "Ana"})  # fmt: skip
    event = run(board, FACILITATOR, {"kind": "participant.erase", "digest": name_digest("Ana")})[0]
    assert event["members"] == ["m1"] and event["objections"] == ["o1"]
    check_event(event)
    assert board.members["m1"].name == ANONYMISED and board.objections["o1"].by == ANONYMISED


def _council_mirror(mirror: dict[str, Any], event: dict[str, Any]) -> None:
    """What a browser keeps of the record's parts from the events it gets."""
    kind = event["kind"]
    orientations = mirror["orientations"]
    if kind == "column.add":
        orientations[event["id"]] = {"documents": [], "others": [], "decision": None,
                                     "objections": []}  # fmt: skip
    elif kind == "column.delete":
        del orientations[event["id"]]
        for idea in event["ideas"]:
            mirror["ideas"][idea]["column"] = None
    elif kind == "column.documents":
        orientations[event["id"]].update(documents=event["documents"], others=event["others"])
    elif kind == "decision.set":
        orientations[event["column"]]["decision"] = event["decision"]
    elif kind == "objection.add":
        orientations[event["column"]]["objections"].append(
            {k: event[k] for k in ("id", "text", "by", "answer")}
        )
    elif kind in ("objection.answer", "objection.delete"):
        for o in orientations.values():
            o["objections"] = [
                {**x, "answer": event["answer"]} if x["id"] == event["id"] else x
                for x in o["objections"]
                if not (kind == "objection.delete" and x["id"] == event["id"])
            ]
    elif kind == "idea.add":
        mirror["ideas"][event["id"]] = {k: v for k, v in event.items() if k != "kind"}
    elif kind == "idea.move":
        mirror["ideas"][event["id"]]["column"] = event["column"]
    elif kind == "idea.delete":
        del mirror["ideas"][event["id"]]
    elif kind == "cap.set":
        mirror["cap"] = event["text"]
    elif kind == "colleges.set":
        mirror["colleges"] = event["colleges"]
    elif kind == "member.set":
        mirror["members"][event["id"]] = {"id": event["id"], "name": event["name"],
                                          "college": event["college"]}  # fmt: skip
    elif kind == "member.remove":
        del mirror["members"][event["id"]]
    elif kind == "vigilance.answer":
        mirror["answers"][event["point"]] = event["text"]
    elif kind == "meeting.set":
        mirror["meeting"] = event["meeting"]
    elif kind == "participant.erase":
        for m in event["members"]:
            mirror["members"][m]["name"] = event["replacement"]
        for o in orientations.values():
            for x in o["objections"]:
                if x["id"] in event["objections"]:
                    x["by"] = event["replacement"]
        for i in event["ideas"]:
            mirror["ideas"][i]["author"] = event["replacement"]


@st.composite
def _council_ops(draw: st.DrawFn) -> list[tuple[Context, dict[str, Any]]]:
    cols = st.sampled_from(["c1", "c2", "c3"])
    ids = st.sampled_from(["a", "b"])
    colleges = st.sampled_from(["elus", "habitants", "x"])
    names = st.sampled_from(["Ana", "Marie", "Yann"])
    who = st.sampled_from([FACILITATOR, ANA, IMPORT])
    op = st.one_of(
        st.builds(lambda c: {"kind": "column.add", "id": c, "title": "T"}, cols),
        st.builds(lambda c: {"kind": "column.delete", "id": c}, cols),
        st.builds(lambda c, d: {"kind": "column.documents", "id": c, "documents": d,
                                "others": []}, cols, st.lists(st.sampled_from(["scot", "plh"]),
                                                              unique=True)),
        st.builds(lambda c, o: {"kind": "decision.set", "column": c, "decision": o and {
            "outcome": o, "method": "consent", "amendment": "", "tally": []}},
            cols, st.sampled_from([None, "adoptee", "ajournee"])),
        st.builds(lambda i, c, n: {"kind": "objection.add", "id": i, "column": c, "text": "t",
                                   "by": n}, ids, cols, names),
        st.builds(lambda i, a: {"kind": "objection.answer", "id": i, "answer": a}, ids,
                  st.sampled_from(["", "r"])),
        st.builds(lambda i: {"kind": "objection.delete", "id": i}, ids),
        st.builds(lambda i, c: {"kind": "idea.add", "id": i, "column": c, "text": "t"}, ids,
                  st.one_of(st.none(), cols)),
        st.builds(lambda i, c: {"kind": "idea.move", "id": i, "column": c}, ids,
                  st.one_of(st.none(), cols)),
        st.builds(lambda i: {"kind": "idea.delete", "id": i}, ids),
        st.builds(lambda i, n, c: {"kind": "member.set", "id": i, "name": n, "college": c},
                  ids, names, colleges),
        st.builds(lambda i: {"kind": "member.remove", "id": i}, ids),
        st.builds(lambda keep: {"kind": "colleges.set", "colleges": [
            {"id": c, "label": c.title()} for c in keep]},
            st.lists(st.sampled_from(["elus", "habitants", "x"]), min_size=1, unique=True)),
        st.builds(lambda t: {"kind": "cap.set", "text": t}, st.sampled_from(["", "cap"])),
        st.builds(lambda p, t: {"kind": "vigilance.answer", "point": p, "text": t},
                  st.sampled_from(["actions", "ess", "documents"]), st.sampled_from(["", "ok"])),
        st.builds(lambda p: {"kind": "meeting.set", "place": p}, st.sampled_from(["", "Mairie"])),
        st.builds(lambda s: {"kind": "tools.set", "shaping": s}, st.booleans()),
        st.just({"kind": "participant.erase", "digest": name_digest("Ana")}),
    )  # fmt: skip
    return draw(st.lists(st.tuples(who, op), max_size=30))


@settings(max_examples=80, deadline=None)
@given(_council_ops())
def test_the_record_s_events_alone_rebuild_every_view(
    ops: list[tuple[Context, dict[str, Any]]],
) -> None:
    """Whatever the ops and whoever sends them, the events rebuild the board's record
    parts exactly as every view shows them, and two replicas end equal, byte for byte."""
    board, twin = Board.new(), Board.new()
    initial = board.to_dict()
    mirror: dict[str, Any] = {"orientations": {}, "ideas": {}, "members": {},
                              **{k: copy.deepcopy(initial[k])
                                 for k in ("cap", "colleges", "answers", "meeting")}}  # fmt: skip
    for seq, (ctx, op) in enumerate(ops, 1):
        context = Context(ctx.author, ctx.role, ctx.client, seq, seq)
        try:
            applied = apply(board, op, context)  # type: ignore[arg-type]
        except RoomError as error:
            with pytest.raises(RoomError) as again:
                apply(twin, op, context)  # type: ignore[arg-type]
            assert again.value.code == error.code
            continue
        apply(twin, op, context)  # type: ignore[arg-type]
        assert applied.event is not None and not applied.private
        check_event(applied.event)
        _council_mirror(mirror, applied.event)
    view = board.to_dict(viewer=ANONYMOUS)
    assert {o["id"]: {k: o[k] for k in ("documents", "others", "decision", "objections")}
            for o in view["orientations"]} == mirror["orientations"]  # fmt: skip
    assert sorted(view["ideas"], key=lambda i: i["id"]) == [
        mirror["ideas"][i] for i in sorted(mirror["ideas"])]  # fmt: skip
    assert view["members"] == list(mirror["members"].values())
    for key in ("cap", "colleges", "meeting"):
        assert view[key] == mirror[key], key
    assert view["answers"] == mirror["answers"]
    assert orjson.dumps(board.to_dict(tombstones=True)) == orjson.dumps(
        twin.to_dict(tombstones=True)
    )


def test_a_corrected_member_keeps_their_place_and_a_collège_in_use_stays() -> None:
    """member.set on a known id corrects name and collège in place; a collège with members
    cannot be dropped from the list, an empty one can."""
    board = started()
    run(board, FACILITATOR, {"kind": "member.set", "id": "m1", "name": "Marie", "college": "elus"},
        {"kind": "member.set", "id": "m2", "name": "Yann", "college": "habitants"},
        {"kind": "member.set", "id": "m1", "name": "Marie L.", "college": "economie"})  # fmt: skip
    assert board.to_dict()["members"] == [
        {"id": "m1", "name": "Marie L.", "college": "economie"},
        {"id": "m2", "name": "Yann", "college": "habitants"}]  # fmt: skip
    keep = [{"id": "economie", "label": "Entreprises"}, {"id": "habitants", "label": "Habitants"}]
    event = run(board, FACILITATOR, {"kind": "colleges.set", "colleges": keep})[0]
    assert event["colleges"] == keep and board.to_dict()["colleges"] == keep
    code = reject(board, FACILITATOR, {"kind": "colleges.set", "colleges": keep[:1]})
    assert code == "college_in_use"


def test_every_op_kind_is_parsed_applied_and_in_the_schema() -> None:
    """The parser's kinds, the schema's ops and the kinds the reducer applies are one list."""
    schema_ops = {
        name.split(":", 1)[1] for name in PROTOCOL_SCHEMA["$defs"] if name.startswith("op:")
    }
    assert schema_ops == set(OP_KINDS)
    own = {"note.add", "note.edit", "note.move", "note.delete", "note.restore", "column.add",
           "column.rename", "column.move", "column.delete", "column.state", "column.lock",
           "column.unlock", "idea.add", "idea.delete", "idea.move"}  # fmt: skip
    assert own | COUNCIL_KINDS | FLOW_KINDS == set(OP_KINDS)
    assert not (own & COUNCIL_KINDS) and not (own & FLOW_KINDS) and not (COUNCIL_KINDS & FLOW_KINDS)
