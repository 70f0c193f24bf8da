"""The ops a client may ask of a room (intents) and the limits on their fields.

An op is a plain dict told apart by its ``kind``. ``atelier.op_parse`` checks every
field of an op against these shapes and limits before it reaches the reducer (a
socket's ops and an import's alike), so the reducer only has to check the op against
the board.
"""

from dataclasses import dataclass
from typing import Literal, NotRequired, TypedDict

__all__ = [
    "DEFAULT_LIMITS",
    "FACILITATOR_KINDS",
    "IMPORT_ROLE",
    "MAX_BUDGET",
    "MAX_COLLEGES",
    "MAX_COLLEGE_LABEL",
    "MAX_COLUMNS",
    "MAX_COLUMN_TITLE",
    "MAX_DOCUMENT_NAME",
    "MAX_ID",
    "MAX_IDEAS",
    "MAX_LABEL",
    "MAX_MEMBERS",
    "MAX_NAME",
    "MAX_NOTES",
    "MAX_NOTE_TEXT",
    "MAX_OBJECTIONS",
    "MAX_OTHER_DOCUMENTS",
    "MAX_PERSON",
    "MAX_PLACE",
    "MAX_SOURCE",
    "MAX_STATEMENT",
    "MAX_TALLY",
    "MAX_THEME",
    "MAX_TIMER",
    "SHAPING_KINDS",
    "CapSet",
    "CollegesSet",
    "ColumnAdd",
    "ColumnDelete",
    "ColumnDocuments",
    "ColumnLock",
    "ColumnMove",
    "ColumnRename",
    "ColumnState",
    "DecisionSet",
    "Focus",
    "Freeze",
    "IdeaAdd",
    "IdeaDelete",
    "IdeaMove",
    "MeetingSet",
    "MemberRemove",
    "MemberSet",
    "NoteAdd",
    "NoteDelete",
    "NoteEdit",
    "NoteMove",
    "NoteRestore",
    "NotesReveal",
    "ObjectionAdd",
    "ObjectionAnswer",
    "ObjectionDelete",
    "Op",
    "ParticipantErase",
    "PhaseNext",
    "Reveal",
    "RoomLimits",
    "SnapshotTake",
    "Tally",
    "TimerStart",
    "TimerStop",
    "ToolsSet",
    "VigilanceAnswer",
    "Vote",
    "VoteRound",
    "VotesReveal",
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
MAX_THEME = 80  # a finding's theme ("Mobilité"...)
MAX_SOURCE = 200  # where a finding comes from, or its indicator
MAX_PERSON = 80  # a member's name, who raised an objection
MAX_COLLEGE_LABEL = 80
MAX_COLLEGES = 12
MAX_MEMBERS = 300
MAX_OBJECTIONS = 500
MAX_OTHER_DOCUMENTS = 5  # framework documents named by hand, per orientation
MAX_DOCUMENT_NAME = 80
MAX_PLACE = 200
MAX_TALLY = 100_000  # votes for, against or abstaining, in one collège

#: The role of the ops an import commits (a CSV of findings, a board's JSON): no link
#: grants it, so no browser can send as it. It may do what the facilitator may; the
#: notes and ideas it adds are marked ``imported`` (never a pseudonym to erase).
IMPORT_ROLE = "import"


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
        "notes.reveal",
        "votes.reveal",
        "vote.round",
        "timer.start",
        "timer.stop",
        "focus",
        "column.lock",
        "column.unlock",
        "freeze",
        "participant.erase",
    }
)

#: The instance de co-décision's record-keeping, and the answers to the method's points
#: of vigilance: the facilitator's (or whoever holds their link) alone.
FACILITATOR_KINDS = FACILITATOR_KINDS | {
    "colleges.set",
    "member.set",
    "member.remove",
    "objection.add",
    "objection.answer",
    "objection.delete",
    "decision.set",
    "vigilance.answer",
    "meeting.set",
}

#: The ops that shape the orientations: the facilitator's, and the participants' only
#: while the facilitator has opened shaping to them (``tools.set {shaping: true}``).
SHAPING_KINDS = frozenset(
    {"column.add", "column.rename", "column.move", "column.delete", "column.state",
     "column.documents", "cap.set"}
)  # fmt: skip


class NoteAdd(TypedDict):
    """A finding; ``type``, ``theme``, ``source`` and ``indicator`` as the diagnostic gave
    them ('' for none). ``pos`` only from an import (it keeps the exported order)."""

    kind: Literal["note.add"]
    id: str
    text: str
    colour: NotRequired[str]
    ambitions: NotRequired[list[str]]
    column: NotRequired[str | None]
    index: NotRequired[int]
    type: NotRequired[str]
    theme: NotRequired[str]
    source: NotRequired[str]
    indicator: NotRequired[str]
    pos: NotRequired[str]  # only from an import
    imported: NotRequired[bool]  # only from an import


