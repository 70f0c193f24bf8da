"""The room a facilitator can run (issue 10), in the pure reducer: the starting phase,
who shapes the orientations, vote rounds, the two reveals and the silent notes' count."""

from typing import Any

import pytest
from atelier.rooms.errors import RoomError
from atelier.rooms.model import ANONYMOUS, PHASES, Board, Viewer
from atelier.rooms.reducer import Context, apply, apply_op

pytestmark = pytest.mark.pure  # no server, no I/O: the fast layer

FACILITATOR = Context("Fanny", "facilitator", "cf", 1_000)
ANA = Context("Ana", "participant", "ca", 2_000)
BOB = Context("Bob", "participant", "cb", 3_000)
OBSERVER = Context("Olga", "observer", "co", 4_000)

#: Every op that shapes the orientations, valid on ``started()``'s board.
SHAPING_OPS: list[dict[str, Any]] = [
    {"kind": "column.add", "id": "c9", "title": "Nouvelle"},
    {"kind": "column.rename", "id": "c1", "title": "Autre titre"},
    {"kind": "column.move", "id": "c1", "index": 1},
    {"kind": "column.delete", "id": "c1"},
    {"kind": "column.state", "id": "c1", "statement": "Coopérer davantage"},
]


def run(board: Board, ctx: Context, *ops: dict[str, Any]) -> list[dict[str, Any]]:
    return [apply_op(board, op, ctx) for op in ops]  # type: ignore[arg-type]


def reject(board: Board, ctx: Context, op: dict[str, Any]) -> str:
    """Apply an op that must be refused; return the refusal's code."""
    with pytest.raises(RoomError) as caught:
        apply(board, op, ctx)  # type: ignore[arg-type]
    return caught.value.code


def started() -> Board:
    """A new workshop's board with two orientations and a finding."""
    board = Board.new()
    run(board, FACILITATOR, {"kind": "column.add", "id": "c1", "title": "Coopération"},
        {"kind": "column.add", "id": "c2", "title": "Numérique"})  # fmt: skip
    run(board, ANA, {"kind": "note.add", "id": "n1", "text": "Peu de liens", "column": "c1"})
    return board


def test_a_new_board_runs_phase_four_and_never_held_the_earlier_ones() -> None:
    """Board.new() is in phase 4 and remembers it started there; phase.next closes phase 4
    (its snapshot is phase 4's), and any phase can be asked for."""
    board = Board.new()
    assert (board.phase, board.first_phase) == (4, 4)
    view = board.to_dict()
    assert (view["phase"], view["first_phase"]) == (4, 4)
    ctx = Context("Fanny", "facilitator", "cf", 10, seq=7)
    event = apply_op(board, {"kind": "phase.next"}, ctx)
    assert event == {"kind": "phase.next", "phase": 5, "snapshot": "s7", "label": PHASES[3]}
    assert board.first_phase == 4
    assert Board.new(1).to_dict()["first_phase"] == 1 and Board.new(5).phase == 5
    for wrong in (0, 6):
        with pytest.raises(ValueError):
            Board.new(wrong)


def test_boards_stored_before_the_starting_phase_load_as_started_in_phase_one() -> None:
    """A checkpoint without first_phase nor shaping loads as it was: phase 1 first, and
    participants still shape its orientations (so its log replays alike)."""
    stored = Board().to_dict(tombstones=True)
    del stored["first_phase"]
    del stored["tools"]["shaping"]
    old = Board.from_dict({**stored, "phase": 3})
    assert (old.phase, old.first_phase) == (3, 1)
    run(old, ANA, {"kind": "column.add", "id": "c1", "title": "Par un participant"})
    assert "c1" in old.columns
    again = Board.from_dict(started().to_dict(tombstones=True))
    assert again.first_phase == 4 and again.tools.shaping is False


@pytest.mark.parametrize("op", SHAPING_OPS, ids=lambda op: str(op["kind"]))
def test_shaping_is_the_facilitators_until_opened_to_participants(op: dict[str, Any]) -> None:
    """A participant's shaping op is refused (shaping_closed) and changes nothing, until
    the facilitator opens shaping; closing it again refuses again. The facilitator always may."""
    board = started()
    before = board.to_dict(tombstones=True)
    assert reject(board, ANA, op) == "shaping_closed"
    assert reject(board, OBSERVER, op) == "forbidden"
    assert board.to_dict(tombstones=True) == before
    event = run(board, FACILITATOR, {"kind": "tools.set", "shaping": True})[0]
    assert event["tools"]["shaping"] is True
    opened = started()
    run(opened, FACILITATOR, {"kind": "tools.set", "shaping": True})
    assert run(opened, ANA, op)[0]["kind"] == op["kind"]
    run(opened, FACILITATOR, {"kind": "tools.set", "shaping": False})
    assert reject(opened, BOB, {"kind": "column.add", "id": "c8", "title": "x"}) == (
        "shaping_closed"
    )
    facilitated = started()
    assert run(facilitated, FACILITATOR, op)[0]["kind"] == op["kind"]


