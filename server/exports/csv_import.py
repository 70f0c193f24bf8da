"""Import of findings from a CSV file, as a phase 3 diagnostic usually produces them.

Pure: bytes in, findings out. The finding's text is read from the first column named
``constat``, ``finding`` or ``text`` (any case, accents ignored); optional columns give
its ambitions and its author. The separator (comma, semicolon, tab) is sniffed, since
French spreadsheets save with semicolons.
"""

import csv
import io
import unicodedata
from dataclasses import dataclass

from ..rooms.model import AMBITION_LABELS, AMBITIONS
from ..rooms.ops import MAX_NAME, MAX_NOTE_TEXT

__all__ = ["MAX_ROWS", "CsvImportError", "Finding", "read_findings"]

MAX_ROWS = 2000

_TEXT = ("constat", "constats", "finding", "findings", "text", "texte")
_AMBITIONS = ("ambition", "ambitions")
_AUTHOR = ("auteur", "auteure", "author", "autrice")


class CsvImportError(ValueError):
    """The file cannot be read as a list of findings."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding to add to the pool."""

    text: str
    ambitions: list[str]
    author: str | None


def read_findings(raw: bytes) -> list[Finding]:
    """The findings of a CSV file, in file order; blank rows skipped."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # an older spreadsheet's export
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise CsvImportError("The file is empty.")
    header = [_plain(h) for h in rows[0]]
    text_at = _find(header, _TEXT)
    if text_at is None:
        raise CsvImportError("No column named 'constat', 'finding' or 'text'.")
    ambitions_at, author_at = _find(header, _AMBITIONS), _find(header, _AUTHOR)
    findings: list[Finding] = []
    for row in rows[1:]:
        value = _get(row, text_at).strip().lstrip("'")
        if not value:
            continue
        if len(findings) >= MAX_ROWS:
            raise CsvImportError(f"More than {MAX_ROWS} findings in one file.")
        author = _get(row, author_at).strip()[:MAX_NAME] if author_at is not None else ""
        findings.append(
            Finding(
                text=value[:MAX_NOTE_TEXT],
                ambitions=_ambitions(_get(row, ambitions_at)) if ambitions_at is not None else [],
                author=author or None,
            )
        )
    return findings


def _ambitions(cell: str) -> list[str]:
    """Ambition codes from a cell: codes or labels, separated by spaces, commas or semicolons."""
    cell = _plain(cell)
    found = set()
    for code in AMBITIONS:
        if (
            code in cell.replace(",", " ").replace(";", " ").split()
            or _plain(AMBITION_LABELS[code]) in cell
        ):
            found.add(code)
    return [a for a in AMBITIONS if a in found]


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _find(header: list[str], names: tuple[str, ...]) -> int | None:
    for i, name in enumerate(header):
        if name in names:
            return i
    return None


def _get(row: list[str], index: int | None) -> str:
    return row[index] if index is not None and index < len(row) else ""
