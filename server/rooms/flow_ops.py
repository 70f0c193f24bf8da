"""The reducer's part for the workshop's flow: votes and their rounds, phases and
snapshots, the tools, the reveals, the countdown, the freeze and erasing a pseudonym.

Pure, like the reducer it serves (``reducer.apply`` has already checked the sender's
role and the freeze). Some events are private (a vote goes to its voter only); the
reveals make silent notes and vote counts public.
"""

from typing import Any, cast

from .context import Applied, Context, Event
from .errors import RoomError
from .lookup import live_column
from .model import ANONYMOUS, PHASES, Board, board_order, content_hash, name_digest
from .ops import (
    Focus,
    Op,
    ParticipantErase,
    SnapshotTake,
    TimerStart,
    ToolsSet,
    Vote,
    VoteRound,
)
from .views import note_event

__all__ = ["ANONYMISED", "FLOW_KINDS", "apply_flow", "snapshot_id"]

#: What an erased pseudonym becomes.
ANONYMISED = "Participant·e anonyme"

#: The op kinds this module applies.
FLOW_KINDS = frozenset(
    {"vote.add", "vote.remove", "vote.round", "phase.next", "snapshot.take", "tools.set",
     "reveal", "notes.reveal", "votes.reveal", "timer.start", "timer.stop", "focus",
     "freeze", "participant.erase"}
)  # fmt: skip


def snapshot_id(seq: int) -> str:
    """The id of the snapshot an op committed at ``seq`` takes."""
    return f"s{seq}"


def apply_flow(board: Board, op: Op, ctx: Context) -> Applied:
    """Apply one of :data:`FLOW_KINDS` to ``board``; return who sees which event."""
    kind = op["kind"]
    if kind in ("vote.add", "vote.remove"):
        return _vote(board, cast(Vote, op), ctx)
    if kind == "phase.next":
        return Applied(_phase_next(board, ctx))
    if kind == "snapshot.take":
        label = cast(SnapshotTake, op)["label"]
        return Applied({"kind": kind, "snapshot": snapshot_id(ctx.seq), "label": label})
    if kind == "tools.set":
        return Applied(_tools_set(board, cast(ToolsSet, op)))
    if kind == "reveal":
        return Applied({"kind": "reveal", **_reveal(board)})
    if kind == "notes.reveal":
        notes = _show_silent(board)
        return Applied({"kind": kind, "notes": notes, "silent_waiting": 0})
    if kind == "votes.reveal":
        return Applied({"kind": kind, **_reveal_votes(board)})
    if kind == "vote.round":
        return Applied(_vote_round(board, cast(VoteRound, op)))
    if kind == "timer.start":
        board.timer = ctx.at + 1000 * cast(TimerStart, op)["seconds"]
        return Applied({"kind": kind, "ends_at": board.timer})
    if kind == "timer.stop":
        board.timer = None
        return Applied({"kind": kind})
    if kind == "focus":
        column = cast(Focus, op)["column"]
        board.focus = None if column is None else live_column(board, column).id
        return Applied({"kind": kind, "column": board.focus})
    if kind == "freeze":
        return Applied(_freeze(board, ctx))
    if kind == "participant.erase":
        return _erase(board, cast(ParticipantErase, op))
    raise AssertionError(f"unhandled flow op kind {kind!r}")  # FLOW_KINDS names no other


def _vote(board: Board, op: Vote, ctx: Context) -> Applied:
    if not board.tools.voting:
        raise RoomError("voting_closed", "Voting is not open.")
    column = live_column(board, op["column"])
    ballot = board.votes.setdefault(ctx.client, {})
    if op["kind"] == "vote.add":
        if sum(ballot.values()) >= board.tools.budget:
            raise RoomError("no_votes_left", "You have used all your votes.")
        ballot[column.id] = ballot.get(column.id, 0) + 1
    else:
        if ballot.get(column.id, 0) <= 0:
            raise RoomError("no_vote", "You have no vote on this orientation.")
        ballot[column.id] -= 1
        if not ballot[column.id]:
            del ballot[column.id]
    mine = dict(sorted(ballot.items()))
    left = max(0, board.tools.budget - sum(mine.values()))  # the budget may have shrunk
    # a vote stays the voter's secret until the reveal: only their client hears of it
    event = {"kind": op["kind"], "column": column.id, "mine": mine, "left": left}
    return Applied(None, {ctx.client: event})


