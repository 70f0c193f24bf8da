"""What changed between two board states (two snapshots, or a snapshot and now).

Pure: two state dicts in (any form of :meth:`Board.to_dict`), a summary out. Only live
notes and columns count; a tombstone is a removal. A note "moved" when its column or
its position changed; "edited" when its text, colour, ambitions or one of the
diagnostic's fields (type, theme, source, indicator) did. Each list is
sorted by id so equal inputs give equal outputs.
"""

from typing import Any

__all__ = ["diff"]

_NOTE_CONTENT = ("text", "colour", "ambitions", "type", "theme", "source", "indicator")


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The notes added, removed, moved and edited, and the columns added, removed, renamed."""
    old_notes, new_notes = _live(before["notes"]), _live(after["notes"])
    old_columns, new_columns = _live(before["columns"]), _live(after["columns"])
    moved, edited = [], []
    for note_id in sorted(old_notes.keys() & new_notes.keys()):
        old, new = old_notes[note_id], new_notes[note_id]
        if (old["column"], old["pos"]) != (new["column"], new["pos"]):
            moved.append({"id": note_id, "text": new["text"], "from": old["column"],
                          "to": new["column"]})  # fmt: skip
        # a finding's optional fields are absent when empty ('' for the diff)
        changes = {
            k: {"before": old.get(k, ""), "after": new.get(k, "")}
            for k in _NOTE_CONTENT
            if old.get(k, "") != new.get(k, "")
        }
        if changes:
            edited.append({"id": note_id, **changes})
    renamed = [
        {"id": c, "before": old_columns[c]["title"], "after": new_columns[c]["title"]}
        for c in sorted(old_columns.keys() & new_columns.keys())
        if old_columns[c]["title"] != new_columns[c]["title"]
    ]
    return {
        "from": before["seq"],
        "to": after["seq"],
        "notes": {
            "added": [_note(new_notes[i]) for i in sorted(new_notes.keys() - old_notes.keys())],
            "removed": [_note(old_notes[i]) for i in sorted(old_notes.keys() - new_notes.keys())],
            "moved": moved,
            "edited": edited,
        },
        "columns": {
            "added": [_column(new_columns[i]) for i in sorted(new_columns.keys() - old_columns)],
            "removed": [_column(old_columns[i]) for i in sorted(old_columns.keys() - new_columns)],
            "renamed": renamed,
        },
    }


def _live(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in items if not i.get("deleted", False)}


def _note(note: dict[str, Any]) -> dict[str, Any]:
    return {"id": note["id"], "text": note["text"], "column": note["column"]}


def _column(column: dict[str, Any]) -> dict[str, Any]:
    return {"id": column["id"], "title": column["title"]}
