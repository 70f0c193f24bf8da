"""The wire protocol: parse and validate a client frame once, encode server frames once.

Every frame is a JSON object with a ``type``. Nothing from a browser is trusted: a
frame that does not match its shape raises :class:`ProtocolError` naming the problem,
and only frames that pass reach the room. An op's own fields are checked by
:func:`atelier.op_parse.parse_op`, which imports use too. See ``docs/protocol.md``.
"""

from typing import Any, Literal, NotRequired, TypedDict

import orjson

from .op_fields import ProtocolError, identifier, label, optional_identifier, text, whole_number
from .op_parse import parse_op
from .rooms.messages import PROTOCOL_VERSION, encode
from .rooms.ops import MAX_NAME, MAX_NOTE_TEXT, Op

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
MAX_COP = 2**53 - 1  # the largest integer a browser counts exactly


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
        return {"type": "drag", "note": optional_identifier(data, "note")}
    if not isinstance(kind, str):
        raise ProtocolError("missing_field", "The frame has no 'type' string.")
    raise ProtocolError("unknown_type", f"Unknown frame type {kind[:40]!r}.")


def _join_message(data: dict[str, Any]) -> JoinMessage:
    version = whole_number(data, "v", 1, 1000)
    if version != PROTOCOL_VERSION:
        raise ProtocolError(
            "bad_version", f"Protocol version {version} is not served; use {PROTOCOL_VERSION}."
        )
    since = data.get("since")
    if since is not None:
        since = whole_number(data, "since", 0, MAX_COP)
    name = label(data, "name", MAX_NAME)
    return {
        "type": "join",
        "v": version,
        "token": text(data, "token", MAX_TOKEN),
        "client": identifier(data, "client"),
        "name": name,
        "since": since,
    }


def _op_message(data: dict[str, Any], max_text: int) -> OpMessage:
    cop = whole_number(data, "cop", 1, MAX_COP)
    op = data.get("op")
    if not isinstance(op, dict):
        raise ProtocolError("missing_field", "'op' must be an object.")
    try:
        return {"type": "op", "cop": cop, "op": parse_op(op, max_text=max_text)}
    except ProtocolError as error:
        error.cop = cop
        raise
