"""The board of one workshop: findings (sticky notes), orientation columns and the pool,
with the workshop's flow (phase, tools, timer, votes, the freeze) and what the official
record keeps of the instance de co-décision (its collèges and members, the objections and
decisions, « le cap du territoire », the answers to the method's points of vigilance, the
place and date of the session).

Pure data, no I/O. The items are in ``items.py`` and ``council.py``, their JSON shapes in
``views.py``. A note whose ``column`` is ``None`` sits in the pool of unsorted findings.
Deleted notes and columns stay as tombstones so their ids are never reused and a late
client can still be told they went away.

A workshop starts in the phase it runs (:meth:`Board.new`, phase 4 unless asked
otherwise); ``first_phase`` remembers it, so earlier phases read as held elsewhere and
no snapshot ever stands for them. ``Board()`` itself is the empty board of a workshop
stored before that (phase 1, orientations open to everyone), so old logs replay alike.

Some of the board is private until the facilitator reveals it: a note written while
silent writing is on is seen only by its author's client (``Note.private_to``), and a
vote only by its voter. :meth:`Board.to_dict` therefore takes the :class:`Viewer` it
is meant for; only the full form (``tombstones=True``, for storage) holds everything.
"""

from dataclasses import asdict, dataclass, field
from typing import Any

from ..records import NAME_FIELDS, content_hash, name_digest
from .council import (
    DEFAULT_TIMEZONE,
    College,
    Meeting,
    Member,
    Objection,
    default_colleges,
)
from .items import Column, Idea, Note, Tools
from .note_order import NoteOrder
from .views import (
    college_view,
    column_from,
    column_view,
    idea_from,
    idea_view,
    member_view,
    note_from,
    note_view,
    notes_from_table,
    notes_table,
    orientation_view,
)

__all__ = [
    "AMBITIONS",
    "AMBITION_LABELS",
    "ANONYMOUS",
    "COLOURS",
    "PHASES",
    "VIGILANCE_POINTS",
    "Board",
    "Column",
    "Idea",
    "Note",
    "Tools",
    "Viewer",
    "content_hash",
    "erase_names",
    "name_digest",
]

#: The four structuring ambitions of the Néolab² method, as stable codes.
AMBITIONS: tuple[str, ...] = ("ancrage", "transition", "travail", "consommation")

#: Their French labels, as the seed words them (for exports and the record).
AMBITION_LABELS: dict[str, str] = {
    "ancrage": "L'ancrage territorial",
    "transition": "L'engagement du tissu économique dans la transition écologique",
    "travail": "Un monde du travail respectueux du bien-être des individus",
    "consommation": "Des formes d'échanges et des modes de consommation responsables",
}

#: The five Néolab² phases, numbered from 1, as the seed labels them.
PHASES: tuple[str, ...] = (
    "Préparation de la démarche",
    "Vision",
    "Diagnostic ciblé",
    "Orientations stratégiques",
    "Plan d'actions, modalités d'engagement et de suivi",
)

#: The method's three points of vigilance, as the codes their answers are kept under.
VIGILANCE_POINTS: tuple[str, ...] = ("actions", "ess", "documents")

#: The sticky-note palette.
COLOURS: tuple[str, ...] = ("yellow", "pink", "blue", "green", "orange", "purple")


