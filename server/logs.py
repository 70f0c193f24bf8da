"""Log lines an operator can use: a timestamp, the request or socket they belong to, one
readable line or one JSON object each, and never a link's secret.

Every line carries the id of the HTTP request or websocket it was written for, taken
from a context variable that :mod:`atelier.observe` sets around each request and each
socket (so any code running for that request, however deep, logs it without being
told). Code that wants its own id, such as a socket that names itself, calls
:func:`bind_socket`.

Secrets travel in a link's fragment (``#k=...``), in ``Authorization: Bearer ...``
headers and in the websocket ``join`` frame's ``token``; nothing logs those on purpose,
and every line is passed through :func:`redact` as well, in case a message or an
exception quotes one.
"""

import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar
from typing import Any

import orjson

__all__ = [
    "REQUEST_ID",
    "SOCKET_ID",
    "JsonFormatter",
    "TextFormatter",
    "bind_request",
    "bind_socket",
    "configure",
    "new_id",
    "redact",
]

#: The id of the HTTP request being served ('' outside one).
REQUEST_ID: ContextVar[str] = ContextVar("atelier_request_id", default="")
#: The id of the websocket being served ('' outside one).
SOCKET_ID: ContextVar[str] = ContextVar("atelier_socket_id", default="")

# A link's fragment, a bearer header, a JSON "token" field: what follows is a secret.
_SECRET = re.compile(
    r"""(?P<lead>\#k=|/j/|[Bb]earer\s+|["']?token["']?\s*[:=]\s*["']?)(?P<secret>[A-Za-z0-9_\-.~+/=]{6,})"""
)
_REDACTED = "[redacted]"

# Lines at these levels are left to DEBUG: the access log would be half scrapes otherwise.
_QUIET_LOGGERS = ("uvicorn.access",)


def new_id() -> str:
    """A short random id for a request or a socket (48 bits: unique enough in logs)."""
    return secrets.token_hex(6)


def bind_request(request_id: str | None = None) -> str:
    """Mark what runs from here on in this context as serving that request; returns its id."""
    value = request_id or new_id()
    REQUEST_ID.set(value)
    return value


def bind_socket(socket_id: str | None = None) -> str:
    """Mark what runs from here on in this context as serving that websocket; returns its id.

    :mod:`atelier.observe` already binds a fresh id around every websocket; call this
    to replace it with an id the socket already has (e.g. its peer id in presence).
    """
    value = socket_id or new_id()
    SOCKET_ID.set(value)
    return value


def redact(text: str) -> str:
    """``text`` with anything that looks like a link secret replaced."""
    return _SECRET.sub(lambda m: m.group("lead") + _REDACTED, text)


def _timestamp(record: logging.LogRecord) -> str:
    seconds = time.gmtime(record.created)
    millis = int(record.msecs)
    return time.strftime("%Y-%m-%dT%H:%M:%S", seconds) + f".{millis:03d}Z"


def _message(record: logging.LogRecord, formatter: logging.Formatter) -> str:
    text = record.getMessage()
    if record.exc_info:
        text += "\n" + formatter.formatException(record.exc_info)
    elif record.exc_text:
        text += "\n" + record.exc_text
    if record.stack_info:
        text += "\n" + formatter.formatStack(record.stack_info)
    return redact(text)


class TextFormatter(logging.Formatter):
    """``2025-01-31T18:04:05.123Z INFO atelier.app req=1a2b3c4d5e6f: message``."""

    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(
            f"{name}={value}"
            for name, value in (("req", REQUEST_ID.get()), ("sock", SOCKET_ID.get()))
            if value
        )
        where = f"{record.name} {ids}" if ids else record.name
        return f"{_timestamp(record)} {record.levelname} {where}: {_message(record, self)}"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``ts``, ``level``, ``logger``, ``msg``, and the ids."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": _message(record, self),
        }
        if request_id := REQUEST_ID.get():
            line["request_id"] = request_id
        if socket_id := SOCKET_ID.get():
            line["socket_id"] = socket_id
        extra = getattr(record, "fields", None)  # log.info(..., extra={"fields": {...}})
        if isinstance(extra, dict):
            line.update({k: redact(v) if isinstance(v, str) else v
                         for k, v in extra.items() if k not in line})  # fmt: skip
        return orjson.dumps(line, default=str).decode()


def configure(level: str, fmt: str) -> None:
    """Send every log line (Atelier's and uvicorn's) to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    for name in _QUIET_LOGGERS:  # Atelier writes its own access lines (observe.py)
        logging.getLogger(name).setLevel(logging.WARNING)
