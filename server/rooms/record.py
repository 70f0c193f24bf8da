"""The official record of a frozen board, and the snapshot bodies a replica stores.

Pure: the same board gives the same bytes on every replica, so whichever process
stores a snapshot or the record first, the others find an equal one already there.
"""

from datetime import UTC, datetime
from typing import Any

from .model import AMBITIONS, ANONYMOUS, PHASES, Board, content_hash
from .vigilance import check

__all__ = ["RECORD_ID", "official_record", "record_body", "snapshot_body"]

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
    """The official orientations: in order, with their grounds, ambitions, votes and checks.

    ``participants`` counts the distinct participant devices (client ids) whose ops
    changed the board; the facilitator is named apart, observers never count.
    """
    frozen = board.frozen or {}
    counts = board.vote_counts()
    orientations = []
    for column in board.live_columns():
        findings = [n for n in board.live_notes(column.id) if n.private_to is None]
        served = {a for n in findings for a in n.ambitions}
        ideas = sorted(
            (i for i in board.ideas.values() if i.column == column.id and not i.deleted),
            key=lambda i: i.id,
        )
        orientations.append(
            {
                "id": column.id,
                "title": column.title,
                "statement": column.statement,
                "findings": [
                    {"id": n.id, "text": n.text, "author": n.author, "ambitions": n.ambitions}
                    for n in findings
                ],
                "ambitions": [a for a in AMBITIONS if a in served],
                "votes": counts.get(column.id, 0),
                "ideas": [{"id": i.id, "text": i.text, "author": i.author} for i in ideas],
            }
        )
    at = int(frozen.get("at", 0))
    return {
        "orientations": orientations,
        "unsorted": [
            {"id": n.id, "text": n.text, "author": n.author, "ambitions": n.ambitions}
            for n in board.live_notes(None)
            if n.private_to is None
        ],
        "vigilance": check(board),
        "votes": counts,
        "date": datetime.fromtimestamp(at / 1000, UTC).isoformat(timespec="seconds"),
        "facilitator": frozen.get("by", ""),
        "participants": len(board.contributors),
        "phase": {"number": board.phase, "label": PHASES[board.phase - 1]},
        "hash": content_hash(board.to_dict(viewer=ANONYMOUS)),
    }