def board_order(note: Note) -> tuple[str, str, str]:
    """Notes in board order: the pool first, then by column, position and id."""
    return (note.column or "", note.pos, note.id)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Whom a view of the board is for: a role, and the client id when there is one."""

    role: str
    client: str | None = None


#: Someone who sees only what everyone sees (an HTTP reader, an export, the record).
ANONYMOUS = Viewer("observer")


@dataclass(slots=True)
class Board:
    """A workshop board at a given sequence number."""

    notes: dict[str, Note] = field(default_factory=dict)
    columns: dict[str, Column] = field(default_factory=dict)
    seq: int = 0
    phase: int = 1
    first_phase: int = 1  # the phase the workshop started in: those before, held elsewhere
    tools: Tools = field(default_factory=Tools)
    timer: int | None = None  # when the countdown ends, ms since the epoch
    focus: str | None = None  # the orientation the facilitator points the wall at
    ideas: dict[str, Idea] = field(default_factory=dict)
    votes: dict[str, dict[str, int]] = field(default_factory=dict)  # client -> column -> n
    frozen: dict[str, Any] | None = None  # {seq, at, by, hash} once frozen
    contributors: set[str] = field(default_factory=set)  # client ids of participants
    # digests of erased pseudonyms (never the names): snapshots, immutable, still hold
    # them, so they are anonymised again whenever they are served
    erased: set[str] = field(default_factory=set)
    # the instance de co-décision and what the record keeps of the session
    cap: str = ""  # « le cap du territoire »
    meeting: Meeting = field(default_factory=Meeting)
    colleges: list[College] = field(default_factory=default_colleges)
    members: dict[str, Member] = field(default_factory=dict)  # in the order recorded
    objections: dict[str, Objection] = field(default_factory=dict)  # in the order raised
    answers: dict[str, str] = field(default_factory=dict)  # vigilance point -> answer
    # where the live notes sit, kept by the note methods below (derived: not compared)
    order: NoteOrder = field(default_factory=NoteOrder, init=False, repr=False, compare=False)

    @classmethod
    def new(cls, phase: int = 4, *, shaping: bool = False) -> "Board":
        """The board a new workshop starts from: in ``phase``; shaping orientations is the
        facilitator's unless ``shaping`` opens it to participants from the start."""
        if not 1 <= phase <= len(PHASES):
            raise ValueError(f"a phase is 1 to {len(PHASES)}")
        board = cls(phase=phase, first_phase=phase)
        board.tools.shaping = shaping
        return board

    # Notes change place through these methods only, so that ``order`` stays true.

    def add_note(self, note: Note) -> None:
        """Put a new note on the board."""
        self.notes[note.id] = note
        self.order.add(note)

    def place_note(self, note: Note, column: str | None, pos: str) -> None:
        """Move a live note to ``pos`` in ``column`` (None: the pool)."""
        self.order.remove(note)
        note.column, note.pos = column, pos
        self.order.add(note)

    def delete_note(self, note: Note) -> None:
        """Leave a tombstone of a live note."""
        self.order.remove(note)
        note.deleted = True

    def restore_note(self, note: Note, column: str | None, pos: str) -> None:
        """Bring a deleted note back, at ``pos`` in ``column``."""
        note.column, note.pos, note.deleted = column, pos, False
        self.order.add(note)

    def publish_note(self, note: Note) -> None:
        """Make a silent note public (the reveal)."""
        self.order.remove(note)
        note.private_to = None
        self.order.add(note)

    def holds_silent_notes_of(self, client: str | None) -> bool:
        """Whether any silent note waiting is ``client``'s (only their view shows it)."""
        return client is not None and self.order.has_silent_notes_of(client)

    def silent_waiting(self) -> int:
        """How many silent notes wait for the reveal (everyone may know how many)."""
        return self.order.silent

    def live_notes(self, column: str | None) -> list[Note]:
        """The live notes of one column (or of the pool), in board order."""
        return [self.notes[note_id] for note_id in self.order.ids(column)]

    def live_columns(self) -> list[Column]:
        """The live columns, left to right."""
        found = [c for c in self.columns.values() if not c.deleted]
        found.sort(key=lambda c: (c.pos, c.id))
        return found

    def count_live_notes(self) -> int:
        """How many notes are on the board (tombstones excluded)."""
        return self.order.count

    def vote_counts(self) -> dict[str, int]:
        """Votes per live column, every voter summed (private until revealed)."""
        counts: dict[str, int] = {}
        for ballot in self.votes.values():
            for column, n in ballot.items():
                counts[column] = counts.get(column, 0) + n
        return {c: n for c, n in sorted(counts.items()) if n and self._live_column(c)}

    def _live_column(self, column_id: str) -> bool:
        column = self.columns.get(column_id)
        return column is not None and not column.deleted

    def to_dict(self, *, tombstones: bool = False, viewer: Viewer = ANONYMOUS) -> dict[str, Any]:
        """A JSON-ready view, in board order so equal boards give equal bytes.

        ``tombstones=True`` is the full form for storage (snapshots, exports; a
        checkpoint is :meth:`to_checkpoint`): every note, vote and contributor.
        Otherwise the view holds what ``viewer`` may see.
        """
        notes = sorted(
            (
                n
                for n in self.notes.values()
                if tombstones or (not n.deleted and n.private_to in (None, viewer.client))
            ),
            key=board_order,
        )
        data = self._without_notes(tombstones=tombstones, viewer=viewer)
        data["notes"] = [note_view(n, tombstones) for n in notes]
        return data

    def to_checkpoint(self) -> dict[str, Any]:
        """The full form, its notes as a table (:func:`~.views.notes_table`): what a
        room saves every so many ops, built in a few ms at 5,000 notes where the form
        above takes 28. :meth:`from_dict` reads both."""
        data = self._without_notes(tombstones=True, viewer=ANONYMOUS)
        data["notes"] = notes_table(self.notes.values())
        return data

    def _without_notes(self, *, tombstones: bool, viewer: Viewer) -> dict[str, Any]:
        """The view, but for its notes (None, in their place): the caller's to add."""
        columns = (
            sorted(self.columns.values(), key=lambda c: (c.pos, c.id))
            if tombstones
            else self.live_columns()
        )
        ideas = sorted(
            (
                i
                for i in self.ideas.values()
                if tombstones
                or (not i.deleted and (i.column is None or self._live_column(i.column)))
            ),
            key=lambda i: (i.column or "", i.id),
        )
        raised: dict[str, list[Objection]] = {}
        for objection in self.objections.values():
            raised.setdefault(objection.column, []).append(objection)
        data: dict[str, Any] = {
            "seq": self.seq,
            "phase": self.phase,
            "first_phase": self.first_phase,
            "columns": [column_view(c, tombstones) for c in columns],
            "notes": None,
            "orientations": [orientation_view(c, raised.get(c.id, [])) for c in columns],
            "ideas": [idea_view(i, tombstones) for i in ideas],
            "tools": asdict(self.tools),
            "timer": self.timer,
            "focus": self.focus,
            "frozen": self.frozen,
            "silent_waiting": self.silent_waiting(),
            "cap": self.cap,
            "meeting": self.meeting.to_dict(),
            "colleges": [college_view(c) for c in self.colleges],
            "members": [member_view(m) for m in self.members.values()],
            "answers": {point: self.answers.get(point, "") for point in VIGILANCE_POINTS},
        }
        if tombstones:
            data["votes"] = {c: dict(sorted(b.items())) for c, b in sorted(self.votes.items())}
            data["contributors"] = sorted(self.contributors)
            data["erased"] = sorted(self.erased)
        else:
            data["votes"] = self.votes_view(viewer)
            data["contributors"] = len(self.contributors)
        return data

    def votes_view(self, viewer: Viewer) -> dict[str, Any]:
        """The votes as ``viewer`` may see them: the counts once revealed, and their own."""
        view: dict[str, Any] = {"counts": self.vote_counts() if self.tools.revealed else None}
        if viewer.client is not None and viewer.role != "observer":
            mine = {c: n for c, n in sorted(self.votes.get(viewer.client, {}).items()) if n}
            view["mine"] = mine
            view["left"] = max(0, self.tools.budget - sum(mine.values()))
        return view

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Board":
        """Rebuild a board saved with ``to_dict(tombstones=True)`` or ``to_checkpoint()``.

        Boards saved before the flow existed (no phase, tools…) load with its defaults;
        those saved before issue 10 started in phase 1 with shaping open to everyone.
        """
        board = cls(
            seq=int(data["seq"]),
            phase=int(data.get("phase", 1)),
            first_phase=int(data.get("first_phase", 1)),
        )
        orientations = {o["id"]: o for o in data.get("orientations", [])}
        for c in data["columns"]:
            orientation = orientations.get(c["id"], {})
            board.columns[c["id"]] = column_from(c, orientation)
            for o in orientation.get("objections", []):
                board.objections[o["id"]] = Objection(
                    o["id"], c["id"], o["text"], o.get("by", ""), o.get("answer", "")
                )
        stored = data["notes"]  # a checkpoint's table, or one dict per note
        for note in (
            notes_from_table(stored) if isinstance(stored, dict) else map(note_from, stored)
        ):
            board.add_note(note)
        for i in data.get("ideas", []):
            board.ideas[i["id"]] = idea_from(i)
        board.tools = Tools(**data.get("tools", {}))
        board.timer = data.get("timer")
        board.focus = data.get("focus")
        board.frozen = data.get("frozen")
        votes = data.get("votes", {})
        if isinstance(votes, dict) and "counts" not in votes:  # the full form only
            board.votes = {c: dict(b) for c, b in votes.items()}
        contributors = data.get("contributors", [])
        board.contributors = set(contributors) if isinstance(contributors, list) else set()
        board.erased = set(data.get("erased", []))
        board.cap = str(data.get("cap", ""))
        meeting = data.get("meeting", {})
        board.meeting = Meeting(str(meeting.get("place", "")), str(meeting.get("date", "")),
                                str(meeting.get("timezone", DEFAULT_TIMEZONE)))  # fmt: skip
        if "colleges" in data:
            board.colleges = [College(c["id"], c["label"]) for c in data["colleges"]]
        for m in data.get("members", []):
            board.members[m["id"]] = Member(m["id"], m["name"], m["college"])
        board.answers = {k: str(v) for k, v in data.get("answers", {}).items() if v}
        return board


def erase_names(data: Any, erased: set[str], replacement: str) -> Any:
    """A copy of ``data`` (a view, a snapshot, a record) where every name field
    (``author``, ``by``, ``name``…) whose digest is in ``erased`` reads ``replacement``."""
    if isinstance(data, list):
        return [erase_names(item, erased, replacement) for item in data]
    if isinstance(data, dict):
        return {
            k: replacement
            if k in NAME_FIELDS and isinstance(v, str) and name_digest(v) in erased
            else erase_names(v, erased, replacement)
            for k, v in data.items()
        }
    return data
