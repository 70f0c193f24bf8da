"""The frames the server sends, typed: what the room core builds and the socket layer encodes.

Told apart by their ``type``, as uvicorn types its ASGI messages. The room core builds
them as plain dicts; only the adapters encode them, with :func:`encode` (once, for
every socket alike).
Client frames are parsed and typed in ``atelier.protocol``.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal, NotRequired, TypedDict

import orjson

__all__ = [
    "PROTOCOL_VERSION",
    "AckMessage",
    "DragMessage",
    "ErrorMessage",
    "EventMessage",
    "FrameType",
    "PresenceMessage",
    "RejectMessage",
    "ResetMessage",
    "Role",
    "ServerMessage",
    "User",
    "VigilanceMessage",
    "WelcomeMessage",
    "encode",
]

#: The protocol version a client must join with (``join.v``).
PROTOCOL_VERSION = 1


class Role(StrEnum):
    """What a capability link lets its holder do; the reducer checks it on every op."""

    FACILITATOR = "facilitator"
    PARTICIPANT = "participant"
    OBSERVER = "observer"


class FrameType(StrEnum):
    """Every server frame's ``type``."""

    WELCOME = "welcome"
    EVENT = "event"
    ACK = "ack"
    REJECT = "reject"
    ERROR = "error"
    PRESENCE = "presence"
    DRAG = "drag"
    RESET = "reset"
    VIGILANCE = "vigilance"


class User(TypedDict):
    """Someone present in the room, on any process."""

    sid: str
    name: str
    role: str


class EventMessage(TypedDict):
    """A committed op, resolved: every replica applies it without deciding anything."""

    type: Literal["event"]
    seq: int
    op: dict[str, Any]


class WelcomeMessage(TypedDict):
    """The answer to a join: the events missed since ``since``, or the whole board."""

    type: Literal["welcome"]
    v: int
    workshop: str
    sid: str
    role: str
    seq: int
    events: NotRequired[list[EventMessage]]
    state: NotRequired[dict[str, Any]]


class ResetMessage(TypedDict):
    """The replica reloaded from a checkpoint: here is the whole board again."""

    type: Literal["reset"]
    seq: int
    state: dict[str, Any]


class AckMessage(TypedDict):
    """An op applied, at ``seq`` (a retry gets its original seq)."""

    type: Literal["ack"]
    cop: int
    seq: int


class RejectMessage(TypedDict):
    """An op refused, and why; ``seq`` when it was committed and refused in order."""

    type: Literal["reject"]
    cop: int
    seq: NotRequired[int]
    code: str
    message: str


class ErrorMessage(TypedDict):
    """A frame or a join that could not be served; ``code`` is a stable short word."""

    type: Literal["error"]
    code: str
    message: str


class PresenceMessage(TypedDict):
    """Who is in the room now, on every process."""

    type: Literal["presence"]
    users: list[User]


class DragMessage(TypedDict):
    """Someone holds a note (``note``), or let it go (``None``)."""

    type: Literal["drag"]
    sid: str
    name: str
    note: str | None


class VigilanceMessage(TypedDict):
    """The points of vigilance, for facilitators only."""

    type: Literal["vigilance"]
    checks: Any


ServerMessage = (
    WelcomeMessage
    | EventMessage
    | ResetMessage
    | AckMessage
    | RejectMessage
    | ErrorMessage
    | PresenceMessage
    | DragMessage
    | VigilanceMessage
)


def encode(message: Mapping[str, object]) -> bytes:
    """A server message's bytes (JSON, UTF-8), encoded once to be sent as is to every socket."""
    return orjson.dumps(message)
