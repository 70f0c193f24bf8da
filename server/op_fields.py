"""Checks on the fields of anything a browser or a file sends: one place for the limits.

Every check takes the received JSON object and a key, and returns the field as its
type once it passes, or raises :class:`ProtocolError` with a stable code
(``missing_field``, ``bad_field``, ``too_long``) and a sentence naming the field.
"""

import re
from typing import Any

from .rooms.ops import MAX_ID

__all__ = [
    "ID_PATTERN",
    "ProtocolError",
    "boolean",
    "identifier",
    "label",
    "optional_identifier",
    "optional_text",
    "text",
    "whole_number",
]

#: What an id looks like (notes, columns, ideas, members…): chosen by the client.
ID_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ID}}}")


class ProtocolError(Exception):
    """A frame that is not a valid client message; ``code`` is a stable short word."""

    def __init__(self, code: str, message: str, cop: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.cop = cop  # the client op id, when the frame was an op with a valid one


def whole_number(data: dict[str, Any], key: str, low: int, high: int) -> int:
    """An integer from ``low`` to ``high`` (booleans are not numbers here)."""
    value = data.get(key)
    if value is None:
        raise ProtocolError("missing_field", f"'{key}' is missing.")
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ProtocolError("bad_field", f"'{key}' must be a whole number from {low} to {high}.")
    return value


def boolean(data: dict[str, Any], key: str) -> bool:
    """true or false."""
    value = data.get(key)
    if not isinstance(value, bool):
        raise ProtocolError("bad_field", f"'{key}' must be true or false.")
    return value


def text(data: dict[str, Any], key: str, limit: int) -> str:
    """A string of at most ``limit`` characters, without NUL."""
    value = data.get(key)
    if value is None:
        raise ProtocolError("missing_field", f"'{key}' is missing.")
    return _checked(value, key, limit)


def optional_text(data: dict[str, Any], key: str, limit: int) -> str:
    """A trimmed string of at most ``limit`` characters; missing or null is ''."""
    value = data.get(key)
    return "" if value is None else _checked(value, key, limit).strip()


def label(data: dict[str, Any], key: str, limit: int) -> str:
    """A trimmed string that is not blank (a title, a name, a label)."""
    value = text(data, key, limit).strip()
    if not value:
        raise ProtocolError("bad_field", f"'{key}' must not be blank.")
    return value


def identifier(data: dict[str, Any], key: str) -> str:
    """An id: 1 to 40 letters, digits, '-' or '_'."""
    value = data.get(key)
    if value is None:
        raise ProtocolError("missing_field", f"'{key}' is missing.")
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise ProtocolError(
            "bad_field", f"'{key}' must be 1 to {MAX_ID} letters, digits, '-' or '_'."
        )
    return value


def optional_identifier(data: dict[str, Any], key: str) -> str | None:
    """An id, or None when the field is missing or null."""
    return None if data.get(key) is None else identifier(data, key)


def _checked(value: Any, key: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ProtocolError("bad_field", f"'{key}' must be a string.")
    if len(value) > limit:
        raise ProtocolError("too_long", f"'{key}' is longer than {limit} characters.")
    if "\x00" in value:
        raise ProtocolError("bad_field", f"'{key}' must not contain NUL characters.")
    return value
