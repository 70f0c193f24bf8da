"""Each item of a board as JSON, and back: the shapes views, events and storage share.

Pure. An item's optional fields (a finding's type, theme, source and indicator, the
``imported`` mark) appear only when set, so a plain note keeps the shape it always
had; a reader takes a missing one as empty. ``storage=True`` adds what only the stored
form keeps (tombstones, who a silent note belongs to).
"""

from collections.abc import Iterable
from dataclasses import fields
from operator import attrgetter
from typing import Any

from .council import College, Decision, Member, Objection
from .items import FINDING_FIELDS, Column, Idea, Note

__all__ = [
    "college_view",
    "column_from",
    "column_view",
    "idea_from",
    "idea_view",
    "member_view",
    "note_event",
    "note_fields",
    "note_from",
    "note_view",
    "notes_from_table",
    "notes_table",
    "objection_view",
    "orientation_view",
]


def note_fields(note: Note) -> dict[str, Any]:
    """A note's public fields, as views and events carry them."""
    # by hand: dataclasses.asdict deep-copies recursively, and a join of a 2,000-note
    # board spent most of its server time there (measured with py-spy, bench scenario d)
    item: dict[str, Any] = {
        "id": note.id,
        "text": note.text,
        "author": note.author,
        "colour": note.colour,
        "ambitions": list(note.ambitions),
        "column": note.column,
        "pos": note.pos,
    }
    for key in FINDING_FIELDS:
        value = getattr(note, key)
        if value:
            item[key] = value
    if note.imported:
        item["imported"] = True
    return item


def note_event(kind: str, note: Note) -> dict[str, Any]:
    """A note's event (``note.add``, ``note.restore``): the kind and its public fields."""
    return {"kind": kind, **note_fields(note)}


def note_view(note: Note, storage: bool) -> dict[str, Any]:
    """A note in a view (``private`` when only its author sees it) or in storage."""
    item = note_fields(note)
    if storage:
        item["deleted"] = note.deleted
        item["private_to"] = note.private_to
    elif note.private_to is not None:
        item["private"] = True  # only its author's view holds it: say so
    return item


def note_from(data: dict[str, Any]) -> Note:
    """Read a stored note back (older ones lack the optional fields)."""
    return Note(
        id=data["id"],
        text=data["text"],
        author=data["author"],
        colour=data["colour"],
        ambitions=list(data["ambitions"]),
        column=data["column"],
        pos=data["pos"],
        deleted=bool(data.get("deleted", False)),
        private_to=data.get("private_to"),
        imported=bool(data.get("imported", False)),
        **{key: str(data.get(key, "")) for key in FINDING_FIELDS},
    )


#: A note's fields, in the order a stored table's rows hold them.
NOTE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Note))
_note_row = attrgetter(*NOTE_FIELDS)


def notes_table(notes: Iterable[Note]) -> dict[str, Any]:
    """Notes as a checkpoint stores them: ``{"fields": [...], "rows": [[...], ...]}``.

    A checkpoint holds every note of the board, and a room saves one on its event loop
    every so many ops: as one dict per note, 5,000 notes took 28 ms to build and encode
    (every commit of the room waiting); as rows, one C-level ``attrgetter`` call per
    note and an encode of tuples, about 5 ms. The names in ``fields`` keep each row
    readable whatever fields a later release adds, and keep the name fields findable
    (``records.scrub`` rewrites a table's rows by them)."""
    return {"fields": list(NOTE_FIELDS), "rows": list(map(_note_row, notes))}


def notes_from_table(table: dict[str, Any]) -> list[Note]:
    """Read :func:`notes_table`'s form back, by field name: a table saved by a release
    whose notes had fewer fields still loads (each row matches its own table's names)."""
    names = [str(name) for name in table["fields"]]
    return [note_from(dict(zip(names, row, strict=True))) for row in table["rows"]]


def column_view(column: Column, storage: bool) -> dict[str, Any]:
    """A column's own shape; what it stands for travels in :func:`orientation_view`."""
    item: dict[str, Any] = {"id": column.id, "title": column.title, "pos": column.pos}
    if storage:
        item["deleted"] = column.deleted
    return item


def objection_view(objection: Objection) -> dict[str, Any]:
    """An objection as an orientation lists it."""
    return {"id": objection.id, "text": objection.text, "by": objection.by,
            "answer": objection.answer}  # fmt: skip


def orientation_view(column: Column, objections: list[Objection]) -> dict[str, Any]:
    """What a column stands for: statement, lock, documents fed, decision, objections."""
    return {
        "id": column.id,
        "statement": column.statement,
        "locked": column.locked,
        "documents": list(column.documents),
        "others": list(column.others),
        "decision": None if column.decision is None else column.decision.to_dict(),
        "objections": [objection_view(o) for o in objections],
    }


def column_from(data: dict[str, Any], orientation: dict[str, Any]) -> Column:
    """Read a stored column back, with its orientation's parts (older ones lack some)."""
    decision = orientation.get("decision")
    return Column(
        id=data["id"],
        title=data["title"],
        pos=data["pos"],
        deleted=bool(data.get("deleted", False)),
        statement=str(orientation.get("statement", "")),
        locked=bool(orientation.get("locked", False)),
        documents=[str(d) for d in orientation.get("documents", [])],
        others=[str(d) for d in orientation.get("others", [])],
        decision=None if decision is None else Decision.from_dict(decision),
    )


def idea_view(idea: Idea, storage: bool) -> dict[str, Any]:
    """An action idea (``column`` null: under no orientation yet)."""
    item: dict[str, Any] = {"id": idea.id, "column": idea.column, "text": idea.text,
                            "author": idea.author}  # fmt: skip
    if idea.imported:
        item["imported"] = True
    if storage:
        item["deleted"] = idea.deleted
    return item


def idea_from(data: dict[str, Any]) -> Idea:
    """Read a stored idea back."""
    return Idea(id=data["id"], column=data.get("column"), text=data["text"],
                author=data["author"], deleted=bool(data.get("deleted", False)),
                imported=bool(data.get("imported", False)))  # fmt: skip


def college_view(college: College) -> dict[str, str]:
    """A collège as the board lists it."""
    return {"id": college.id, "label": college.label}


def member_view(member: Member) -> dict[str, str]:
    """A member present, as the board lists them."""
    return {"id": member.id, "name": member.name, "college": member.college}
