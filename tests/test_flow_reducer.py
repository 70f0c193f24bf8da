"""The workshop's flow in the pure reducer: roles, phases, tools, votes, silent notes, freeze."""

import copy
from typing import Any

import jsonschema
import orjson
import pytest
from atelier.records import name_digest
from atelier.rooms.errors import RoomError
from atelier.rooms.model import ANONYMOUS, PHASES, Board, Viewer, content_hash
from atelier.rooms.record import official_record
from atelier.rooms.reducer import ANONYMISED, Applied, Context, apply, apply_op
from atelier.rooms.vigilance import check
from hypothesis import given, settings
from hypothesis import strategies as st

from .flowclient import FLOW_KINDS
from .support import ROOT, apply_event, canonical, check_server_frame

pytestmark = pytest.mark.pure  # no server, no I/O: the fast layer

PROTOCOL_SCHEMA = orjson.loads((ROOT / "docs" / "protocol.schema.json").read_bytes())
_EVENT_SCHEMAS: dict[str, jsonschema.Draft202012Validator] = {}


def check_event(event: dict[str, Any]) -> None:
    """Fail unless ``event`` matches the schema of its kind (checked by kind, so a property
    test can check thousands of events in the time ``oneOf`` takes for a few hundred)."""
    kind = event["kind"]
    if kind not in _EVENT_SCHEMAS:
        schema = {k: v for k, v in PROTOCOL_SCHEMA.items() if k != "oneOf"}
        _EVENT_SCHEMAS[kind] = jsonschema.Draft202012Validator(
            {**schema, "$ref": f"#/$defs/event:{kind}"}
        )
    _EVENT_SCHEMAS[kind].validate(event)


FACILITATOR = Context("Fanny", "facilitator", "cf", 1_000)
ANA = Context("Ana", "participant", "ca", 2_000)
BOB = Context("Bob", "participant", "cb", 3_000)
OBSERVER = Context("Olga", "observer", "co", 4_000)

#: One op of every facilitator-only kind, valid on the board ``seeded()`` builds.
FACILITATOR_OPS: list[dict[str, Any]] = [
    {"kind": "phase.next"},
    {"kind": "snapshot.take", "label": "Avant le vote"},
    {"kind": "tools.set", "silent": True},
    {"kind": "tools.set", "voting": True, "budget": 5},
    {"kind": "reveal"},
    {"kind": "notes.reveal"},
    {"kind": "votes.reveal"},
    {"kind": "vote.round", "budget": 4},
    {"kind": "tools.set", "shaping": False},
    {"kind": "timer.start", "seconds": 300},
    {"kind": "timer.stop"},
    {"kind": "column.lock", "id": "c1"},
    {"kind": "column.unlock", "id": "c1"},
    {"kind": "freeze"},
    {"kind": "participant.erase", "name": "Ana"},
]


def committed(op: dict[str, Any]) -> Any:
    """The op as the protocol hands it on: an erase names its pseudonym by digest."""
    if op["kind"] == "participant.erase" and "name" in op:
        return {"kind": "participant.erase", "digest": name_digest(op["name"])}
    return op


def run(board: Board, ctx: Context, *ops: dict[str, Any]) -> list[dict[str, Any]]:
    return [apply_op(board, committed(op), ctx) for op in ops]


def reject(board: Board, ctx: Context, op: dict[str, Any]) -> str:
    """Apply an op that must be refused; return the refusal's code."""
    with pytest.raises(RoomError) as caught:
        apply(board, committed(op), ctx)
    return caught.value.code


def seeded() -> Board:
    board = Board()
    run(board, FACILITATOR, {"kind": "column.add", "id": "c1", "title": "Coopération"})
    run(board, ANA, {"kind": "note.add", "id": "n1", "text": "Peu de liens", "column": "c1"})
    run(board, BOB, {"kind": "note.add", "id": "n2", "text": "Tiers-lieu"})
    return board


