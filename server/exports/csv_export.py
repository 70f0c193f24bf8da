"""CSV exports: the findings and ideas (one row each, re-importable), and phase 5's first
action plan (one draft action sheet per parked idea)."""

import csv
import io
from collections.abc import Iterable

from .document import IDEA_TYPE, Document, decision_label, type_label

__all__ = ["ACTION_COLUMNS", "COLUMNS", "export", "export_actions"]

#: The header row; the import reads the same names back.
COLUMNS = ("constat", "type", "theme", "source", "indicateur", "orientation", "enonce",
           "decision", "ambitions", "auteur", "couleur", "id")  # fmt: skip

#: The action plan's header row.
ACTION_COLUMNS = ("titre", "orientation", "ambitions", "statut", "proposee_par", "id")

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def export(doc: Document) -> bytes:
    """The findings, then the action ideas (typed « Idée d'action »), with their
    orientation, as CSV (UTF-8 with a BOM so spreadsheets read the accents)."""
    rows: list[list[str]] = []
    for o in [*doc.orientations(), None]:
        title = "" if o is None else o["title"]
        statement = "" if o is None else o["statement"]
        decided = "" if o is None or not o["decision"] else decision_label(o["decision"])
        for n in doc.findings(None) if o is None else o["findings"]:
            rows.append([n["text"], type_label(n.get("type", "")), n.get("theme", ""),
                         n.get("source", ""), n.get("indicator", ""), title, statement,
                         decided, " ".join(n["ambitions"]), n["author"], n["colour"],
                         n["id"]])  # fmt: skip
        for i in doc.ideas(None) if o is None else o["ideas"]:
            rows.append([i["text"], IDEA_TYPE, "", "", "", title, statement, decided, "",
                         i["author"], "", i["id"]])  # fmt: skip
    return _csv(COLUMNS, rows)


def export_actions(doc: Document) -> bytes:
    """One draft action sheet per parked idea, status « à venir », as CSV."""
    rows = [[s["title"], s["orientation"], " ; ".join(s["ambitions"]), s["status"], s["author"],
             s["id"]] for s in doc.action_sheets()]  # fmt: skip
    return _csv(ACTION_COLUMNS, rows)


def _csv(header: Iterable[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[_cell(c) for c in row] for row in rows])
    return ("\ufeff" + out.getvalue()).encode()


def _cell(text: str) -> str:
    # a cell starting like a formula would run in a spreadsheet: make it text
    return "'" + text if text.startswith(_FORMULA) else text
