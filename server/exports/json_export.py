"""JSON export: the complete view, re-importable into a new workshop as an identical board.

Reading an export back (:func:`read_export`) only takes the file apart into the ops that
rebuild its board, in an order that applies; it trusts nothing in them. Checking those
ops (every field, every limit) and replaying them is the importer's job
(``atelier.imports``), the same checks a browser's ops go through.
"""

from dataclasses import dataclass, field
from typing import Any

import orjson

from .document import Document

__all__ = ["FORMAT", "BoardImportError", "ExportPlan", "export", "read_export"]

FORMAT = "atelier-board"
VERSION = 1


class BoardImportError(ValueError):
    """The file is not an Atelier JSON export this version can read, or its board is not
    one Atelier could have made (the reason says where)."""


@dataclass(slots=True)
class ExportPlan:
    """An export taken apart: the ops that rebuild its board (each with its author and
    what it is, for a refusal's message), and what no op sets."""

    title: str
    territory: str
    phase: int
    first_phase: int
    ops: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # what, author, op
    counts: dict[str, Any] = field(default_factory=dict)  # revealed vote counts, if any
    revealed: bool = False
    contributors: Any = 0
    timer: Any = None


def export(doc: Document) -> bytes:
    """The whole document as JSON (UTF-8, keys sorted, indented for people too)."""
    body: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "workshop": {"id": doc.workshop_id, "title": doc.title, "territory": doc.territory},
        "source": doc.source,
        "state": doc.state,
    }
    if doc.record is not None:
        body["record"] = doc.record
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)


def read_export(data: Any) -> ExportPlan:
    """The ops that rebuild an export's board (not frozen: an import is a new version).

    Raises :class:`BoardImportError` when the file is not an export or its parts have
    the wrong shape; the ops' own fields are checked when they are replayed.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BoardImportError("This is not an Atelier JSON export.")
    if data.get("version") != VERSION:
        raise BoardImportError(f"Only version {VERSION} exports can be imported.")
    state, workshop = data.get("state"), data.get("workshop")
    if not isinstance(state, dict) or not isinstance(workshop, dict):
        raise BoardImportError("The export has no board state.")
    try:
        return _plan(state, workshop)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BoardImportError(f"The board in the export is damaged: {exc!r}.") from None


def _plan(state: dict[str, Any], workshop: dict[str, Any]) -> ExportPlan:
    phase = state.get("phase", 4)
    plan = ExportPlan(
        title=_text(workshop.get("title")), territory=_text(workshop.get("territory")),
        phase=phase, first_phase=state.get("first_phase", 1),
        counts=(state.get("votes") or {}).get("counts") or {},
        revealed=bool((state.get("tools") or {}).get("revealed", False)),
        contributors=state.get("contributors", 0), timer=state.get("timer"),
    )  # fmt: skip
    add = plan.ops.append
    colleges = state.get("colleges")
    if colleges:
        add(("the collèges", "", {"kind": "colleges.set", "colleges": colleges}))
    for m in _list(state, "members"):
        add((f"member {_id(m)}", "", {"kind": "member.set", **m}))
    parts = {o["id"]: o for o in _list(state, "orientations")}
    locked = []
    for c in _list(state, "columns"):
        what, part = f"column {_id(c)}", parts.get(c["id"], {})
        add((what, "", {"kind": "column.add", "id": c["id"], "title": c["title"], "pos": c["pos"]}))
        if part.get("statement"):
            add((what, "", {"kind": "column.state", "id": c["id"], "statement": part["statement"]}))
        if part.get("documents") or part.get("others"):
            add((what, "", {"kind": "column.documents", "id": c["id"],
                            "documents": part.get("documents", []),
                            "others": part.get("others", [])}))  # fmt: skip
        if part.get("locked"):
            locked.append(c["id"])
    notes = sorted(_list(state, "notes"), key=lambda n: (str(n["column"] or ""), n["pos"], n["id"]))
    for n in notes:
        note = {k: v for k, v in n.items() if k not in ("author", "private")}
        add((f"note {_id(n)}", n["author"], {"kind": "note.add", **note}))
    for i in _list(state, "ideas"):
        idea = {k: v for k, v in i.items() if k != "author"}
        add((f"idea {_id(i)}", i["author"], {"kind": "idea.add", **idea}))
    for o in parts.values():
        for x in o.get("objections", []):
            what = f"objection {_id(x)}"
            add((what, "", {"kind": "objection.add", "column": o["id"], **x}))
            if x.get("answer"):
                add((what, "", {"kind": "objection.answer", "id": x["id"],
                                "answer": x["answer"]}))  # fmt: skip
        if o.get("decision") is not None:
            add((f"decision on {_id(o)}", "", {"kind": "decision.set", "column": o["id"],
                                               "decision": o["decision"]}))  # fmt: skip
    if state.get("cap"):
        add(("the cap", "", {"kind": "cap.set", "text": state["cap"]}))
    if state.get("meeting"):
        add(("the meeting", "", {"kind": "meeting.set", **state["meeting"]}))
    for point, text in (state.get("answers") or {}).items():
        if text:
            add((f"the answer on {point}", "", {"kind": "vigilance.answer", "point": point,
                                                "text": text}))  # fmt: skip
    tools = {k: v for k, v in (state.get("tools") or {}).items() if k != "revealed"}
    if tools:
        add(("the tools", "", {"kind": "tools.set", **tools}))
    for column in locked:  # last: a lock would refuse what goes into the column
        add((f"column {column}", "", {"kind": "column.lock", "id": column}))
    return plan


def _list(state: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = state.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise TypeError(f"'{key}' must be a list of objects")
    return items


def _id(item: dict[str, Any]) -> str:
    return repr(str(item.get("id", "?"))[:40])


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
