"""The wire protocol: parse and validate a client frame once, encode server frames once.

Every frame is a JSON object with a ``type``. Nothing from a browser is trusted: a
frame that does not match its shape raises :class:`ProtocolError` naming the problem,
and only frames that pass reach the room. See ``docs/protocol.md``.
"""

import re
from typing import Any, Literal, NotRequired, TypedDict

import orjson

from .records import name_digest
from .rooms.messages import PROTOCOL_VERSION, encode
from .rooms.model import AMBITIONS, COLOURS
from .rooms.ops import (
    MAX_BUDGET,
    MAX_COLUMN_TITLE,
    MAX_ID,
    MAX_LABEL,
    MAX_NAME,
    MAX_NOTE_TEXT,
    MAX_STATEMENT,
    MAX_TIMER,
    Op,
)

__all__ = [
    "MAX_FRAME",
    "PROTOCOL_VERSION",
    "ClientMessage",
    "DragMessage",
    "JoinMessage",
    "OpMessage",
    "ProtocolError",
    "encode",
    "parse",
]

#: The largest frame a client may send, in bytes (larger ones close the socket with 1009).
MAX_FRAME = 64 * 1024
MAX_TOKEN = 200
MAX_INDEX = 100_000
MAX_COP = 2**53 - 1  # the largest integer a browser counts exactly

_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ID}}}")


