"""Reading a diagnostic's CSV file: its findings (with their AFOM type, theme, source and
indicator) and its action ideas, row by row, with what was not used and why.

Pure: bytes in, a :class:`Sheet` out. Headers are matched in French or English, any
case, accents ignored (``Constat``, ``Finding``, ``Thème``, ``Indicateur``...). The
separator (comma, semicolon, tab) is sniffed, since French spreadsheets save with
semicolons; the text may be UTF-8, Windows-1252 or UTF-16 (« Texte Unicode »). A row
typed « idée d'action » is an action idea, not a finding.

A file that cannot be read at all raises :class:`CsvImportError` with the line and the
reason (binary, NUL, a field past the csv module's limit, too many rows); a row that
cannot be used is kept in :attr:`Sheet.refused` with its line and reason. What the
rows may hold (lengths, counts) is checked later, as for any op (``atelier.imports``).
"""

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from ..rooms.model import AMBITION_LABELS, AMBITIONS, COLOURS

__all__ = ["MAX_ROWS", "CsvImportError", "Refused", "Row", "Sheet", "read_sheet"]

MAX_ROWS = 2000

#: The fields a column can give, and the headers (plain: no case, no accents) naming them.
HEADERS: dict[str, tuple[str, ...]] = {
    "text": ("constat", "constats", "finding", "findings", "text", "texte", "libelle",
             "intitule", "description"),
    "type": ("type", "nature", "categorie", "category", "afom", "swot", "type afom"),
    "theme": ("theme", "thematique", "themes", "domaine", "topic", "sujet"),
    "source": ("source", "sources", "origine", "reference", "references"),
    "indicator": ("indicateur", "indicateurs", "indicator", "indicators", "chiffre cle",
                  "chiffres cles", "donnee", "donnees", "valeur", "value"),
    "ambitions": ("ambition", "ambitions"),
    "author": ("auteur", "auteure", "autrice", "author", "redacteur", "redactrice"),
    "colour": ("couleur", "colour", "color"),
}  # fmt: skip

#: What a type cell may say (plain), and the type it means ("idea": an action idea).
TYPES: dict[str, str] = {
    **dict.fromkeys(("atout", "atouts", "force", "forces", "strength", "strengths"), "atout"),
    **dict.fromkeys(("faiblesse", "faiblesses", "weakness", "weaknesses"), "faiblesse"),
    **dict.fromkeys(("opportunite", "opportunites", "opportunity", "opportunities"),
                    "opportunite"),
    **dict.fromkeys(("menace", "menaces", "threat", "threats", "risque", "risques"), "menace"),
    **dict.fromkeys(("idee d'action", "idees d'actions", "idee d'actions", "idee", "idees",
                     "action", "actions", "piste d'action", "action idea", "idea"), "idea"),
}  # fmt: skip

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FORMULA = ("=", "+", "-", "@")


#: How much of a file the separator is sniffed from (whole lines of it).
SNIFF_SAMPLE = 64 * 1024


