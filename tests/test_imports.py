"""Imports checked like live ops (issues 11 and 12): a diagnostic's CSV with its report
before the facilitator confirms, bad files answered 400 with the line and the reason,
and a board's JSON export replayed with the room's limits."""

import codecs
from typing import Any

import httpx
import orjson
import pytest
from atelier.exports.csv_import import MAX_ROWS, CsvImportError, read_sheet
from atelier.imports import BoardImportError, board_from_export, plan_csv
from atelier.rooms.model import Board
from atelier.rooms.ops import RoomLimits
from fractional_indexing import generate_n_keys_between

from .flowclient import api, create_workshop, flow_client, state
from .support import ServerProcess

#: A diagnostic as a French spreadsheet saves it: semicolons, accents, AFOM types, an
#: action idea, a column Atelier does not use, and two rows it cannot take.
DIAGNOSTIC = (
    "Constat;Type;Thème;Source;Indicateur;Commentaire;Auteur\n"
    "Tissu dense de TPE artisanales;Atout;Économie;CCI 2023;412 entreprises;à vérifier;\n"
    "Emplois saisonniers précaires;Faiblesse;Emploi;INSEE;38 % de CDD;;Cabinet Ouest\n"
    "Projet de SCoT en révision;Opportunité;Urbanisme;PETR;;;\n"
    ";Menace;Climat;DREAL;;ligne sans constat;\n"
    "Fermeture de la conserverie;Danger;Industrie;Presse;;;\n"
    "Recul du trait de côte;Menace;Climat;DREAL;2 m par an;;\n"
    "Créer une ressourcerie;Idée d'action;;;;;Atelier citoyen\n"
)


def test_a_french_diagnostic_maps_its_columns_and_reports_what_it_leaves() -> None:
    """French headers map to the finding's fields; the unknown column is reported unused;
    a row without text and a row of unknown type are refused with their line and why;
    the « idée d'action » row is an idea."""
    sheet = read_sheet(DIAGNOSTIC.encode("cp1252"))
    assert sheet.used == {"Constat": "text", "Type": "type", "Thème": "theme",
                          "Source": "source", "Indicateur": "indicator",
                          "Auteur": "author"}  # fmt: skip
    assert sheet.unused == ["Commentaire"]
    assert [(r.line, r.reason) for r in sheet.refused] == [
        (5, "no finding text (the « constat » column is empty)"),
        (6, "type « Danger » unknown: atout, faiblesse, opportunité, menace or idée d'action"),
    ]
    first, second = sheet.rows[0], sheet.rows[1]
    assert (first.line, first.type, first.theme, first.source, first.indicator) == (
        2, "atout", "Économie", "CCI 2023", "412 entreprises")  # fmt: skip
    assert second.author == "Cabinet Ouest" and second.type == "faiblesse"
    idea = sheet.rows[-1]
    assert idea.idea and idea.text == "Créer une ressourcerie" and idea.line == 8


def test_english_headers_and_utf16_read_alike() -> None:
    """English headers (Finding, Strength, Threat, Action idea) and a UTF-16 « Unicode
    text » file read as the French one does."""
    sheet = ("Finding\tType\tTheme\tSource\tIndicator\tAuthor\n"
             "Strong farming sector\tStrength\tFarming\tAgreste\t310 farms\tCounty\n"
             "Coastal erosion\tThreat\tClimate\t\t\t\n"
             "A shared cold store\tAction idea\t\t\t\t\n")  # fmt: skip
    for raw in (sheet.encode(), codecs.BOM_UTF16_LE + sheet.encode("utf-16-le")):
        read = read_sheet(raw)
        assert [(r.type, r.idea) for r in read.rows] == [
            ("atout", False), ("menace", False), ("", True)]  # fmt: skip
        assert read.unused == [] and read.refused == []


@pytest.mark.parametrize(
    ("raw", "line", "reason"),
    [
        (b"", None, "the file is empty"),
        (b"Titre;Auteur\nx;y\n", 1, "no column named"),
        (b"Constat\nun\ndeux \x00 trois\n", 3, "NUL character"),
        (b"PK\x03\x04\x14\x00\x06\x00binary", None, "spreadsheet (xlsx, ods)"),
        (b"Constat\nun\nd\x01eux\n", 3, "control or NUL"),
        (b"Constat\n" + b"x" * 140_000 + b"\n", 2, "field larger than field limit"),
        (b'Constat\n"ouvert\n' + b"y" * 140_000, 2, "field larger than field limit"),
        (b"Constat\n" + b"ligne\n" * (MAX_ROWS + 1), MAX_ROWS + 2, "more than 2000"),
        (b"Constat\n\x81\x8d\x8f\x90\x9d\xff\xfe", None, "neither UTF-8 nor Windows-1252"),
    ],
    ids=["empty", "no-text-column", "nul", "xlsx", "control", "huge-field", "open-quote",
         "too-many-rows", "not-text"],
)  # fmt: skip
def test_a_bad_file_names_its_line_and_reason(raw: bytes, line: int | None, reason: str) -> None:
    """A file that cannot be read raises CsvImportError with the line and the reason."""
    with pytest.raises(CsvImportError) as caught:
        read_sheet(raw)
    assert caught.value.line == line and reason in caught.value.reason