@pytest.mark.parametrize("op", FACILITATOR_OPS, ids=lambda op: str(op["kind"]))
@pytest.mark.parametrize("who", [ANA, OBSERVER], ids=["participant", "observer"])
def test_facilitator_ops_refused_to_others_board_unchanged(
    who: Context, op: dict[str, Any]
) -> None:
    """A participant's or observer's facilitator op is forbidden and changes nothing."""
    board = seeded()
    before = board.to_dict(tombstones=True)
    assert reject(board, who, op) == "forbidden"
    assert board.to_dict(tombstones=True) == before


@pytest.mark.parametrize("op", FACILITATOR_OPS, ids=lambda op: str(op["kind"]))
def test_facilitator_ops_apply_for_the_facilitator(op: dict[str, Any]) -> None:
    """The same op from the facilitator applies and changes the board (or takes a snapshot)."""
    board = seeded()
    if op["kind"] in ("reveal", "notes.reveal", "column.unlock", "timer.stop"):
        run(board, FACILITATOR, {"kind": "tools.set", "silent": True})
        run(board, FACILITATOR, {"kind": "column.lock", "id": "c1"})
        run(board, FACILITATOR, {"kind": "timer.start", "seconds": 9})
        run(board, ANA, {"kind": "note.add", "id": "s9", "text": "en silence"})
    before = board.to_dict(tombstones=True)
    event = apply(board, committed(op), FACILITATOR).event
    assert event is not None and event["kind"] == op["kind"]
    if op["kind"] != "snapshot.take":
        assert board.to_dict(tombstones=True) != before


def test_phases_step_through_the_five_labels_then_stop() -> None:
    """phase.next opens the next phase, names the snapshot after its seq, stops at 5."""
    board = Board()
    for number in range(1, 5):
        ctx = Context("Fanny", "facilitator", "cf", 10, seq=number * 10)
        event = apply_op(board, {"kind": "phase.next"}, ctx)
        assert event == {"kind": "phase.next", "phase": number + 1,
                         "snapshot": f"s{number * 10}", "label": PHASES[number - 1]}  # fmt: skip
    assert board.phase == 5
    assert reject(board, FACILITATOR, {"kind": "phase.next"}) == "last_phase"


def test_locked_column_refuses_its_content_changes() -> None:
    """A locked orientation keeps its notes, title and statement until unlocked."""
    board = seeded()
    run(board, FACILITATOR, {"kind": "column.lock", "id": "c1"})
    before = board.to_dict(tombstones=True)
    for op in (
        {"kind": "note.add", "id": "n9", "text": "x", "column": "c1"},
        {"kind": "note.move", "id": "n2", "column": "c1"},
        {"kind": "note.move", "id": "n1", "column": None},
        {"kind": "note.edit", "id": "n1", "text": "changed"},
        {"kind": "note.delete", "id": "n1"},
        {"kind": "column.rename", "id": "c1", "title": "Autre"},
        {"kind": "column.state", "id": "c1", "statement": "Autre"},
        {"kind": "column.delete", "id": "c1"},
    ):
        assert reject(board, ANA, op) == "locked", op
        assert reject(board, FACILITATOR, op) == "locked", op
    assert board.to_dict(tombstones=True) == before
    run(board, FACILITATOR, {"kind": "column.unlock", "id": "c1"})
    run(board, ANA, {"kind": "column.state", "id": "c1", "statement": "Coopérer"})
    assert board.columns["c1"].statement == "Coopérer"


def test_frozen_board_refuses_every_op_from_everyone() -> None:
    """After the freeze nothing applies, the facilitator's ops included."""
    board = seeded()
    event = run(board, FACILITATOR, {"kind": "freeze"})[0]
    assert event["hash"] == content_hash(board.to_dict(viewer=ANONYMOUS))
    before = board.to_dict(tombstones=True)
    ops: list[dict[str, Any]] = [
        {"kind": "note.add", "id": "n9", "text": "x"},
        {"kind": "note.edit", "id": "n2", "text": "x"},
        {"kind": "column.add", "id": "c9", "title": "x"},
        {"kind": "vote.add", "column": "c1"},
        *FACILITATOR_OPS,
    ]
    for op in ops:
        for who in (ANA, FACILITATOR):
            assert reject(board, who, op) == "frozen", op
    assert board.to_dict(tombstones=True) == before
    assert content_hash(board.to_dict(viewer=ANONYMOUS)) == event["hash"]