def test_participants_still_add_move_and_vote_while_shaping_is_closed() -> None:
    """Closed shaping touches only the orientations: notes, ideas and votes stay open."""
    board = started()
    run(board, FACILITATOR, {"kind": "tools.set", "voting": True})
    run(board, BOB, {"kind": "note.add", "id": "n2", "text": "Tiers-lieu"},
        {"kind": "note.move", "id": "n2", "column": "c2"},
        {"kind": "idea.add", "id": "i1", "column": "c2", "text": "Un espace partagé"},
        {"kind": "vote.add", "column": "c2"})  # fmt: skip
    assert board.notes["n2"].column == "c2" and board.votes["cb"] == {"c2": 1}


def test_closing_a_vote_keeps_its_ballots_and_reopening_continues_the_round() -> None:
    """voting off then on: every ballot stays, the budget left too; counts hide again."""
    board = started()
    run(board, FACILITATOR, {"kind": "tools.set", "voting": True, "budget": 3})
    run(board, ANA, {"kind": "vote.add", "column": "c1"}, {"kind": "vote.add", "column": "c2"})
    run(board, BOB, {"kind": "vote.add", "column": "c1"})
    closed = run(board, FACILITATOR, {"kind": "tools.set", "voting": False})[0]
    assert closed["tools"]["voting"] is False
    assert reject(board, ANA, {"kind": "vote.add", "column": "c1"}) == "voting_closed"
    ana = Viewer("participant", "ca")
    assert board.to_dict(viewer=ana)["votes"] == {"counts": None, "mine": {"c1": 1, "c2": 1},
                                                  "left": 1}  # fmt: skip
    run(board, FACILITATOR, {"kind": "votes.reveal"})
    assert board.to_dict()["votes"]["counts"] == {"c1": 2, "c2": 1}
    run(board, FACILITATOR, {"kind": "tools.set", "voting": True})
    assert board.to_dict(viewer=ana)["votes"] == {"counts": None, "mine": {"c1": 1, "c2": 1},
                                                  "left": 1}  # fmt: skip
    assert run(board, ANA, {"kind": "vote.add", "column": "c1"})[0]["left"] == 0


def test_a_new_round_is_its_own_op_clearing_ballots_and_hiding_counts() -> None:
    """vote.round clears every ballot, hides the counts, opens the vote (with a budget)."""
    board = started()
    run(board, FACILITATOR, {"kind": "tools.set", "voting": True})
    run(board, ANA, {"kind": "vote.add", "column": "c1"})
    run(board, FACILITATOR, {"kind": "votes.reveal"})
    event = run(board, FACILITATOR, {"kind": "vote.round", "budget": 5})[0]
    assert event == {"kind": "vote.round", "tools": {"silent": False, "voting": True,
                     "budget": 5, "revealed": False, "shaping": False}}  # fmt: skip
    assert board.votes == {}
    assert board.to_dict(viewer=Viewer("participant", "ca"))["votes"] == {
        "counts": None, "mine": {}, "left": 5}  # fmt: skip
    assert reject(board, ANA, {"kind": "vote.round"}) == "forbidden"


def test_notes_and_votes_are_revealed_by_separate_ops() -> None:
    """notes.reveal shows the silent notes and no count; votes.reveal the counts and no note."""
    board = started()
    run(board, FACILITATOR, {"kind": "tools.set", "silent": True, "voting": True})
    run(board, ANA, {"kind": "note.add", "id": "s1", "text": "secret", "column": "c1"})
    run(board, BOB, {"kind": "vote.add", "column": "c2"})
    counts = run(board, FACILITATOR, {"kind": "votes.reveal"})[0]
    assert counts == {"kind": "votes.reveal", "counts": {"c2": 1},
                      "tools": {**counts["tools"], "voting": False, "revealed": True}}  # fmt: skip
    assert "s1" not in [n["id"] for n in board.to_dict(viewer=ANONYMOUS)["notes"]]
    assert board.to_dict()["silent_waiting"] == 1
    board2 = started()
    run(board2, FACILITATOR, {"kind": "tools.set", "silent": True, "voting": True})
    run(board2, ANA, {"kind": "note.add", "id": "s1", "text": "secret", "column": "c1"})
    run(board2, BOB, {"kind": "vote.add", "column": "c2"})
    shown = run(board2, FACILITATOR, {"kind": "notes.reveal"})[0]
    assert [n["id"] for n in shown["notes"]] == ["s1"] and shown["silent_waiting"] == 0
    assert shown["notes"][0]["text"] == "secret" and "private" not in shown["notes"][0]
    assert board2.to_dict()["votes"]["counts"] is None and board2.tools.voting is True
    assert board2.tools.silent is True  # silent writing goes on for the next notes
    run(board2, ANA, {"kind": "note.add", "id": "s2", "text": "encore"})
    assert board2.to_dict()["silent_waiting"] == 1