def test_the_plan_refuses_rows_the_room_would_refuse_with_their_line() -> None:
    """Rows are checked as ops: text over the limit, an author too long, a board already
    full each refuse their row (with the line); the board itself is left as it was."""
    sheet = ("Constat;Auteur\n"
             f"{'t' * 1001};\n"
             f"Bien;{'a' * 41}\n"
             "Un;\nDeux;\nTrois;\n")  # fmt: skip
    board = Board.new()
    before = board.to_dict(tombstones=True)
    plan = plan_csv(sheet.encode(), board, client="import-x", limits=RoomLimits(notes=2))
    report = plan.report()
    assert [(r["line"], r["reason"]) for r in report["refused"]] == [
        (2, "'text' is longer than 1000 characters."),
        (3, "An author must be 1 to 40 characters."),
        (6, "This board already holds 2 notes."),
    ]
    assert report["findings"] == 2 and report["ideas"] == 0
    assert [p.author for p in plan.planned] == ["Diagnostic", "Diagnostic"]
    assert board.to_dict(tombstones=True) == before
    records = plan.records("import-x", 7)
    assert [(r.client, r.cop, r.role, r.op["imported"]) for r in records] == [
        ("import-x", 1, "import", True), ("import-x", 2, "import", True)]  # fmt: skip


def _export(**state: Any) -> dict[str, Any]:
    base = {"seq": 0, "phase": 4, "first_phase": 4, "columns": [], "notes": [], "ideas": []}
    return {"format": "atelier-board", "version": 1, "workshop": {"title": "T"},
            "state": {**base, **state}}  # fmt: skip


def _notes(count: int, **extra: Any) -> list[dict[str, Any]]:
    keys = generate_n_keys_between(None, None, count)
    return [{"id": f"n{i}", "text": "x", "author": "Ana", "colour": "yellow", "ambitions": [],
             "column": None, "pos": keys[i], **extra} for i in range(count)]  # fmt: skip


def _columns(count: int) -> list[dict[str, Any]]:
    keys = generate_n_keys_between(None, None, count)
    return [{"id": f"c{i}", "title": f"O{i}", "pos": keys[i]} for i in range(count)]


#: Boards no live room could hold, each with what the refusal must say.
OVER_LIMITS: list[tuple[str, dict[str, Any], str]] = [
    ("30,000 notes", _export(notes=_notes(30_000)), "30000 notes: a board here holds at most 5000"),
    ("200 columns", _export(columns=_columns(200)), "200 columns: a board here holds at most 30"),
    ("a 2 MB idea", _export(ideas=[{"id": "i1", "column": None, "text": "x" * 2_000_000,
                                     "author": "Ana"}]),
     "idea 'i1': 'text' is longer than 1000 characters."),
    ("a 1,000-character author", _export(notes=_notes(1, author="A" * 1000)),
     "note 'n0': An author must be 1 to 40 characters."),
    ("a note in no column", _export(notes=_notes(1, column="ghost")),
     "note 'n0': There is no column 'ghost' on this board."),
    ("two notes at one position", _export(notes=[*_notes(1), {**_notes(1)[0], "id": "n9"}]),
     "note 'n9': An imported item must come after those before it."),
    ("a 300-character title", {**_export(), "workshop": {"title": "t" * 300}},
     "The workshop's title is longer than 200 characters."),
    ("phase 9", _export(phase=9), "The phase must be 1 to 5"),
    ("a NUL in a statement", _export(columns=_columns(1), orientations=[
        {"id": "c0", "statement": "a\x00b", "locked": False}]),
     "column 'c0': 'statement' must not contain NUL characters."),
]  # fmt: skip


@pytest.mark.parametrize(("data", "reason"), [(d, r) for _, d, r in OVER_LIMITS],
                         ids=[name for name, _, _ in OVER_LIMITS])  # fmt: skip
def test_a_board_import_is_refused_where_a_live_room_would_refuse(
    data: dict[str, Any], reason: str
) -> None:
    """Replayed as ops with the room's limits, a board no room could hold is refused,
    naming the first part that does not fit and why."""
    with pytest.raises(BoardImportError) as caught:
        board_from_export(data)
    assert reason in str(caught.value)