def test_silent_note_is_private_to_its_author_until_reveal() -> None:
    """Written in silence: only its author sees it, others cannot touch it; reveal shows it."""
    board = seeded()
    run(board, FACILITATOR, {"kind": "tools.set", "silent": True})
    applied = apply(board, {"kind": "note.add", "id": "s1", "text": "secret"}, ANA)
    # the others learn how many notes wait, never what they say
    assert applied.event == {"kind": "silent.waiting", "silent_waiting": 1}
    assert set(applied.private) == {"ca"} and applied.private["ca"]["silent_waiting"] == 1
    assert applied.private["ca"]["private"] is True  # the event says so: no guessing
    ana = board.to_dict(viewer=Viewer("participant", "ca"))["notes"]
    assert sorted(n["id"] for n in ana) == ["n1", "n2", "s1"]
    assert {n["id"]: n.get("private") for n in ana} == {"n1": None, "n2": None, "s1": True}
    for viewer in (Viewer("participant", "cb"), Viewer("facilitator", "cf"), ANONYMOUS):
        assert "s1" not in [n["id"] for n in board.to_dict(viewer=viewer)["notes"]]
    assert reject(board, BOB, {"kind": "note.edit", "id": "s1", "text": "x"}) == "unknown_note"
    assert reject(board, FACILITATOR, {"kind": "note.delete", "id": "s1"}) == "unknown_note"
    moved = apply(board, {"kind": "note.move", "id": "s1", "column": "c1"}, ANA)
    assert moved.event is None and moved.private["ca"]["column"] == "c1"
    assert not any(c["code"] == "findings_unsorted" and c["count"] == 2 for c in check(board))
    reveal = run(board, FACILITATOR, {"kind": "reveal"})[0]
    assert [n["id"] for n in reveal["notes"]] == ["s1"] and reveal["notes"][0]["column"] == "c1"
    assert "s1" in [n["id"] for n in board.to_dict(viewer=ANONYMOUS)["notes"]]


def test_facilitator_notes_stay_public_during_silent_writing() -> None:
    """Silent writing is the participants': the facilitator's notes (CSV imports) are seen."""
    board = seeded()
    run(board, FACILITATOR, {"kind": "tools.set", "silent": True})
    applied = apply(board, {"kind": "note.add", "id": "f1", "text": "constat importé"}, FACILITATOR)
    assert applied.event is not None and not applied.private
    assert "f1" in [n["id"] for n in board.to_dict(viewer=Viewer("participant", "cb"))["notes"]]


def test_deleting_a_column_tells_each_owner_of_its_own_silent_notes_only() -> None:
    """column.delete lists public notes for all and each author's silent notes for them alone."""
    board = seeded()
    run(board, FACILITATOR, {"kind": "tools.set", "silent": True})
    run(board, BOB, {"kind": "note.add", "id": "s2", "text": "secret", "column": "c1"})
    applied = apply(board, {"kind": "column.delete", "id": "c1"}, ANA)
    assert applied.event is not None
    assert [n["id"] for n in applied.event["notes"]] == ["n1"]
    assert [n["id"] for n in applied.private["cb"]["notes"]] == ["n1", "s2"]