class CsvImportError(ValueError):
    """The file cannot be read as a table of findings; ``line`` says where, if anywhere."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(f"Line {line}: {reason}" if line else reason)
        self.reason = reason
        self.line = line


@dataclass(frozen=True, slots=True)
class Row:
    """One usable row: a finding, or an action idea (``idea``)."""

    line: int
    text: str
    idea: bool = False
    type: str = ""
    theme: str = ""
    source: str = ""
    indicator: str = ""
    ambitions: list[str] = field(default_factory=list)
    author: str = ""  # '' : the file names none
    colour: str = ""


@dataclass(frozen=True, slots=True)
class Refused:
    """A row left out, and why: ``code`` a stable word (the web says it in French or
    English), ``reason`` an English sentence with the details."""

    line: int
    reason: str
    code: str = "bad_row"
    value: str = ""  # the cell at fault, when there is one


@dataclass(frozen=True, slots=True)
class Sheet:
    """What a file holds: its rows, the rows refused, and which columns gave what."""

    rows: list[Row]
    refused: list[Refused]
    used: dict[str, str]  # header as written -> the field it gives
    unused: list[str]  # headers given no use


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """The separator French and English spreadsheets save with (comma, semicolon, tab),
    sniffed from whole lines only (a row cut in half misleads the sniffer); failing
    that, the one the header line holds most of."""
    sample = text[:SNIFF_SAMPLE]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rfind("\n")]
    try:
        return csv.Sniffer().sniff(sample, ",;\t")
    except csv.Error:
        header = text.split("\n", 1)[0]
        counts = {sep: header.count(sep) for sep in ",;\t"}
        dialect = csv.excel()
        dialect.delimiter = (
            max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","
        )
        return dialect


def read_sheet(raw: bytes) -> Sheet:
    """The rows of a CSV file, in file order; blank rows skipped."""
    text = _decode(raw)
    bad = _CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise CsvImportError("this is not text (a control or NUL character): save the sheet "
                             "as CSV", line)  # fmt: skip
    reader = csv.reader(io.StringIO(text), _dialect(text))
    start = 1  # the line the record being read starts on
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise CsvImportError("the file is empty")
        fields = _columns(header)
        used = {header[i].strip(): name for i, name in fields.items()}
        unused = [h.strip() for i, h in enumerate(header) if i not in fields and h.strip()]
        if "text" not in fields.values():
            raise CsvImportError("no column named « constat » (or finding, text, texte)", 1)
        rows: list[Row] = []
        refused: list[Refused] = []
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(rows) + len(refused) >= MAX_ROWS:
                raise CsvImportError(f"more than {MAX_ROWS} rows in one file", line)
            found = _row(line, {name: _cell(cells, i) for i, name in fields.items()})
            if isinstance(found, Refused):
                refused.append(found)
            else:
                rows.append(found)
    except csv.Error as error:  # a field past the csv module's limit, a stray quote...
        raise CsvImportError(f"unreadable CSV ({error})", start) from None
    return Sheet(rows, refused, used, unused)


def _decode(raw: bytes) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise CsvImportError("the file is not valid UTF-16 text") from None
    if raw.startswith(b"PK\x03\x04"):
        raise CsvImportError("this is a spreadsheet (xlsx, ods), not CSV: save it as CSV")
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise CsvImportError("this is not text (a NUL character): save the sheet as CSV",
                             raw.count(b"\n", 0, nul) + 1)  # fmt: skip
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")  # an older spreadsheet's export
    except UnicodeDecodeError:
        raise CsvImportError("the file is neither UTF-8 nor Windows-1252 text") from None


def _columns(header: list[str]) -> dict[int, str]:
    """Which column gives which field (the first column named for it wins)."""
    found: dict[int, str] = {}
    for i, name in enumerate(header):
        plain = _plain(name)
        for key, names in HEADERS.items():
            if plain in names and key not in found.values():
                found[i] = key
                break
    return found


def _row(line: int, cells: dict[str, str]) -> Row | Refused:
    text = cells.get("text", "")
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA:
        text = text[1:]  # the export's guard against spreadsheet formulas
    if not text:
        return Refused(line, "no finding text (the « constat » column is empty)", "empty_text")
    kind = _plain(cells.get("type", ""))
    if kind and kind not in TYPES:
        return Refused(line, f"type « {cells['type'][:40]} » unknown: atout, faiblesse, "
                             "opportunité, menace or idée d'action", "unknown_type",
                       cells["type"][:40])  # fmt: skip
    colour = _plain(cells.get("colour", ""))
    author = cells.get("author", "")
    if TYPES.get(kind) == "idea":
        return Row(line, text, idea=True, author=author)
    return Row(line, text, type=TYPES.get(kind, ""), theme=cells.get("theme", ""),
               source=cells.get("source", ""), indicator=cells.get("indicator", ""),
               ambitions=_ambitions(cells.get("ambitions", "")), author=author,
               colour=colour if colour in COLOURS else "")  # fmt: skip


def _ambitions(cell: str) -> list[str]:
    """Ambition codes from a cell: codes or labels, separated by spaces, commas or semicolons."""
    cell = _plain(cell)
    words = cell.replace(",", " ").replace(";", " ").split()
    return [a for a in AMBITIONS if a in words or _plain(AMBITION_LABELS[a]) in cell]


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", " ".join(text.strip().lower().split()))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("\u2019", "'")


def _cell(cells: list[str], index: int) -> str:
    return cells[index].strip() if index < len(cells) else ""