class NoteEdit(TypedDict):
    kind: Literal["note.edit"]
    id: str
    text: NotRequired[str]
    colour: NotRequired[str]
    ambitions: NotRequired[list[str]]
    type: NotRequired[str]
    theme: NotRequired[str]
    source: NotRequired[str]
    indicator: NotRequired[str]


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
    pos: NotRequired[str]  # only from an import


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
    """Park an action idea for phase 5, under an orientation or none yet (``column`` null)."""

    kind: Literal["idea.add"]
    id: str
    column: NotRequired[str | None]
    text: str
    imported: NotRequired[bool]  # only from an import


class IdeaMove(TypedDict):
    """Put a parked idea under another orientation, or under none (null)."""

    kind: Literal["idea.move"]
    id: str
    column: str | None


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
    """Switch silent writing, voting and who may shape the orientations.

    Closing a vote keeps its ballots and reopening it continues the same round (a new
    round is :class:`VoteRound`); turning silent writing off reveals the notes it hid."""

    kind: Literal["tools.set"]
    silent: NotRequired[bool]
    voting: NotRequired[bool]
    budget: NotRequired[int]
    shaping: NotRequired[bool]


class Reveal(TypedDict):
    """Show every silent note and the vote counts to everyone (both reveals at once)."""

    kind: Literal["reveal"]


class NotesReveal(TypedDict):
    """Show every silent note written so far to everyone; silent writing goes on."""

    kind: Literal["notes.reveal"]


class VotesReveal(TypedDict):
    """Close the vote and show its counts to everyone."""

    kind: Literal["votes.reveal"]


class VoteRound(TypedDict):
    """Start a new round of votes: every ballot cleared, counts hidden, voting open."""

    kind: Literal["vote.round"]
    budget: NotRequired[int]


class TimerStart(TypedDict):
    kind: Literal["timer.start"]
    seconds: int


class TimerStop(TypedDict):
    kind: Literal["timer.stop"]


class Focus(TypedDict):
    """Point every screen that follows the facilitator at one orientation (or none)."""

    kind: Literal["focus"]
    column: str | None


class Freeze(TypedDict):
    """Freeze the board as the official orientations: final."""

    kind: Literal["freeze"]


class ColumnDocuments(TypedDict):
    """The framework documents an orientation feeds: codes of ``council.DOCUMENTS`` and
    others named by hand."""

    kind: Literal["column.documents"]
    id: str
    documents: list[str]
    others: list[str]


class CapSet(TypedDict):
    """« Le cap du territoire »: the ambition the territory sets itself, in a few lines."""

    kind: Literal["cap.set"]
    text: str


class CollegesSet(TypedDict):
    """The collèges of the instance de co-décision, in order: ``[{id, label}]``."""

    kind: Literal["colleges.set"]
    colleges: list[dict[str, str]]


class MemberSet(TypedDict):
    """Record (or correct) a member present: a name and a collège."""

    kind: Literal["member.set"]
    id: str
    name: str
    college: str


class MemberRemove(TypedDict):
    kind: Literal["member.remove"]
    id: str


class ObjectionAdd(TypedDict):
    """An objection raised in a consent round on an orientation, and by whom ('' unsaid)."""

    kind: Literal["objection.add"]
    id: str
    column: str
    text: str
    by: str


class ObjectionAnswer(TypedDict):
    """The answer the instance gave an objection ('' takes it back)."""

    kind: Literal["objection.answer"]
    id: str
    answer: str


class ObjectionDelete(TypedDict):
    kind: Literal["objection.delete"]
    id: str


#: One collège's votes on a decision (``college`` None: the whole instance at once).
Tally = TypedDict("Tally", {"college": str | None, "for": int, "against": int, "abstain": int})


class DecisionSet(TypedDict):
    """The instance's decision on an orientation, or None to take it back."""

    kind: Literal["decision.set"]
    column: str
    decision: dict[str, object] | None  # {outcome, method, amendment, tally}


class VigilanceAnswer(TypedDict):
    """The facilitator's answer to one of the method's points of vigilance ('' none)."""

    kind: Literal["vigilance.answer"]
    point: str
    text: str


class MeetingSet(TypedDict):
    """Where and when the session is held, and the time zone its dates are read in."""

    kind: Literal["meeting.set"]
    place: NotRequired[str]
    date: NotRequired[str]
    timezone: NotRequired[str]


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
    | IdeaMove
    | ColumnDocuments
    | CapSet
    | CollegesSet
    | MemberSet
    | MemberRemove
    | ObjectionAdd
    | ObjectionAnswer
    | ObjectionDelete
    | DecisionSet
    | VigilanceAnswer
    | MeetingSet
    | Vote
    | PhaseNext
    | SnapshotTake
    | ToolsSet
    | Reveal
    | NotesReveal
    | VotesReveal
    | VoteRound
    | TimerStart
    | TimerStop
    | Focus
    | Freeze
    | ParticipantErase
)