def test_votes_private_to_the_voter_until_reveal_then_counts() -> None:
    """Votes cost from a budget, only the voter hears of them; the reveal gives counts."""
    board = seeded()
    run(board, FACILITATOR, {"kind": "column.add", "id": "c2", "title": "Numérique"})
    assert reject(board, ANA, {"kind": "vote.add", "column": "c1"}) == "voting_closed"
    run(board, FACILITATOR, {"kind": "tools.set", "voting": True, "budget": 2})
    votes: list[Applied] = [
        apply(board, {"kind": "vote.add", "column": "c1"}, ANA),
        apply(board, {"kind": "vote.add", "column": "c1"}, ANA),
        apply(board, {"kind": "vote.add", "column": "c2"}, BOB),
    ]
    assert all(v.event is None for v in votes)
    assert votes[1].private == {"ca": {"kind": "vote.add", "column": "c1", "mine": {"c1": 2},
                                       "left": 0}}  # fmt: skip
    assert reject(board, ANA, {"kind": "vote.add", "column": "c2"}) == "no_votes_left"
    assert reject(board, BOB, {"kind": "vote.remove", "column": "c1"}) == "no_vote"
    ana = board.to_dict(viewer=Viewer("participant", "ca"))["votes"]
    assert ana == {"counts": None, "mine": {"c1": 2}, "left": 0}
    assert board.to_dict(viewer=Viewer("facilitator", "cf"))["votes"]["counts"] is None
    reveal = run(board, FACILITATOR, {"kind": "reveal"})[0]
    assert reveal["counts"] == {"c1": 2, "c2": 1} and reveal["tools"]["voting"] is False
    assert board.to_dict()["votes"] == {"counts": {"c1": 2, "c2": 1}}
    fresh = run(board, FACILITATOR, {"kind": "vote.round"})[0]
    assert fresh["tools"]["voting"] is True and board.to_dict()["votes"]["counts"] is None
    assert board.to_dict(viewer=Viewer("participant", "ca"))["votes"]["mine"] == {}


def test_timer_ends_from_the_commit_time() -> None:
    """The countdown's end is the record's time plus the seconds: the same on every replica."""
    board = Board()
    assert run(board, FACILITATOR, {"kind": "timer.start", "seconds": 90})[0]["ends_at"] == 91_000
    run(board, FACILITATOR, {"kind": "timer.stop"})
    assert board.timer is None


def test_participant_erase_anonymises_notes_and_ideas() -> None:
    """Erasing a pseudonym replaces it wherever it signs, the silent notes included."""
    board = seeded()
    run(board, ANA, {"kind": "idea.add", "id": "i1", "column": "c1", "text": "Un annuaire"})
    run(board, FACILITATOR, {"kind": "tools.set", "silent": True})
    run(board, ANA, {"kind": "note.add", "id": "s1", "text": "secret"})
    run(board, FACILITATOR, {"kind": "participant.erase", "digest": name_digest("Ana")})
    assert board.notes["n1"].author == board.notes["s1"].author == ANONYMISED
    assert board.ideas["i1"].author == ANONYMISED and board.notes["n2"].author == "Bob"


def test_ideas_park_under_a_live_orientation() -> None:
    """Action ideas go under an existing orientation and can be taken away."""
    board = seeded()
    assert reject(board, ANA, {"kind": "idea.add", "id": "i1", "column": "zz", "text": "x"}) == (
        "unknown_column"
    )
    run(board, ANA, {"kind": "idea.add", "id": "i1", "column": "c1", "text": "Un annuaire"})
    assert board.to_dict()["ideas"] == [
        {"id": "i1", "column": "c1", "text": "Un annuaire", "author": "Ana"}
    ]
    run(board, BOB, {"kind": "idea.delete", "id": "i1"})
    assert board.to_dict()["ideas"] == []
    assert reject(board, BOB, {"kind": "idea.delete", "id": "i1"}) == "unknown_idea"
    assert reject(board, BOB, {"kind": "idea.move", "id": "i1", "column": None}) == "unknown_idea"


def test_atelier_advice_names_each_sign_and_says_it_is_atelier_s() -> None:
    """Atelier's own advice shows up when it holds and goes away when fixed, labelled as
    Atelier's (``source: "atelier"``), never as the method's."""
    board = seeded()

    def advice(b: Board) -> list[dict[str, Any]]:
        return [c for c in check(b) if c["source"] == "atelier"]

    assert {c["code"] for c in advice(board)} == {
        "too_few_orientations", "orientation_without_statement", "ambition_unserved",
        "findings_unsorted"}  # fmt: skip
    run(board, FACILITATOR, {"kind": "column.add", "id": "c2", "title": "Vide"})
    assert {"code": "orientation_without_finding", "source": "atelier", "column": "c2",
            "message": "« Vide » ne s'appuie sur aucun constat."} in advice(board)  # fmt: skip
    for i in range(3, 8):
        run(board, FACILITATOR, {"kind": "column.add", "id": f"c{i}", "title": f"O{i}"})
    assert "too_many_orientations" in {c["code"] for c in advice(board)}
    fixed = Board()
    for i, ambition in enumerate(("ancrage", "transition", "travail", "consommation")):
        run(fixed, FACILITATOR, {"kind": "column.add", "id": f"c{i}", "title": f"O{i}"},
            {"kind": "column.state", "id": f"c{i}", "statement": f"Orientation {i}"},
            {"kind": "note.add", "id": f"n{i}", "text": "t", "column": f"c{i}",
             "ambitions": [ambition]})  # fmt: skip
    assert advice(fixed) == []
    assert [c["source"] for c in check(fixed)] == ["method"] * 3  # the method's always stay