async def test_csv_import_previews_then_commits_on_a_real_server(server: ServerProcess) -> None:
    """POST …/import?preview=1 reports (unused column, refused rows with line and reason)
    and commits nothing; without it the same rows land: findings typed in the pool,
    signed « Diagnostic » or the file's author and marked imported, the idea under no
    orientation."""
    ws = create_workshop(server)
    raw = DIAGNOSTIC.encode("cp1252")
    preview = api(server, ws, "facilitator", "POST", "/import?preview=1", content=raw)
    assert preview.status_code == 200, preview.text
    report = preview.json()
    assert report["preview"] is True and report["columns"]["unused"] == ["Commentaire"]
    assert (report["findings"], report["ideas"]) == (4, 1)
    assert [r["line"] for r in report["refused"]] == [5, 6]
    assert state(server, ws)["notes"] == []
    assert api(server, ws, "participant", "POST", "/import?preview=1",
               content=raw).status_code == 403  # fmt: skip
    fac = flow_client(server, ws, "facilitator")
    await fac.connect()
    try:
        done = api(server, ws, "facilitator", "POST", "/import", content=raw)
        assert done.status_code == 200, done.text
        body = done.json()
        assert (body["preview"], body["added"], body["rejected"]) == (False, 5, [])
        assert body["refused"] == report["refused"]
        await fac.wait_for(lambda: fac.board["seq"] >= body["seq"], what="the import")
    finally:
        await fac.close()
    seen = state(server, ws)
    notes = sorted(seen["notes"], key=lambda n: n["pos"])
    assert [(n["text"], n.get("type"), n["author"], n.get("imported")) for n in notes] == [
        ("Tissu dense de TPE artisanales", "atout", "Diagnostic", True),
        ("Emplois saisonniers précaires", "faiblesse", "Cabinet Ouest", True),
        ("Projet de SCoT en révision", "opportunite", "Diagnostic", True),
        ("Recul du trait de côte", "menace", "Diagnostic", True),
    ]  # fmt: skip
    assert notes[1]["indicator"] == "38 % de CDD" and notes[1]["source"] == "INSEE"
    assert [(i["text"], i["column"], i["author"], i.get("imported")) for i in seen["ideas"]] == [
        ("Créer une ressourcerie", None, "Atelier citoyen", True)]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "line", "reason"),
    [
        (b"Constat\nun\ndeux \x00 trois\n", 3, "NUL character"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 3, "NUL character"),
        (b"Constat\n" + b"x" * 140_000 + b"\n", 2, "field larger than field limit"),
        (b"Constat\n" + b"l\n" * (MAX_ROWS + 1), MAX_ROWS + 2, "more than 2000 rows"),
    ],
    ids=["nul", "binary", "huge-field", "too-many-rows"],
)  # fmt: skip
def test_a_bad_csv_is_a_400_with_its_line_and_reason(
    server: ServerProcess, raw: bytes, line: int, reason: str
) -> None:
    """Over HTTP, each bad file answers 400 bad_csv naming the line and the reason, never a
    500, and the board is unchanged."""
    ws = create_workshop(server)
    for path in ("/import?preview=1", "/import"):
        answer = api(server, ws, "facilitator", "POST", path, content=raw)
        assert answer.status_code == 400, answer.text
        body = answer.json()
        assert (body["error"], body["line"]) == ("bad_csv", line) and reason in body["reason"]
        assert f"Line {line}" in body["message"]
    assert state(server, ws)["notes"] == []


def test_board_imports_over_the_limits_are_400s_on_a_real_server(server: ServerProcess) -> None:
    """POST /api/workshops/import answers 400 bad_export with the reason for each board no
    room could hold; a fitting one makes a workshop."""
    for name, data, reason in OVER_LIMITS[:4]:
        raw = orjson.dumps(data)
        answer = httpx.post(f"{server.base}/api/workshops/import", content=raw, timeout=30,
                            headers={"content-type": "application/json"})  # fmt: skip
        assert answer.status_code == 400, (name, answer.text)
        assert answer.json()["error"] == "bad_export" and reason in answer.json()["message"]
    fits = _export(notes=_notes(3), columns=_columns(2))
    made = httpx.post(f"{server.base}/api/workshops/import", content=orjson.dumps(fits),
                      headers={"content-type": "application/json"},
                      timeout=30)  # fmt: skip
    assert made.status_code == 201, made.text


def test_long_findings_in_a_semicolon_file_are_read_with_their_separator() -> None:
    """Rows of ~600 characters: the separator is sniffed from whole lines (a sample cut in
    the middle of a row once made the file read as comma-separated)."""
    rows = ["constat;type;thème"]
    rows += [f"{'Un constat très long ' * 30}{n};atout;emploi" for n in range(40)]
    sheet = read_sheet("\n".join(rows).encode())
    assert len(sheet.rows) == 40 and sheet.used["thème"] == "theme" and not sheet.refused