class ProtocolError(Exception):
    """A frame that is not a valid client message; ``code`` is a stable short word."""

    def __init__(self, code: str, message: str, cop: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.cop = cop  # the client op id, when the frame was an op with a valid one


class JoinMessage(TypedDict):
    type: Literal["join"]
    v: int
    token: str
    client: str
    name: str
    since: NotRequired[int | None]


class OpMessage(TypedDict):
    type: Literal["op"]
    cop: int
    op: Op


class DragMessage(TypedDict):
    type: Literal["drag"]
    note: str | None


ClientMessage = JoinMessage | OpMessage | DragMessage


def parse(frame: str | bytes, *, max_text: int = MAX_NOTE_TEXT) -> ClientMessage:
    """Parse and validate one client frame, or raise :class:`ProtocolError`.

    ``max_text`` is the longest note text accepted (the process's configured limit).
    """
    try:
        data = orjson.loads(frame)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError("bad_json", f"The frame is not valid JSON: {exc.msg}.") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_frame", "A frame must be a JSON object.")
    kind = data.get("type")
    if kind == "op":
        return _op_message(data, max_text)
    if kind == "join":
        return _join_message(data)
    if kind == "drag":
        return {"type": "drag", "note": _optional_id(data, "note")}
    if not isinstance(kind, str):
        raise ProtocolError("missing_field", "The frame has no 'type' string.")
    raise ProtocolError("unknown_type", f"Unknown frame type {kind[:40]!r}.")


def _join_message(data: dict[str, Any]) -> JoinMessage:
    version = _int(data, "v", 1, 1000)
    if version != PROTOCOL_VERSION:
        raise ProtocolError(
            "bad_version", f"Protocol version {version} is not served; use {PROTOCOL_VERSION}."
        )
    since = data.get("since")
    if since is not None:
        since = _int(data, "since", 0, MAX_COP)
    name = _text(data, "name", MAX_NAME).strip()
    if not name:
        raise ProtocolError("bad_field", "'name' must not be blank.")
    return {
        "type": "join",
        "v": version,
        "token": _text(data, "token", MAX_TOKEN),
        "client": _id(data, "client"),
        "name": name,
        "since": since,
    }


def _op_message(data: dict[str, Any], max_text: int) -> OpMessage:
    cop = _int(data, "cop", 1, MAX_COP)
    op = data.get("op")
    if not isinstance(op, dict):
        raise ProtocolError("missing_field", "'op' must be an object.")
    try:
        return {"type": "op", "cop": cop, "op": _op(op, max_text)}
    except ProtocolError as error:
        error.cop = cop
        raise


def _op(data: dict[str, Any], max_text: int) -> Op:
    """Validate an op's fields against its kind; unknown fields are dropped."""
    if not isinstance(data.get("kind"), str):  # before any lookup: a list is unhashable
        raise ProtocolError("unknown_op", "'kind' must be one of the op kinds.")
    kind: Any = data["kind"]
    if kind in _FLOW_KINDS:
        return _flow_op(str(kind), data)
    ident = _id(data, "id")
    if kind == "note.add":
        add: Any = {"kind": kind, "id": ident, "text": _text(data, "text", max_text)}
        _note_style(data, add)
        if "column" in data:
            add["column"] = _optional_id(data, "column")
        _optional_index(data, add)
        return add  # type: ignore[no-any-return]
    if kind == "note.edit":
        edit: Any = {"kind": kind, "id": ident}
        if "text" in data:
            edit["text"] = _text(data, "text", max_text)
        _note_style(data, edit)
        if len(edit) == 2:
            raise ProtocolError("missing_field", "note.edit needs 'text', 'colour' or 'ambitions'.")
        return edit  # type: ignore[no-any-return]
    if kind == "note.move":
        if "column" not in data:
            raise ProtocolError("missing_field", "note.move needs 'column' (null for the pool).")
        move: Any = {"kind": kind, "id": ident, "column": _optional_id(data, "column")}
        _optional_index(data, move)
        return move  # type: ignore[no-any-return]
    if kind in ("note.delete", "note.restore", "column.delete"):
        return {"kind": kind, "id": ident}
    if kind in ("column.add", "column.rename"):
        column: Any = {"kind": kind, "id": ident, "title": _title(data)}
        if kind == "column.add":
            _optional_index(data, column)
        return column  # type: ignore[no-any-return]
    if kind == "column.move":
        return {"kind": kind, "id": ident, "index": _int(data, "index", 0, MAX_INDEX)}
    raise ProtocolError("unknown_op", f"Unknown op kind {str(kind)[:40]!r}.")


_FLOW_KINDS = frozenset(
    {"column.state", "column.lock", "column.unlock", "idea.add", "idea.delete", "vote.add",
     "vote.remove", "phase.next", "snapshot.take", "tools.set", "reveal", "timer.start",
     "timer.stop", "freeze", "participant.erase"}
)  # fmt: skip


def _flow_op(kind: str, data: dict[str, Any]) -> Op:
    """The ops of the workshop's flow (issue 5); the reducer checks who may make them."""
    op: Any = {"kind": kind}
    if kind == "column.state":
        op.update(id=_id(data, "id"), statement=_text(data, "statement", MAX_STATEMENT).strip())
    elif kind in ("column.lock", "column.unlock", "idea.delete"):
        op["id"] = _id(data, "id")
    elif kind == "idea.add":
        text = _text(data, "text", MAX_NOTE_TEXT).strip()
        if not text:
            raise ProtocolError("bad_field", "'text' must not be blank.")
        op.update(id=_id(data, "id"), column=_id(data, "column"), text=text)
    elif kind in ("vote.add", "vote.remove"):
        op["column"] = _id(data, "column")
    elif kind == "snapshot.take":
        label = _text(data, "label", MAX_LABEL).strip()
        if not label:
            raise ProtocolError("bad_field", "'label' must not be blank.")
        op["label"] = label
    elif kind == "tools.set":
        for key in ("silent", "voting"):
            if key in data:
                if not isinstance(data[key], bool):
                    raise ProtocolError("bad_field", f"'{key}' must be true or false.")
                op[key] = data[key]
        if "budget" in data:
            op["budget"] = _int(data, "budget", 1, MAX_BUDGET)
        if len(op) == 1:
            raise ProtocolError("missing_field", "tools.set needs 'silent', 'voting' or 'budget'.")
    elif kind == "timer.start":
        op["seconds"] = _int(data, "seconds", 1, MAX_TIMER)
    elif kind == "participant.erase":
        name = _text(data, "name", MAX_NAME).strip()
        if not name:
            raise ProtocolError("bad_field", "'name' must not be blank.")
        op["digest"] = name_digest(name)  # the log keeps no name (see ops.ParticipantErase)
    return op  # type: ignore[no-any-return]


def _note_style(data: dict[str, Any], into: dict[str, Any]) -> None:
    if "colour" in data:
        colour = data["colour"]
        if colour not in COLOURS:
            raise ProtocolError("bad_field", f"'colour' must be one of {', '.join(COLOURS)}.")
        into["colour"] = colour
    if "ambitions" in data:
        tags = data["ambitions"]
        if not isinstance(tags, list) or any(t not in AMBITIONS for t in tags):
            raise ProtocolError(
                "bad_field", f"'ambitions' must be a list drawn from {', '.join(AMBITIONS)}."
            )
        into["ambitions"] = [a for a in AMBITIONS if a in tags]  # one order, no repeats


def _title(data: dict[str, Any]) -> str:
    title = _text(data, "title", MAX_COLUMN_TITLE).strip()
    if not title:
        raise ProtocolError("bad_field", "'title' must not be blank.")
    return title


def _optional_index(data: dict[str, Any], into: dict[str, Any]) -> None:
    if data.get("index") is not None:
        into["index"] = _int(data, "index", 0, MAX_INDEX)


def _int(data: dict[str, Any], key: str, low: int, high: int) -> int:
    value = data.get(key)
    if value is None:
        raise ProtocolError("missing_field", f"'{key}' is missing.")
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ProtocolError("bad_field", f"'{key}' must be a whole number from {low} to {high}.")
    return value


def _text(data: dict[str, Any], key: str, limit: int) -> str:
    value = data.get(key)
    if value is None:
        raise ProtocolError("missing_field", f"'{key}' is missing.")
    if not isinstance(value, str):
        raise ProtocolError("bad_field", f"'{key}' must be a string.")
    if len(value) > limit:
        raise ProtocolError("too_long", f"'{key}' is longer than {limit} characters.")
    if "\x00" in value:
        raise ProtocolError("bad_field", f"'{key}' must not contain NUL characters.")
    return value


def _id(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        raise ProtocolError("missing_field", f"'{key}' is missing.")
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ProtocolError(
            "bad_field", f"'{key}' must be 1 to {MAX_ID} letters, digits, '-' or '_'."
        )
    return value


def _optional_id(data: dict[str, Any], key: str) -> str | None:
    return None if data.get(key) is None else _id(data, key)
