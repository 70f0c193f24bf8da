"""The ops a client may ask of a room (intents) and the limits on their fields.

An op is a plain dict told apart by its ``kind``. ``atelier.protocol`` checks every
field of an op against these shapes and limits before it reaches the reducer, so
the reducer only has to check the op against the board.
"""

from dataclasses import dataclass
from typing import Literal, NotRequired, TypedDict

__all__ = [
    "DEFAULT_LIMITS",
    "FACILITATOR_KINDS",
    "MAX_BUDGET",
    "MAX_COLUMNS",
    "MAX_COLUMN_TITLE",
    "MAX_ID",
    "MAX_IDEAS",
    "MAX_LABEL",
    "MAX_NAME",
    "MAX_NOTES",
    "MAX_NOTE_TEXT",
    "MAX_STATEMENT",
    "MAX_TIMER",
    "ColumnAdd",
    "ColumnDelete",
    "ColumnLock",
    "ColumnMove",
    "ColumnRename",
    "ColumnState",
    "Freeze",
    "IdeaAdd",
    "IdeaDelete",
    "NoteAdd",
    "NoteDelete",
    "NoteEdit",
    "NoteMove",
    "NoteRestore",
    "Op",
    "ParticipantErase",
    "PhaseNext",
    "Reveal",
    "RoomLimits",
    "SnapshotTake",
    "TimerStart",
    "TimerStop",
    "ToolsSet",
    "Vote",
]

MAX_NOTE_TEXT = 1000
MAX_COLUMN_TITLE = 200
MAX_NAME = 40
MAX_ID = 40
MAX_NOTES = 5000
MAX_COLUMNS = 30
MAX_STATEMENT = 1000
MAX_LABEL = 100
MAX_IDEAS = 2000
MAX_BUDGET = 20
MAX_TIMER = 4 * 3600  # seconds


@dataclass(frozen=True, slots=True)
class RoomLimits:
    """How much one board may hold. Every process serving a room must use the same
    values: the reducer refuses by them, and replicas must refuse alike."""

    notes: int = MAX_NOTES
    columns: int = MAX_COLUMNS
    ideas: int = MAX_IDEAS
    #: Named snapshots one workshop may take, the bytes all its snapshots may hold, and
    #: their pace: a burst of ``snapshot_burst``, then one per ``snapshot_interval_ms``.
    #: Phase snapshots and the record count toward the bytes but are never refused.
    snapshots: int = 40
    snapshot_bytes: int = 64 * 2**20
    snapshot_burst: int = 5
    snapshot_interval_ms: int = 10_000


#: The limits when none are configured.
DEFAULT_LIMITS = RoomLimits()


#: The ops only a facilitator may make (the reducer checks the committing role).
FACILITATOR_KINDS = frozenset(
    {
        "phase.next",
        "snapshot.take",
        "tools.set",
        "reveal",
        "timer.start",
        "timer.stop",
        "column.lock",
        "column.unlock",
        "freeze",
        "participant.erase",
    }
)


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


class ColumnState(TypedDict):
    """Formulate (or reword) the orientation a column stands for."""

    kind: Literal["column.state"]
    id: str
    statement: str


class ColumnLock(TypedDict):
    kind: Literal["column.lock", "column.unlock"]
    id: str


class IdeaAdd(TypedDict):
    """Park an action idea under an orientation, for phase 5."""

    kind: Literal["idea.add"]
    id: str
    column: str
    text: str


class IdeaDelete(TypedDict):
    kind: Literal["idea.delete"]
    id: str


class Vote(TypedDict):
    """Put a dot on an orientation (``vote.add``) or take one back (``vote.remove``)."""

    kind: Literal["vote.add", "vote.remove"]
    column: str


class PhaseNext(TypedDict):
    """Close the current phase (saving a snapshot) and open the next."""

    kind: Literal["phase.next"]


class SnapshotTake(TypedDict):
    kind: Literal["snapshot.take"]
    label: str


class ToolsSet(TypedDict):
    """Switch silent writing and voting; opening a vote starts a fresh round."""

    kind: Literal["tools.set"]
    silent: NotRequired[bool]
    voting: NotRequired[bool]
    budget: NotRequired[int]


class Reveal(TypedDict):
    """Show every silent note and the vote counts to everyone."""

    kind: Literal["reveal"]


class TimerStart(TypedDict):
    kind: Literal["timer.start"]
    seconds: int


class TimerStop(TypedDict):
    kind: Literal["timer.stop"]


class Freeze(TypedDict):
    """Freeze the board as the official orientations: final."""

    kind: Literal["freeze"]


class ParticipantErase(TypedDict):
    """Replace a pseudonym by an anonymous label wherever it signs something.

    The browser names the pseudonym; the protocol keeps only its sha256 (``digest``),
    so the log never holds the name, and erasing it from storage never rewrites this
    op: a replay erases alike."""

    kind: Literal["participant.erase"]
    digest: str


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
    | ColumnState
    | ColumnLock
    | IdeaAdd
    | IdeaDelete
    | Vote
    | PhaseNext
    | SnapshotTake
    | ToolsSet
    | Reveal
    | TimerStart
    | TimerStop
    | Freeze
    | ParticipantErase
)
