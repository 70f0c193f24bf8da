"""What a board holds, item by item: findings, orientation columns, action ideas, tools.

Pure data. A note whose ``column`` is ``None`` sits in the pool of unsorted findings;
an idea whose ``column`` is ``None`` is parked for phase 5 under no orientation yet.
Deleted notes, columns and ideas stay as tombstones so their ids are never reused.
"""

from dataclasses import dataclass, field

from .council import Decision

__all__ = ["FINDING_FIELDS", "Column", "Idea", "Note", "Tools"]

#: A finding's optional fields, as the diagnostic gave them ('' when it did not).
FINDING_FIELDS: tuple[str, ...] = ("type", "theme", "source", "indicator")


@dataclass(slots=True)
class Note:
    """A finding on a sticky note.

    Its fields are only ever reassigned, never changed in place (``ambitions`` gets a
    new list): a checkpoint takes a note's field values as they are
    (``views.notes_table``) and encodes them a step later, while the board moves on."""

    id: str
    text: str
    author: str
    colour: str
    ambitions: list[str]
    column: str | None
    pos: str
    deleted: bool = False
    private_to: str | None = None  # the author's client id while silent writing hides it
    type: str = ""  # atout, faiblesse, opportunite, menace (council.NOTE_TYPES)
    theme: str = ""
    source: str = ""
    indicator: str = ""
    imported: bool = False  # from a file: signed by its source, never a pseudonym


@dataclass(slots=True)
class Column:
    """An orientation column: its statement, the documents it feeds, its decision."""

    id: str
    title: str
    pos: str
    deleted: bool = False
    statement: str = ""
    locked: bool = False
    documents: list[str] = field(default_factory=list)  # codes of council.DOCUMENTS
    others: list[str] = field(default_factory=list)  # other documents, named
    decision: Decision | None = None


@dataclass(slots=True)
class Idea:
    """An action idea parked for phase 5, under an orientation or none yet."""

    id: str
    column: str | None
    text: str
    author: str
    deleted: bool = False
    imported: bool = False


@dataclass(slots=True)
class Tools:
    """The phase 4 tools the facilitator switches on and off."""

    silent: bool = False
    voting: bool = False
    budget: int = 3
    revealed: bool = False  # the current round's vote counts are public
    # participants may shape the orientations; True only for boards stored before the
    # switch existed (everyone could then): Board.new() starts with it off
    shaping: bool = True
