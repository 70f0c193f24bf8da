"""CSV export: one row per finding, with its orientation, ambitions and author."""

import csv
import io

from .document import Document

__all__ = ["COLUMNS", "export"]

#: The header row; the import reads the same names back.
COLUMNS = ("constat", "orientation", "enonce", "ambitions", "auteur", "couleur", "id")

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def export(doc: Document) -> bytes:
    """The findings as CSV (UTF-8 with a BOM so spreadsheets read the accents)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    rows = [(o["title"], o["statement"], n) for o in doc.orientations() for n in o["findings"]]
    rows += [("", "", n) for n in doc.findings(None)]
    for title, statement, note in rows:
        writer.writerow(
            [_cell(note["text"]), _cell(title), _cell(statement), " ".join(note["ambitions"]),
             _cell(note["author"]), note["colour"], note["id"]]
        )  # fmt: skip
    return ("\ufeff" + out.getvalue()).encode()


def _cell(text: str) -> str:
    # a cell starting like a formula would run in a spreadsheet: make it text
    return "'" + text if text.startswith(_FORMULA) else text
