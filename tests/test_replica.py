"""The sans-I/O room replica against scripted feeds: out of order, twice, with gaps, from
trimmed logs, reloaded mid-feed, and retries asked across reloads. No I/O: milliseconds."""

import random
from typing import Any

import pytest
from atelier.records import Committed, OpRecord, name_digest, rehash, scrub
from atelier.rooms.model import Board, Viewer
from atelier.rooms.reducer import ANONYMISED
from atelier.rooms.replica import (
    Action,
    Fill,
    Kick,
    Outcome,
    PeerInfo,
    RoomReplica,
    SaveCheckpoint,
    Send,
    Settle,
    StoreSnapshot,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from .support import canonical

pytestmark = pytest.mark.pure  # no server, no I/O: the fast layer

ROLES = {"fa": ("facilitator", "Fanny"), "pa": ("participant", "Ana"),
         "pb": ("participant", "Bob")}  # fmt: skip


def committed(seq: int, client: str, op: dict[str, Any]) -> Committed:
    role, author = ROLES[client]
    return Committed(seq, OpRecord(client, seq, op, author, role, at=1000 + seq))


@st.composite
def logs(draw: st.DrawFn) -> list[Committed]:
    """A room's log: columns, notes moved around (sometimes unknown ones: refused),
    snapshots, an erasure; every op as the store numbered it."""
    ids = st.sampled_from(["n1", "n2", "n3", "ghost"])
    cols = st.sampled_from([None, "c1", "c2"])
    op = st.one_of(
        st.builds(lambda i: {"kind": "note.add", "id": i, "text": "constat"}, ids),
        st.builds(lambda i, c: {"kind": "note.move", "id": i, "column": c}, ids, cols),
        st.builds(lambda i: {"kind": "note.delete", "id": i}, ids),
        st.builds(lambda c: {"kind": "column.add", "id": c or "c3", "title": "Axe"}, cols),
        st.just({"kind": "snapshot.take", "label": "Étape"}),
        st.just({"kind": "participant.erase", "digest": name_digest("Ana")}),
    )
    who = st.sampled_from(sorted(ROLES))
    body = draw(st.lists(st.tuples(who, op), min_size=1, max_size=30))
    start = [("fa", {"kind": "column.add", "id": c, "title": "Axe"}) for c in ("c1", "c2")]
    return [committed(seq, c, o) for seq, (c, o) in enumerate(start + body, 1)]


def sequential(log: list[Committed]) -> tuple[RoomReplica, list[Action]]:
    """The reference: a replica fed the whole log in order."""
    replica = RoomReplica("w")
    actions = replica.load(None, [])
    for entry in log:
        actions += replica.receive(entry)
    return replica, actions


def serve(replica: RoomReplica, log: list[Committed], actions: list[Action]) -> list[Action]:
    """Carry out the Fills a replica asks for from ``log``, as the hub does; return all."""
    done: list[Action] = []
    while actions:
        action = actions.pop(0)
        done.append(action)
        if isinstance(action, Fill):
            actions += replica.filled([c for c in log if c.seq > action.after])
    return done


def settled(actions: list[Action]) -> dict[int, Outcome]:
    found: dict[int, Outcome] = {}
    for action in actions:
        if isinstance(action, Settle):
            assert action.outcome.seq not in found, "an op settled twice"
            found[action.outcome.seq] = action.outcome
    return found


@settings(max_examples=100, deadline=None)
@given(logs(), st.randoms(use_true_random=False))
def test_any_feed_order_applies_the_log_once_in_order(
    log: list[Committed], rnd: random.Random
) -> None:
    """Shuffled, duplicated and gapped feeds end on the reference board; each op settles
    once with the reference outcome, and a peer gets each event once, in seq order."""
    reference, ref_actions = sequential(log)
    replica = RoomReplica("w")
    replica.load(None, [])
    replica.join(PeerInfo("s1", "pb", "participant", "Bob"), None)
    feed = [c for c in log if rnd.random() > 0.3]  # some never come: a gap to fill
    feed += rnd.sample(feed, k=len(feed) // 3)  # some come twice
    rnd.shuffle(feed)
    actions: list[Action] = []
    for entry in feed:
        actions += serve(replica, log, replica.receive(entry))
    actions += serve(replica, log, replica.resync())  # the doorbell may never ring again
    assert replica.applied == len(log)
    assert canonical(replica.board.to_dict(tombstones=True)) == canonical(
        reference.board.to_dict(tombstones=True)
    )
    assert settled(actions) == settled(ref_actions)
    seqs = [a.message["seq"] for a in actions if isinstance(a, Send) and
            a.to == ("s1",) and a.message["type"] == "event"]  # fmt: skip
    assert seqs == sorted(set(seqs))


@settings(max_examples=100, deadline=None)
@given(logs(), st.integers(0, 40))
def test_outcomes_survive_a_reload_from_any_checkpoint(log: list[Committed], cut: int) -> None:
    """A replica reloaded from a checkpoint taken at any point answers every op's retry
    as the first replica did: a refused op stays refused (never an ack)."""
    cut = min(cut, len(log))
    first, first_actions = sequential(log[:cut])
    empty = {**first.board.to_dict(tombstones=True), "rejections": [], "rejections_floor": 0}
    checkpoint = first.checkpoint() or SaveCheckpoint(first.applied, empty)
    for entry in log[cut:]:
        first_actions += first.receive(entry)
    reloaded = RoomReplica("w")
    reloaded.load((checkpoint.seq, checkpoint.state), log[cut:])
    for seq in range(1, len(log) + 1):
        assert reloaded.outcome(seq) == first.outcome(seq), seq
    assert reloaded.outcome(len(log) + 1) is None
    assert canonical(reloaded.board.to_dict(tombstones=True)) == canonical(
        first.board.to_dict(tombstones=True)
    )


def test_a_refused_move_is_refused_again_after_a_reload() -> None:
    """The reported defect: reject at seq 3, room closed (checkpoint), retry answered alike."""
    log = [committed(1, "fa", {"kind": "column.add", "id": "c1", "title": "Axe"}),
           committed(2, "pa", {"kind": "note.add", "id": "n1", "text": "constat"}),
           committed(3, "pa", {"kind": "note.move", "id": "nope", "column": "c1"})]  # fmt: skip
    replica, _ = sequential(log)
    assert replica.outcome(3) == Outcome(3, "unknown_note", replica.outcome(3).message)  # type: ignore[union-attr]
    saved = replica.checkpoint()
    assert saved is not None
    fresh = RoomReplica("w")
    fresh.load((saved.seq, saved.state), [])
    answer = fresh.outcome(3)
    assert answer is not None and answer.code == "unknown_note" and not answer.applied
    assert fresh.outcome(2) == Outcome(2)


def test_a_checkpoint_from_before_refusals_were_kept_says_unknown_not_applied() -> None:
    """An old checkpoint has no refusals: its ops' outcomes are unknown, never a false ack."""
    old = {**Board().to_dict(tombstones=True), "seq": 7}
    replica = RoomReplica("w")
    replica.load((7, old), [committed(8, "pa", {"kind": "note.add", "id": "n", "text": "x"})])
    assert replica.outcome(5) is not None and replica.outcome(5).code == "outcome_unknown"  # type: ignore[union-attr]
    assert replica.outcome(8) == Outcome(8)


def test_a_reload_tells_peers_nothing_before_their_reset() -> None:
    """Reloading from a checkpoint (the log behind it was trimmed) sends each peer one reset
    with its own view, and no event of the ops replayed on the way."""
    log = [
        committed(s, "pa", {"kind": "note.add", "id": f"n{s}", "text": "x"}) for s in range(1, 30)
    ]
    behind = RoomReplica("w")
    behind.load(None, log[:3])
    behind.join(PeerInfo("s1", "pb", "participant", "Bob"), None)
    ahead, _ = sequential(log[:20])
    saved = ahead.checkpoint()
    assert saved is not None
    actions = behind.load((saved.seq, saved.state), log[20:])
    sends = [a for a in actions if isinstance(a, Send)]
    assert [s.message["type"] for s in sends] == ["reset"]
    assert sends[0].to == ("s1",) and sends[0].message["seq"] == 29
    assert canonical(sends[0].message["state"]) == canonical(behind.view("participant", "pb"))


def test_a_late_peer_catches_up_from_the_ring_or_gets_the_board() -> None:
    """A join with a recent ``since`` gets the missed events; an old one gets the state."""
    log = [
        committed(s, "pa", {"kind": "note.add", "id": f"n{s}", "text": "x"}) for s in range(1, 9)
    ]
    replica = RoomReplica("w", ring_size=4)
    replica.load(None, log)
    recent = replica.join(PeerInfo("s1", "pb", "participant", "Bob"), 6)
    welcome = next(a.message for a in recent if isinstance(a, Send))
    assert [e["seq"] for e in welcome["events"]] == [7, 8] and "state" not in welcome
    old = replica.join(PeerInfo("s2", "pb", "participant", "Bob"), 2)
    welcome = next(a.message for a in old if isinstance(a, Send))
    assert "events" not in welcome and len(welcome["state"]["notes"]) == 8


def test_snapshots_and_checkpoints_are_asked_for() -> None:
    """A snapshot op asks to store its snapshot; every N ops a checkpoint is due."""
    replica = RoomReplica("w", checkpoint_every=3)
    replica.load(None, [])
    actions: list[Action] = []
    for seq in range(1, 4):
        op = {"kind": "snapshot.take", "label": "Étape"} if seq == 2 else {
            "kind": "note.add", "id": f"n{seq}", "text": "x"}  # fmt: skip
        actions += replica.receive(committed(seq, "fa", op))
    stored = [a for a in actions if isinstance(a, StoreSnapshot)]
    assert [a.seq for a in stored] == [2] and stored[0].body["id"] == "s2"
    assert [a.seq for a in actions if isinstance(a, SaveCheckpoint)] == [3]


def test_a_big_board_is_checkpointed_once_per_as_many_ops_as_it_holds_notes() -> None:
    """A checkpoint costs O(board): on a board of 8 notes one is due every 8 ops, not every
    3, so that its cost per op stays flat as the board grows."""
    replica = RoomReplica("w", checkpoint_every=3)
    replica.load(None, [])
    actions: list[Action] = []
    for seq in range(1, 25):
        op = {"kind": "note.add", "id": f"n{seq}", "text": "x"} if seq <= 8 else {
            "kind": "note.edit", "id": "n1", "text": f"v{seq}"}  # fmt: skip
        actions += replica.receive(committed(seq, "fa", op))
    assert [a.seq for a in actions if isinstance(a, SaveCheckpoint)] == [3, 11, 19]


def test_revocation_kicks_the_peers_of_that_link_only() -> None:
    """A replaced participant link closes participants; a deletion closes everyone."""
    replica = RoomReplica("w")
    replica.load(None, [])
    for sid, client in (("s1", "pa"), ("s2", "fa")):
        role, name = ROLES[client]
        replica.join(PeerInfo(sid, client, role, name), None)
    assert [k.sid for k in replica.revoke("participant") if isinstance(k, Kick)] == ["s1"]
    assert [k.code for k in replica.revoke("*")] == ["workshop_deleted"] * 2
    assert replica.deleted and replica.checkpoint() is None


@settings(max_examples=100, deadline=None)
@given(logs())
def test_replaying_a_scrubbed_log_gives_the_same_board_and_hashes(log: list[Committed]) -> None:
    """After an erasure rewrote storage (log, snapshots), a replay yields the same board and
    snapshot hashes equal to the stored (re-hashed) ones: replay is stable."""
    erased = name_digest("Ana")
    log = [*log, committed(len(log) + 1, "fa", {"kind": "participant.erase", "digest": erased})]
    original, actions = sequential(log)
    stored = {a.body["id"]: rehash(scrub(a.body, erased, ANONYMISED))
              for a in actions if isinstance(a, StoreSnapshot)}  # fmt: skip
    scrubbed = [Committed.from_bytes(_scrub_bytes(c, erased)) for c in log]
    assert all(
        c.record.op == s.record.op
        for c, s in zip(log, scrubbed, strict=True)
        if c.record.op["kind"] == "participant.erase"
    )  # the erase op is never rewritten
    replayed, replay_actions = sequential(scrubbed)
    assert canonical(replayed.board.to_dict(tombstones=True)) == canonical(
        original.board.to_dict(tombstones=True)
    )
    for action in replay_actions:
        if isinstance(action, StoreSnapshot):
            assert action.body["hash"] == stored[action.body["id"]]["hash"]


def _scrub_bytes(entry: Committed, digest: str) -> bytes:
    import orjson

    return orjson.dumps(scrub(orjson.loads(entry.to_bytes()), digest, ANONYMISED))


@st.composite
def silent_sessions(draw: st.DrawFn) -> list[Committed]:
    """Silent writing and votes switched on and off, notes written (silent or not),
    ballots cast, reveals: what makes one person's view of the board differ from another's."""
    op = st.one_of(
        st.builds(lambda c, i: (c, {"kind": "note.add", "id": i, "text": "constat",
                                    "column": "c1"}),
                  st.sampled_from(["pa", "pb", "fa"]), st.sampled_from(["n1", "n2", "n3", "n4"])),
        st.builds(lambda c, col: (c, {"kind": "vote.add", "column": col}),
                  st.sampled_from(["pa", "pb"]), st.sampled_from(["c1", "c2"])),
        st.builds(lambda on: ("fa", {"kind": "tools.set", "silent": on}), st.booleans()),
        st.builds(lambda on: ("fa", {"kind": "tools.set", "voting": on}), st.booleans()),
        st.sampled_from([("fa", {"kind": "notes.reveal"}), ("fa", {"kind": "votes.reveal"})]),
    )  # fmt: skip
    start = [("fa", {"kind": "column.add", "id": c, "title": "Axe"}) for c in ("c1", "c2")]
    body = draw(st.lists(op, max_size=25))
    return [committed(seq, c, o) for seq, (c, o) in enumerate(start + body, 1)]


@settings(max_examples=150, deadline=None)
@given(silent_sessions(), st.lists(st.integers(0, 30), max_size=4))
def test_each_late_joiner_is_shown_the_board_as_it_may_see_it(
    log: list[Committed], join_points: list[int]
) -> None:
    """The view a welcome carries is shared between joiners of one seq (built once), yet
    always equals the board built for that joiner alone: their silent notes, their votes."""
    replica = RoomReplica("w")
    replica.load(None, [])
    viewers = [("pa", "participant"), ("pb", "participant"), ("fa", "facilitator"),
               ("ob", "observer")]  # fmt: skip
    for seq, entry in enumerate(log, 1):
        replica.receive(entry)
        for round_ in range(join_points.count(seq) + (seq == len(log))):
            for client, role in viewers:
                sid = f"{client}-{seq}-{round_}"
                actions = replica.join(PeerInfo(sid, client, role, client), None)
                welcome = next(a.message for a in actions if isinstance(a, Send)
                               and a.message["type"] == "welcome")  # fmt: skip
                expected = replica.board.to_dict(viewer=Viewer(role, client))
                assert welcome["state"] == expected
                replica.leave(sid)
            # what an HTTP reader is shown: what anyone may see
            assert replica.public_view() == replica.board.to_dict()
