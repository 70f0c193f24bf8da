"""The ops a client may ask of a room (intents) and the limits on their fields.

An op is a plain dict told apart by its ``kind``. ``server.protocol`` checks every
field of an op against these shapes and limits before it reaches the reducer, so
the reducer only has to check the op against the board.
"""

from typing import Literal, NotRequired, TypedDict

__all__ = [
    "MAX_COLUMNS",
    "MAX_COLUMN_TITLE",
    "MAX_ID",
    "MAX_NAME",
    "MAX_NOTES",
    "MAX_NOTE_TEXT",
    "ColumnAdd",
    "ColumnDelete",
    "ColumnMove",
    "ColumnRename",
    "NoteAdd",
    "NoteDelete",
    "NoteEdit",
    "NoteMove",
    "NoteRestore",
    "Op",
]

MAX_NOTE_TEXT = 1000
MAX_COLUMN_TITLE = 200
MAX_NAME = 40
MAX_ID = 40
MAX_NOTES = 5000
MAX_COLUMNS = 30


class NoteAdd(TypedDict):
    kind: Literal["note.add"]
    id: str
    text: str
    colour: NotRequired[str]
    ambitions: NotRequired[list[str]]
    column: NotRequired[str | None]
    index: NotRequired[int]


class NoteEdit(TypedDict):
    kind: Literal["note.edit"]
    id: str
    text: NotRequired[str]
    colour: NotRequired[str]
    ambitions: NotRequired[list[str]]


class NoteMove(TypedDict):
    kind: Literal["note.move"]
    id: str
    column: str | None
    index: NotRequired[int]


class NoteDelete(TypedDict):
    kind: Literal["note.delete"]
    id: str


class NoteRestore(TypedDict):
    kind: Literal["note.restore"]
    id: str


class ColumnAdd(TypedDict):
    kind: Literal["column.add"]
    id: str
    title: str
    index: NotRequired[int]


class ColumnRename(TypedDict):
    kind: Literal["column.rename"]
    id: str
    title: str


class ColumnMove(TypedDict):
    kind: Literal["column.move"]
    id: str
    index: int


class ColumnDelete(TypedDict):
    kind: Literal["column.delete"]
    id: str


Op = (
    NoteAdd
    | NoteEdit
    | NoteMove
    | NoteDelete
    | NoteRestore
    | ColumnAdd
    | ColumnRename
    | ColumnMove
    | ColumnDelete
)
