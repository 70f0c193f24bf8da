"""Checks on the ops of the instance de co-décision and of what the record keeps:
collèges, members, objections, decisions, documents fed, the cap, the answers to the
method's points of vigilance, the place and date of the session.

Each parser fills ``op`` from ``data`` (a received JSON object) or raises
:class:`ProtocolError`; :mod:`atelier.op_parse` dispatches to them by kind.
"""

import datetime
import re
import zoneinfo
from collections.abc import Callable
from typing import Any

from .op_fields import (
    ProtocolError,
    identifier,
    label,
    optional_identifier,
    optional_text,
    text,
    whole_number,
)
from .rooms.council import DOCUMENTS, METHODS, OUTCOMES
from .rooms.model import VIGILANCE_POINTS
from .rooms.ops import (
    MAX_COLLEGE_LABEL,
    MAX_COLLEGES,
    MAX_DOCUMENT_NAME,
    MAX_OTHER_DOCUMENTS,
    MAX_PERSON,
    MAX_PLACE,
    MAX_STATEMENT,
    MAX_TALLY,
)

__all__ = ["COUNCIL_PARSERS", "valid_timezone"]

#: What a time zone's name looks like before the zone database is asked about it.
_ZONE_NAME = re.compile(r"[A-Za-z_]{1,30}(/[A-Za-z0-9_+-]{1,30}){0,2}|UTC")


def valid_timezone(name: str) -> bool:
    """Whether ``name`` is a time zone the zone database knows (Europe/Paris...)."""
    if not _ZONE_NAME.fullmatch(name):
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _documents(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op["id"] = identifier(data, "id")
    codes = data.get("documents", [])
    if not isinstance(codes, list) or any(
        not isinstance(c, str) or c not in DOCUMENTS for c in codes
    ):
        raise ProtocolError(
            "bad_field", f"'documents' must be a list drawn from {', '.join(DOCUMENTS)}."
        )
    op["documents"] = [c for c in DOCUMENTS if c in codes]  # one order, no repeats
    others = data.get("others", [])
    if not isinstance(others, list) or len(others) > MAX_OTHER_DOCUMENTS:
        raise ProtocolError(
            "bad_field", f"'others' must be a list of at most {MAX_OTHER_DOCUMENTS} names."
        )
    names: list[str] = []
    for i in range(len(others)):
        name = label({"others": others[i]}, "others", MAX_DOCUMENT_NAME)
        if name not in names:
            names.append(name)
    op["others"] = names


def _cap(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op["text"] = text(data, "text", MAX_STATEMENT).strip()


def _colleges(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    colleges = data.get("colleges")
    if not isinstance(colleges, list) or not 1 <= len(colleges) <= MAX_COLLEGES:
        raise ProtocolError(
            "bad_field", f"'colleges' must be a list of 1 to {MAX_COLLEGES} collèges."
        )
    seen: list[dict[str, str]] = []
    for college in colleges:
        if not isinstance(college, dict):
            raise ProtocolError("bad_field", "Each collège must be {id, label}.")
        entry = {"id": identifier(college, "id"), "label": label(college, "label",
                                                                 MAX_COLLEGE_LABEL)}  # fmt: skip
        if any(c["id"] == entry["id"] for c in seen):
            raise ProtocolError("bad_field", f"The collège {entry['id']!r} is listed twice.")
        seen.append(entry)
    op["colleges"] = seen


def _member_set(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op.update(id=identifier(data, "id"), name=label(data, "name", MAX_PERSON),
              college=identifier(data, "college"))  # fmt: skip


def _by_id(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op["id"] = identifier(data, "id")


def _objection_add(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op.update(id=identifier(data, "id"), column=identifier(data, "column"),
              text=label(data, "text", MAX_STATEMENT),
              by=optional_text(data, "by", MAX_PERSON))  # fmt: skip


def _objection_answer(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op.update(id=identifier(data, "id"), answer=text(data, "answer", MAX_STATEMENT).strip())


def _decision(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op["column"] = identifier(data, "column")
    if "decision" not in data:
        raise ProtocolError("missing_field", "'decision' is missing (null takes it back).")
    wanted = data["decision"]
    if wanted is None:
        op["decision"] = None
        return
    if not isinstance(wanted, dict):
        raise ProtocolError("bad_field", "'decision' must be an object or null.")
    outcome, method = wanted.get("outcome"), wanted.get("method")
    if not isinstance(outcome, str) or outcome not in OUTCOMES:
        raise ProtocolError("bad_field", f"'outcome' must be one of {', '.join(OUTCOMES)}.")
    if not isinstance(method, str) or method not in METHODS:
        raise ProtocolError("bad_field", f"'method' must be one of {', '.join(METHODS)}.")
    tally = wanted.get("tally") or []
    if tally and method != "vote":
        raise ProtocolError("bad_field", "Only a decision by vote has a 'tally'.")
    if not isinstance(tally, list) or len(tally) > MAX_COLLEGES + 1:
        raise ProtocolError("bad_field", f"'tally' must list at most {MAX_COLLEGES + 1} lines.")
    lines: list[dict[str, Any]] = []
    for line in tally:
        if not isinstance(line, dict):
            raise ProtocolError("bad_field", "Each tally line is {college, for, against, abstain}.")
        entry: dict[str, Any] = {"college": optional_identifier(line, "college")}
        for key in ("for", "against", "abstain"):
            entry[key] = whole_number(line, key, 0, MAX_TALLY)
        if any(seen["college"] == entry["college"] for seen in lines):
            raise ProtocolError("bad_field", "A collège has two tally lines.")
        lines.append(entry)
    op["decision"] = {"outcome": outcome, "method": method,
                      "amendment": optional_text(wanted, "amendment", MAX_STATEMENT),
                      "tally": lines}  # fmt: skip


def _answer(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    point = data.get("point")
    if not isinstance(point, str) or point not in VIGILANCE_POINTS:
        raise ProtocolError("bad_field", f"'point' must be one of {', '.join(VIGILANCE_POINTS)}.")
    op.update(point=point, text=text(data, "text", MAX_STATEMENT).strip())


def _meeting(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    if "place" in data:
        op["place"] = optional_text(data, "place", MAX_PLACE)
    if "date" in data:
        day = optional_text(data, "date", 10)
        if day:
            try:
                datetime.date.fromisoformat(day)
            except ValueError:
                raise ProtocolError("bad_field", "'date' must be a day, YYYY-MM-DD.") from None
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
                raise ProtocolError("bad_field", "'date' must be a day, YYYY-MM-DD.")
        op["date"] = day
    if "timezone" in data:
        zone = data["timezone"]
        if not isinstance(zone, str) or not valid_timezone(zone):
            raise ProtocolError("bad_field", "'timezone' must be a time zone like Europe/Paris.")
        op["timezone"] = zone
    if len(op) == 1:
        raise ProtocolError("missing_field", "meeting.set needs 'place', 'date' or 'timezone'.")


COUNCIL_PARSERS: dict[str, Callable[[dict[str, Any], dict[str, Any], int], None]] = {
    "column.documents": _documents,
    "cap.set": _cap,
    "colleges.set": _colleges,
    "member.set": _member_set,
    "member.remove": _by_id,
    "objection.add": _objection_add,
    "objection.answer": _objection_answer,
    "objection.delete": _by_id,
    "decision.set": _decision,
    "vigilance.answer": _answer,
    "meeting.set": _meeting,
}