def test_record_lists_orientations_with_grounds_ambitions_votes() -> None:
    """The official record: orientations in order with statements, findings, ambitions, votes."""
    board = seeded()
    run(board, ANA, {"kind": "note.edit", "id": "n1", "ambitions": ["ancrage"]})
    run(board, ANA, {"kind": "column.state", "id": "c1", "statement": "Coopérer"})
    run(board, FACILITATOR, {"kind": "tools.set", "voting": True})
    run(board, BOB, {"kind": "vote.add", "column": "c1"})
    run(board, FACILITATOR, {"kind": "freeze"})
    record = official_record(board)
    assert record["orientations"] == [
        {"id": "c1", "title": "Coopération", "statement": "Coopérer", "votes": 1, "ideas": [],
         "decision": None, "objections": [], "documents": [], "others": [],
         "ambitions": ["ancrage"], "findings": [
             {"id": "n1", "text": "Peu de liens", "author": "Ana", "ambitions": ["ancrage"],
              "type": "", "theme": "", "source": "", "indicator": "", "imported": False}]}
    ]  # fmt: skip
    assert record["unsorted"][0]["id"] == "n2" and record["devices"] == 2
    assert record["facilitator"] == "Fanny" and record["votes"] == {"c1": 1}
    assert record["hash"] == content_hash(board.to_dict())


def test_full_form_round_trips_and_old_boards_load() -> None:
    """The stored form rebuilds the same board; a board saved before the flow loads too."""
    board = seeded()
    run(board, FACILITATOR, {"kind": "tools.set", "silent": True, "voting": True})
    run(board, ANA, {"kind": "note.add", "id": "s1", "text": "secret"})
    run(board, ANA, {"kind": "vote.add", "column": "c1"})
    run(board, ANA, {"kind": "idea.add", "id": "i1", "column": "c1", "text": "x"})
    stored = board.to_dict(tombstones=True)
    assert Board.from_dict(copy.deepcopy(stored)).to_dict(tombstones=True) == stored
    old = {"seq": 3, "columns": [{"id": "c", "title": "T", "pos": "a0", "deleted": False}],
           "notes": []}  # fmt: skip
    assert Board.from_dict(old).to_dict()["phase"] == 1


_VIEWERS = {"ca": ANA, "cb": BOB, "cf": FACILITATOR}


def _mirror_apply(mirror: dict[str, Any], event: dict[str, Any]) -> None:
    """What a browser does with an event it was sent (the flow's kinds included)."""
    kind = event["kind"]
    if "silent_waiting" in event:  # every event that changes the count says it
        mirror["silent_waiting"] = event["silent_waiting"]
    if kind in ("reveal", "freeze", "notes.reveal", "tools.set"):
        for note in event["notes"]:
            apply_event(mirror, {k: v for k, v in note.items() if k != "silent_waiting"})
    elif kind == "participant.erase":
        for note_id in event["notes"]:
            if note_id in mirror["notes"]:
                mirror["notes"][note_id]["author"] = event["replacement"]
    elif kind in FLOW_KINDS:
        return
    else:
        apply_event(mirror, {k: v for k, v in event.items() if k != "silent_waiting"})


