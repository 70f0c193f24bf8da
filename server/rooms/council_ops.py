"""The reducer's part for the instance de co-décision and what the record keeps: the
collèges and members, objections and decisions, the documents each orientation feeds,
« le cap du territoire », the answers to the method's points of vigilance, the place
and date of the session.

Pure, like the reducer it serves (``reducer.apply`` has already checked the sender's
role and the freeze): each op is checked against the board, then applied, and its
resolved event returned; an op that does not fit raises :class:`RoomError`.
"""

from collections.abc import Callable
from typing import Any

from .council import College, Decision, Meeting, Member, Objection
from .errors import RoomError
from .lookup import live_column, open_column
from .model import Board
from .ops import (
    MAX_MEMBERS,
    MAX_OBJECTIONS,
    CapSet,
    CollegesSet,
    ColumnDocuments,
    DecisionSet,
    MeetingSet,
    MemberRemove,
    MemberSet,
    ObjectionAdd,
    ObjectionAnswer,
    ObjectionDelete,
    Op,
    VigilanceAnswer,
)
from .views import college_view, objection_view

__all__ = ["COUNCIL_KINDS", "apply_council"]

Event = dict[str, Any]


def apply_council(board: Board, op: Op) -> Event:
    """Apply one of :data:`COUNCIL_KINDS` to ``board``; return its event (for everyone)."""
    return _HANDLERS[op["kind"]](board, op)


def _documents(board: Board, op: ColumnDocuments) -> Event:
    # what an orientation feeds is part of what it says: a lock guards it too
    column = open_column(board, op["id"])
    column.documents, column.others = list(op["documents"]), list(op["others"])
    return {"kind": "column.documents", "id": column.id, "documents": column.documents,
            "others": column.others}  # fmt: skip


def _cap(board: Board, op: CapSet) -> Event:
    board.cap = op["text"]
    return {"kind": "cap.set", "text": board.cap}


def _colleges(board: Board, op: CollegesSet) -> Event:
    wanted = [College(c["id"], c["label"]) for c in op["colleges"]]
    kept = {c.id for c in wanted}
    used = {m.college for m in board.members.values()}
    for column in board.columns.values():
        if column.decision is not None:
            used |= {line.college for line in column.decision.tally if line.college}
    gone = sorted(used - kept)
    if gone:
        raise RoomError(
            "college_in_use",
            f"The collège {gone[0]!r} has members or votes: move or remove them first.",
        )
    board.colleges = wanted
    return {"kind": "colleges.set", "colleges": [college_view(c) for c in wanted]}


def _member_set(board: Board, op: MemberSet) -> Event:
    _require_college(board, op["college"])
    if op["id"] not in board.members and len(board.members) >= MAX_MEMBERS:
        raise RoomError("too_many_members", f"This board already lists {MAX_MEMBERS} members.")
    member = board.members.get(op["id"])
    if member is None:
        board.members[op["id"]] = member = Member(op["id"], op["name"], op["college"])
    else:  # a correction keeps the member's place in the list
        member.name, member.college = op["name"], op["college"]
    return {"kind": "member.set", "id": member.id, "name": member.name,
            "college": member.college}  # fmt: skip


def _member_remove(board: Board, op: MemberRemove) -> Event:
    if board.members.pop(op["id"], None) is None:
        raise RoomError("unknown_member", f"There is no member {op['id']!r} on this board.")
    return {"kind": "member.remove", "id": op["id"]}


def _objection_add(board: Board, op: ObjectionAdd) -> Event:
    if op["id"] in board.objections:
        raise RoomError("id_taken", f"An objection with id {op['id']!r} already exists.")
    if len(board.objections) >= MAX_OBJECTIONS:
        raise RoomError(
            "too_many_objections", f"This board already holds {MAX_OBJECTIONS} objections."
        )
    # the debate goes on once an orientation is locked: a lock guards its content only
    column = live_column(board, op["column"])
    objection = Objection(op["id"], column.id, op["text"], op["by"])
    board.objections[objection.id] = objection
    return {"kind": "objection.add", "column": column.id, **objection_view(objection)}


def _objection_answer(board: Board, op: ObjectionAnswer) -> Event:
    objection = _objection(board, op["id"])
    objection.answer = op["answer"]
    return {"kind": "objection.answer", "id": objection.id, "answer": objection.answer}


def _objection_delete(board: Board, op: ObjectionDelete) -> Event:
    del board.objections[_objection(board, op["id"]).id]
    return {"kind": "objection.delete", "id": op["id"]}


def _decision(board: Board, op: DecisionSet) -> Event:
    column = live_column(board, op["column"])
    wanted = op["decision"]
    decision = None if wanted is None else Decision.from_dict(wanted)
    for line in decision.tally if decision is not None else ():
        if line.college is not None:
            _require_college(board, line.college)
    column.decision = decision
    return {"kind": "decision.set", "column": column.id,
            "decision": None if decision is None else decision.to_dict()}  # fmt: skip


def _answer(board: Board, op: VigilanceAnswer) -> Event:
    if op["text"]:
        board.answers[op["point"]] = op["text"]
    else:
        board.answers.pop(op["point"], None)
    return {"kind": "vigilance.answer", "point": op["point"], "text": op["text"]}


def _meeting(board: Board, op: MeetingSet) -> Event:
    old = board.meeting
    board.meeting = Meeting(op.get("place", old.place), op.get("date", old.date),
                            op.get("timezone", old.timezone))  # fmt: skip
    return {"kind": "meeting.set", "meeting": board.meeting.to_dict()}


def _require_college(board: Board, college_id: str) -> None:
    if college_id not in {c.id for c in board.colleges}:
        raise RoomError("unknown_college", f"There is no collège {college_id!r} on this board.")


def _objection(board: Board, objection_id: str) -> Objection:
    objection = board.objections.get(objection_id)
    column = None if objection is None else board.columns.get(objection.column)
    if objection is None or column is None or column.deleted:
        raise RoomError("unknown_objection", f"There is no objection {objection_id!r}.")
    return objection


_HANDLERS: dict[str, Callable[[Board, Any], Event]] = {
    "column.documents": _documents,
    "cap.set": _cap,
    "colleges.set": _colleges,
    "member.set": _member_set,
    "member.remove": _member_remove,
    "objection.add": _objection_add,
    "objection.answer": _objection_answer,
    "objection.delete": _objection_delete,
    "decision.set": _decision,
    "vigilance.answer": _answer,
    "meeting.set": _meeting,
}

#: The op kinds this module applies.
COUNCIL_KINDS = frozenset(_HANDLERS)
