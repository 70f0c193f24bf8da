"""Validate one op (the ``op`` of a client frame, or an op an import builds) against its kind.

Every field is checked against its shape and its limit; unknown fields are dropped.
What passes is a typed op of ``rooms/ops.py`` that the reducer only has to check
against the board. The same checks serve a socket's ops and an import's, so a file
can hold nothing a browser could not have typed.
"""

import re
from collections.abc import Callable
from typing import Any

from fractional_indexing import FIError, validate_order_key

from .op_council import COUNCIL_PARSERS
from .op_fields import (
    ProtocolError,
    boolean,
    identifier,
    label,
    optional_identifier,
    optional_text,
    text,
    whole_number,
)
from .records import name_digest
from .rooms.council import NOTE_TYPES
from .rooms.items import FINDING_FIELDS
from .rooms.model import AMBITIONS, COLOURS
from .rooms.ops import (
    MAX_BUDGET,
    MAX_COLUMN_TITLE,
    MAX_LABEL,
    MAX_NAME,
    MAX_NOTE_TEXT,
    MAX_SOURCE,
    MAX_STATEMENT,
    MAX_THEME,
    MAX_TIMER,
    Op,
)

__all__ = ["MAX_INDEX", "OP_KINDS", "parse_op"]

MAX_INDEX = 100_000
#: A position key as the reducer makes them (fractional indexing, base 62).
_POS = re.compile(r"[0-9A-Za-z]{2,80}")

_Parser = Callable[[dict[str, Any], dict[str, Any], int], None]


def parse_op(data: dict[str, Any], *, max_text: int = MAX_NOTE_TEXT, imported: bool = False) -> Op:
    """The op ``data`` describes, checked field by field, or :class:`ProtocolError`.

    ``max_text`` is the longest note text accepted (the process's configured limit).
    ``imported``: the op comes from an import, which may also keep a note's or a
    column's position (``pos``) to rebuild a board as it was exported, and mark a note or
    an idea as ``imported`` (from a file, never a pseudonym); a browser may do neither.
    """
    kind = data.get("kind")
    if not isinstance(kind, str):  # before any lookup: a list is unhashable
        raise ProtocolError("unknown_op", "'kind' must be one of the op kinds.")
    parser = _PARSERS.get(kind)
    if parser is None:
        raise ProtocolError("unknown_op", f"Unknown op kind {kind[:40]!r}.")
    op: dict[str, Any] = {"kind": kind}
    parser(data, op, max_text)
    if imported and kind in ("note.add", "column.add") and data.get("pos") is not None:
        op["pos"] = _position(data)
    if imported and kind in ("note.add", "idea.add") and data.get("imported") is not None:
        op["imported"] = boolean(data, "imported")
    return op  # type: ignore[return-value]


# -- notes and columns ------------------------------------------------------------------


def _note_text(data: dict[str, Any], max_text: int) -> str:
    """A finding's text as typed (lines kept), refused when there is nothing in it."""
    value = text(data, "text", max_text)
    if not value.strip():
        raise ProtocolError("bad_field", "'text' must not be blank.")
    return value