def _phase_next(board: Board, ctx: Context) -> Event:
    if board.phase >= len(PHASES):
        raise RoomError("last_phase", "This is the last phase.")
    closed = board.phase
    board.phase += 1
    return {"kind": "phase.next", "phase": board.phase, "snapshot": snapshot_id(ctx.seq),
            "label": PHASES[closed - 1]}  # fmt: skip


def _tools_set(board: Board, op: ToolsSet) -> Event:
    tools = board.tools
    shown: list[Event] = []
    if "silent" in op:
        if not op["silent"]:  # silent writing is over: what it hid is shown
            shown = _show_silent(board)
        tools.silent = op["silent"]
    if "budget" in op:
        tools.budget = op["budget"]
    if "voting" in op:
        if op["voting"] and not tools.voting:
            # reopening continues the round, its ballots kept; its counts hide again
            # while votes can still change (a new round is vote.round)
            tools.revealed = False
        tools.voting = op["voting"]
    if "shaping" in op:
        tools.shaping = op["shaping"]
    return {"kind": "tools.set", "tools": _tools(board), "notes": shown,
            "silent_waiting": board.silent_waiting()}  # fmt: skip


def _tools(board: Board) -> dict[str, Any]:
    t = board.tools
    return {"silent": t.silent, "voting": t.voting, "budget": t.budget, "revealed": t.revealed,
            "shaping": t.shaping}  # fmt: skip


def _vote_round(board: Board, op: VoteRound) -> Event:
    """A fresh round: every ballot cleared, counts hidden, the vote open."""
    board.votes.clear()
    board.tools.revealed = False
    board.tools.voting = True
    if "budget" in op:
        board.tools.budget = op["budget"]
    return {"kind": "vote.round", "tools": _tools(board)}


def _show_silent(board: Board) -> list[Event]:
    """Make every silent note public; their ``note.add`` events, in board order."""
    hidden = [n for n in board.notes.values() if n.private_to is not None]
    for note in hidden:
        board.publish_note(note)
    shown = sorted((n for n in hidden if not n.deleted), key=board_order)
    return [note_event("note.add", n) for n in shown]


def _reveal_votes(board: Board) -> dict[str, Any]:
    """Close the vote and make its counts public."""
    board.tools.voting = False
    board.tools.revealed = True
    return {"counts": board.vote_counts(), "tools": _tools(board)}


def _reveal(board: Board) -> dict[str, Any]:
    """Both reveals at once: every silent note, then the vote counts."""
    notes = _show_silent(board)
    return {"notes": notes, **_reveal_votes(board), "silent_waiting": 0}


def _freeze(board: Board, ctx: Context) -> Event:
    revealed = _reveal(board)  # the record is public: nothing stays hidden
    board.frozen = {"seq": ctx.seq, "at": ctx.at, "by": ctx.author}
    board.timer = None
    digest = content_hash(board.to_dict(viewer=ANONYMOUS))
    return {"kind": "freeze", **board.frozen, "hash": digest, **revealed}


def _erase(board: Board, op: ParticipantErase) -> Applied:
    digest = op["digest"]
    for note in board.notes.values():
        if name_digest(note.author) == digest:
            note.author = ANONYMISED
    for idea in board.ideas.values():
        if name_digest(idea.author) == digest:
            idea.author = ANONYMISED
    # the storage scrub rewrites every name field (records.NAME_FIELDS): the members'
    # names and who raised an objection too, so this replica must forget them alike
    for member in board.members.values():
        if name_digest(member.name) == digest:
            member.name = ANONYMISED
    for objection in board.objections.values():
        if objection.by and name_digest(objection.by) == digest:
            objection.by = ANONYMISED
    board.erased.add(digest)
    # The event lists every note and idea signed anonymously now, not only those this
    # erase re-signed: it is then the same when a scrubbed log is replayed. A silent
    # note is listed for its author only.
    signed = sorted(
        (n for n in board.notes.values() if n.author == ANONYMISED and not n.deleted),
        key=lambda n: n.id,
    )
    ideas = sorted(i.id for i in board.ideas.values() if i.author == ANONYMISED and not i.deleted)
    members = sorted(m.id for m in board.members.values() if m.name == ANONYMISED)
    objections = sorted(o.id for o in board.objections.values() if o.by == ANONYMISED)

    def event(owner: str | None) -> Event:
        notes = [n.id for n in signed if n.private_to in (None, owner)]
        return {"kind": "participant.erase", "replacement": ANONYMISED, "notes": notes,
                "ideas": ideas, "members": members, "objections": objections}  # fmt: skip

    owners = sorted({n.private_to for n in signed if n.private_to is not None})
    return Applied(event(None), {owner: event(owner) for owner in owners})
