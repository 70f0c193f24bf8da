"""The official record of a frozen board, and the snapshot bodies a replica stores.

Pure: the same board gives the same bytes on every replica, so whichever process
stores a snapshot or the record first, the others find an equal one already there.
The record is what a council annexes to its deliberation: the instance's members by
collège, « le cap du territoire », each orientation with its decision, the debate
(objections and answers), its grounds, the documents it feeds and its votes, the action
ideas parked for phase 5, and the method's points of vigilance with the answers given.
"""

from typing import Any

from .council import local_time
from .items import Idea, Note
from .model import AMBITIONS, ANONYMOUS, PHASES, Board, content_hash
from .views import college_view, objection_view
from .vigilance import check, open_items

__all__ = ["RECORD_ID", "finding_entry", "official_record", "record_body", "snapshot_body"]

#: The id under which the official record is stored with the snapshots.
RECORD_ID = "record"


def snapshot_body(
    board: Board, snapshot_id: str, *, phase: int, label: str, at: int, by: str
) -> dict[str, Any]:
    """An immutable snapshot of ``board`` as it is now (full form, private parts included)."""
    state = board.to_dict(tombstones=True)
    return {
        "id": snapshot_id,
        "seq": board.seq,
        "phase": phase,
        "label": label,
        "at": at,
        "by": by,
        "hash": content_hash(state),
        "state": state,
    }


def record_body(board: Board) -> dict[str, Any]:
    """The official record of a frozen board, stored with the snapshots as ``record``."""
    assert board.frozen is not None, "only a frozen board has an official record"
    state = board.to_dict(viewer=ANONYMOUS)
    return {
        "id": RECORD_ID,
        "seq": board.frozen["seq"],
        "phase": board.phase,
        "label": "Relevé officiel",
        "at": board.frozen["at"],
        "by": board.frozen["by"],
        "hash": content_hash(state),
        "state": state,
        "record": official_record(board),
    }


def official_record(board: Board) -> dict[str, Any]:
    """The official record: the session, the instance, the cap, the orientations in order
    with all they carry, the ideas for phase 5 and the points of vigilance.

    Dates are read in the workshop's time zone. ``devices`` counts the distinct
    participant devices (client ids) whose ops changed the board; the people are the
    ``members`` the facilitator recorded.
    """
    frozen = board.frozen or {}
    counts = board.vote_counts()
    frozen_at = local_time(int(frozen.get("at", 0)), board.meeting.timezone)
    checks = check(board)
    return {
        "meeting": board.meeting.to_dict(),
        "date": board.meeting.date or frozen_at.date().isoformat(),
        "frozen_at": frozen_at.isoformat(timespec="seconds"),
        "colleges": [college_view(c) for c in board.colleges],
        "members": _members(board),
        "cap": board.cap,
        "orientations": [_orientation(board, column.id, counts) for column in board.live_columns()],
        "unsorted": [finding_entry(n) for n in board.live_notes(None) if n.private_to is None],
        "ideas": [_idea(i) for i in _ideas(board, None)],  # parked under no orientation yet
        "vigilance": checks,
        "open": open_items(checks),
        "votes": counts,
        "facilitator": frozen.get("by", ""),
        "devices": len(board.contributors),
        "phase": {"number": board.phase, "label": PHASES[board.phase - 1]},
        "hash": content_hash(board.to_dict(viewer=ANONYMOUS)),
    }


def finding_entry(note: Note) -> dict[str, Any]:
    """A finding as the record lists it, every field present ('' when the diagnostic
    gave none), so that re-users find the same keys on every finding."""
    return {"id": note.id, "text": note.text, "author": note.author,
            "ambitions": list(note.ambitions), "type": note.type, "theme": note.theme,
            "source": note.source, "indicator": note.indicator,
            "imported": note.imported}  # fmt: skip


def _orientation(board: Board, column_id: str, counts: dict[str, int]) -> dict[str, Any]:
    column = board.columns[column_id]
    findings = [n for n in board.live_notes(column.id) if n.private_to is None]
    served = {a for n in findings for a in n.ambitions}
    return {
        "id": column.id,
        "title": column.title,
        "statement": column.statement,
        "decision": None if column.decision is None else column.decision.to_dict(),
        "objections": [
            objection_view(o) for o in board.objections.values() if o.column == column.id
        ],
        "findings": [finding_entry(n) for n in findings],
        "ambitions": [a for a in AMBITIONS if a in served],
        "documents": list(column.documents),
        "others": list(column.others),
        "votes": counts.get(column.id, 0),
        "ideas": [_idea(i) for i in _ideas(board, column.id)],
    }


def _members(board: Board) -> list[dict[str, Any]]:
    """The members present, by collège in the collèges' order."""
    by_college = []
    for college in board.colleges:
        names = [m.name for m in board.members.values() if m.college == college.id]
        if names:
            by_college.append({"college": college.id, "label": college.label, "names": names})
    return by_college


def _ideas(board: Board, column: str | None) -> list[Idea]:
    found = [i for i in board.ideas.values() if i.column == column and not i.deleted]
    return sorted(found, key=lambda i: i.id)


def _idea(idea: Idea) -> dict[str, Any]:
    return {"id": idea.id, "text": idea.text, "author": idea.author, "imported": idea.imported}