def _note_add(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op.update(id=identifier(data, "id"), text=_note_text(data, max_text))
    _note_style(data, op)
    if "column" in data:
        op["column"] = optional_identifier(data, "column")
    _optional_index(data, op)
    _finding(data, op)
    for key in [k for k in FINDING_FIELDS if op.get(k) == ""]:
        del op[key]  # nothing to say: the note has none


def _note_edit(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op["id"] = identifier(data, "id")
    if "text" in data:
        op["text"] = _note_text(data, max_text)
    _note_style(data, op)
    _finding(data, op)
    if len(op) == 2:
        raise ProtocolError(
            "missing_field",
            "note.edit needs 'text', 'colour', 'ambitions', 'type', 'theme', 'source' or "
            "'indicator'.",
        )


def _note_move(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op["id"] = identifier(data, "id")
    if "column" not in data:
        raise ProtocolError("missing_field", "note.move needs 'column' (null for the pool).")
    op["column"] = optional_identifier(data, "column")
    _optional_index(data, op)


def _by_id(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op["id"] = identifier(data, "id")


def _column_title(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op.update(id=identifier(data, "id"), title=label(data, "title", MAX_COLUMN_TITLE))
    if op["kind"] == "column.add":
        _optional_index(data, op)


def _column_move(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op.update(id=identifier(data, "id"), index=whole_number(data, "index", 0, MAX_INDEX))


def _column_state(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op.update(id=identifier(data, "id"), statement=text(data, "statement", MAX_STATEMENT).strip())


def _idea_add(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    # no orientation yet (null): the idea waits for one, parked for phase 5 all the same
    op.update(id=identifier(data, "id"), column=optional_identifier(data, "column"))
    op["text"] = label(data, "text", MAX_NOTE_TEXT)


def _idea_move(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op["id"] = identifier(data, "id")
    if "column" not in data:
        raise ProtocolError("missing_field", "idea.move needs 'column' (null for none).")
    op["column"] = optional_identifier(data, "column")


# -- the flow: votes, phases, tools ------------------------------------------------------


def _vote(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op["column"] = identifier(data, "column")


def _focus(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    if "column" not in data:
        raise ProtocolError("missing_field", "focus needs 'column' (null for the whole board).")
    op["column"] = optional_identifier(data, "column")


def _bare(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    """An op with no field besides its kind."""


def _snapshot_take(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op["label"] = label(data, "label", MAX_LABEL)


def _tools_set(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    for key in ("silent", "voting", "shaping"):
        if key in data:
            op[key] = boolean(data, key)
    if "budget" in data:
        op["budget"] = whole_number(data, "budget", 1, MAX_BUDGET)
    if len(op) == 1:
        raise ProtocolError(
            "missing_field", "tools.set needs 'silent', 'voting', 'shaping' or 'budget'."
        )


def _vote_round(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    if data.get("budget") is not None:
        op["budget"] = whole_number(data, "budget", 1, MAX_BUDGET)


def _timer_start(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    op["seconds"] = whole_number(data, "seconds", 1, MAX_TIMER)


def _participant_erase(data: dict[str, Any], op: dict[str, Any], max_text: int) -> None:
    # the log keeps no name, only its digest (see ops.ParticipantErase)
    op["digest"] = name_digest(label(data, "name", MAX_NAME))


# -- shared parts -----------------------------------------------------------------------


def _note_style(data: dict[str, Any], into: dict[str, Any]) -> None:
    if "colour" in data:
        colour = data["colour"]
        if not isinstance(colour, str) or colour not in COLOURS:
            raise ProtocolError("bad_field", f"'colour' must be one of {', '.join(COLOURS)}.")
        into["colour"] = colour
    if "ambitions" in data:
        tags = data["ambitions"]
        if not isinstance(tags, list) or any(
            not isinstance(t, str) or t not in AMBITIONS for t in tags
        ):
            raise ProtocolError(
                "bad_field", f"'ambitions' must be a list drawn from {', '.join(AMBITIONS)}."
            )
        into["ambitions"] = [a for a in AMBITIONS if a in tags]  # one order, no repeats


_FINDING_LIMITS = {"theme": MAX_THEME, "source": MAX_SOURCE, "indicator": MAX_SOURCE}


def _finding(data: dict[str, Any], into: dict[str, Any]) -> None:
    """A finding's type, theme, source and indicator, when sent ('' or null clears)."""
    if "type" in data:
        kind = data["type"] or ""
        if kind and (not isinstance(kind, str) or kind not in NOTE_TYPES):
            raise ProtocolError("bad_field", f"'type' must be one of {', '.join(NOTE_TYPES)}.")
        into["type"] = kind
    for key, limit in _FINDING_LIMITS.items():
        if key in data:
            into[key] = optional_text(data, key, limit)


def _position(data: dict[str, Any]) -> str:
    pos = data["pos"]
    try:
        if not isinstance(pos, str) or not _POS.fullmatch(pos):
            raise FIError("not a key")
        validate_order_key(pos)
    except FIError:
        raise ProtocolError("bad_field", "'pos' is not a position key.") from None
    return pos


def _optional_index(data: dict[str, Any], into: dict[str, Any]) -> None:
    if data.get("index") is not None:
        into["index"] = whole_number(data, "index", 0, MAX_INDEX)


_PARSERS: dict[str, _Parser] = {
    "note.add": _note_add,
    "note.edit": _note_edit,
    "note.move": _note_move,
    "note.delete": _by_id,
    "note.restore": _by_id,
    "column.add": _column_title,
    "column.rename": _column_title,
    "column.move": _column_move,
    "column.delete": _by_id,
    "column.state": _column_state,
    "column.lock": _by_id,
    "column.unlock": _by_id,
    "idea.add": _idea_add,
    "idea.delete": _by_id,
    "idea.move": _idea_move,
    "vote.add": _vote,
    "vote.remove": _vote,
    "vote.round": _vote_round,
    "phase.next": _bare,
    "snapshot.take": _snapshot_take,
    "tools.set": _tools_set,
    "reveal": _bare,
    "notes.reveal": _bare,
    "votes.reveal": _bare,
    "timer.start": _timer_start,
    "timer.stop": _bare,
    "focus": _focus,
    "freeze": _bare,
    "participant.erase": _participant_erase,
    **COUNCIL_PARSERS,
}

#: Every op kind a client may send.
OP_KINDS = frozenset(_PARSERS)