@st.composite
def _flow_ops(draw: st.DrawFn) -> list[tuple[str, dict[str, Any]]]:
    ids = st.sampled_from(["a", "b", "c"])
    cols = st.sampled_from(["c1", "c2"])
    who = st.sampled_from(["ca", "cb", "cf"])
    add = st.builds(
        lambda i, c: {"kind": "note.add", "id": i, "text": "t", "column": c},
        ids,
        st.one_of(st.none(), cols),
    )
    op = st.one_of(
        add, add, add,
        st.builds(lambda i, c: {"kind": "note.move", "id": i, "column": c},
                  ids, st.one_of(st.none(), cols)),
        st.builds(lambda i: {"kind": "note.edit", "id": i, "text": "edited"}, ids),
        st.builds(lambda i: {"kind": "note.delete", "id": i}, ids),
        st.builds(lambda i: {"kind": "note.restore", "id": i}, ids),
        st.builds(lambda c: {"kind": "column.add", "id": c, "title": "T"}, cols),
        st.builds(lambda c: {"kind": "column.delete", "id": c}, cols),
        st.builds(lambda c: {"kind": "column.lock", "id": c}, cols),
        st.builds(lambda c: {"kind": "column.unlock", "id": c}, cols),
        st.builds(lambda c: {"kind": "vote.add", "column": c}, cols),
        st.builds(lambda s, v, b: {"kind": "tools.set", "silent": s, "voting": v, "budget": b},
                  st.booleans(), st.booleans(), st.integers(1, 3)),
        st.builds(lambda c: {"kind": "vote.remove", "column": c}, cols),
        st.just({"kind": "reveal"}),
        st.just({"kind": "notes.reveal"}),
        st.just({"kind": "votes.reveal"}),
        st.just({"kind": "vote.round"}),
        st.builds(lambda s: {"kind": "tools.set", "shaping": s}, st.booleans()),
        st.builds(lambda c: {"kind": "column.rename", "id": c, "title": "R"}, cols),
        st.just({"kind": "participant.erase", "digest": name_digest("Ana")}),
        st.just({"kind": "freeze"}),
    )  # fmt: skip
    start = [("cf", {"kind": "column.add", "id": c, "title": "T"}) for c in ("c1", "c2")]
    start.append(("cf", {"kind": "tools.set", "silent": draw(st.booleans()), "voting": True}))
    return start + draw(st.lists(st.tuples(who, op), max_size=40))


@settings(max_examples=100, deadline=None)
@given(_flow_ops())
def test_each_viewers_events_rebuild_exactly_their_view(
    ops: list[tuple[str, dict[str, Any]]],
) -> None:
    """Whatever the ops, each viewer's mirror, built only from the events sent to it, equals
    the board as that viewer may see it: private events reach exactly whom they should."""
    board = Board.new()
    mirrors = {c: {"seq": 0, "notes": {}, "columns": {}, "silent_waiting": 0}
               for c in [*_VIEWERS, None]}  # fmt: skip
    for seq, (client, op) in enumerate(ops, 1):
        ctx = _VIEWERS[client]
        try:
            applied = apply(board, op, Context(ctx.author, ctx.role, ctx.client, seq, seq))  # type: ignore[arg-type]
        except RoomError:
            continue
        for viewer, mirror in mirrors.items():
            event = applied.for_client(viewer)
            if event is not None:
                check_event(event)
                _mirror_apply(mirror, event)
    for viewer, mirror in mirrors.items():
        role = _VIEWERS[viewer].role if viewer else "observer"
        view = board.to_dict(viewer=Viewer(role, viewer))
        assert canonical(mirror) == canonical(view), viewer
        assert mirror["silent_waiting"] == view["silent_waiting"], viewer
        check_server_frame({"type": "welcome", "v": 1, "workshop": "w", "sid": "s", "role": role,
                            "seq": board.seq, "state": view})  # fmt: skip


def test_a_shrunk_budget_never_shows_a_negative_balance() -> None:
    """Lowering the budget mid-vote leaves cast votes, refuses more, and shows 0 left."""
    board = seeded()
    run(board, FACILITATOR, {"kind": "tools.set", "voting": True, "budget": 3})
    run(board, ANA, *[{"kind": "vote.add", "column": "c1"}] * 3)
    run(board, FACILITATOR, {"kind": "tools.set", "budget": 1})
    assert reject(board, ANA, {"kind": "vote.add", "column": "c1"}) == "no_votes_left"
    assert run(board, ANA, {"kind": "vote.remove", "column": "c1"})[0]["left"] == 0
    assert board.to_dict(viewer=Viewer("participant", "ca"))["votes"]["left"] == 0