def test_turning_silent_writing_off_reveals_what_it_hid() -> None:
    """Unticking silent writing shows the waiting notes to everyone, in the same event."""
    board = started()
    run(board, FACILITATOR, {"kind": "tools.set", "silent": True})
    run(board, ANA, {"kind": "note.add", "id": "s1", "text": "un", "column": "c1"})
    run(board, BOB, {"kind": "note.add", "id": "s2", "text": "deux"})
    event = run(board, FACILITATOR, {"kind": "tools.set", "silent": False})[0]
    assert sorted(n["id"] for n in event["notes"]) == ["s1", "s2"]
    assert event["silent_waiting"] == 0 and event["tools"]["silent"] is False
    assert {"s1", "s2"} <= {n["id"] for n in board.to_dict(viewer=ANONYMOUS)["notes"]}
    quiet = run(board, FACILITATOR, {"kind": "tools.set", "budget": 4})[0]
    assert quiet["notes"] == [] and quiet["silent_waiting"] == 0


def test_everyone_is_told_how_many_silent_notes_wait_never_their_text() -> None:
    """Adding, deleting or restoring a silent note tells the others the new count only;
    editing or moving it tells them nothing; every view says the count."""
    board = started()
    run(board, FACILITATOR, {"kind": "tools.set", "silent": True})
    added = apply(board, {"kind": "note.add", "id": "s1", "text": "le secret"}, ANA)
    apply(board, {"kind": "note.add", "id": "s2", "text": "autre"}, BOB)
    assert added.event == {"kind": "silent.waiting", "silent_waiting": 1}
    for viewer in (Viewer("facilitator", "cf"), ANONYMOUS, Viewer("participant", "cb")):
        view = board.to_dict(viewer=viewer)
        assert view["silent_waiting"] == 2
        assert "le secret" not in str(view)
    edited = apply(board, {"kind": "note.edit", "id": "s1", "text": "reformulé"}, ANA)
    assert edited.event is None and edited.for_client("cf") is None
    deleted = apply(board, {"kind": "note.delete", "id": "s1"}, ANA)
    assert deleted.event == {"kind": "silent.waiting", "silent_waiting": 1}
    assert deleted.private["ca"] == {"kind": "note.delete", "id": "s1", "private": True,
                                     "silent_waiting": 1}  # fmt: skip
    restored = apply(board, {"kind": "note.restore", "id": "s1"}, ANA)
    assert restored.event == {"kind": "silent.waiting", "silent_waiting": 2}
    assert "reformulé" not in str(restored.event)


def test_observers_never_see_anyones_ballot_and_counts_only_after_the_reveal() -> None:
    """An observer's view (with or without a client id) holds no "mine" nor "left", and
    counts only once revealed; a facilitator's holds no counts before either."""
    board = started()
    run(board, FACILITATOR, {"kind": "tools.set", "voting": True})
    run(board, ANA, {"kind": "vote.add", "column": "c1"})
    run(board, FACILITATOR, {"kind": "vote.add", "column": "c2"})
    for viewer in (ANONYMOUS, Viewer("observer", "co")):
        assert board.to_dict(viewer=viewer)["votes"] == {"counts": None}
    assert board.to_dict(viewer=Viewer("facilitator", "cf"))["votes"]["counts"] is None
    assert reject(board, OBSERVER, {"kind": "vote.add", "column": "c1"}) == "forbidden"
    run(board, FACILITATOR, {"kind": "votes.reveal"})
    for viewer in (ANONYMOUS, Viewer("observer", "co")):
        assert board.to_dict(viewer=viewer)["votes"] == {"counts": {"c1": 1, "c2": 1}}


@pytest.mark.parametrize(
    "op",
    [{"kind": "notes.reveal"}, {"kind": "votes.reveal"}, {"kind": "vote.round"},
     {"kind": "tools.set", "shaping": True}, *SHAPING_OPS],
    ids=lambda op: str(op["kind"]),
)  # fmt: skip
def test_a_frozen_board_refuses_the_new_ops(op: dict[str, Any]) -> None:
    """Once frozen, the new ops are refused like every other, the facilitator's too."""
    board = started()
    run(board, FACILITATOR, {"kind": "freeze"})
    before = board.to_dict(tombstones=True)
    assert reject(board, FACILITATOR, op) == "frozen"
    assert board.to_dict(tombstones=True) == before
