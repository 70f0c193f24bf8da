"""Exports open in the tools that read them; JSON re-imports to the same board; CSV findings
import; a frozen workshop reopens as a new version that links back."""

import csv
import io
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import orjson
from atelier.rooms.model import content_hash
from odf import teletype
from odf.opendocument import load
from odf.text import H, P

from .flowclient import FlowClient, api, flow_client, state
from .support import ServerProcess
from .test_snapshots import any_server

__all__ = ["any_server"]  # a fixture: each backend


def without_seq(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k != "seq"}


async def workshop_session(server: ServerProcess, ws: dict[str, Any]) -> FlowClient:
    """A short phase 4: two orientations, findings, a statement, an idea, a revealed vote."""
    fac = flow_client(server, ws, "facilitator", name="Fanny")
    ana = flow_client(server, ws, name="Ana")
    await fac.connect()
    await ana.connect()
    for who, op in (
        (fac, {"kind": "column.add", "id": "c1", "title": "Coopération des acteurs"}),
        (fac, {"kind": "column.add", "id": "c2", "title": "Économie = inclusive, \"locale\""}),
        (ana, {"kind": "note.add", "id": "n1", "text": "Peu de liens entre entreprises",
               "column": "c1", "ambitions": ["ancrage", "transition"]}),
        (ana, {"kind": "note.add", "id": "n2", "text": "=SOMME(A1:A2) <b>pas du HTML</b>",
               "column": "c2", "colour": "pink"}),
        (ana, {"kind": "note.add", "id": "n3", "text": "Constat ; non trié, avec \"guillemets\""}),
        (fac, {"kind": "column.state", "id": "c1",
               "statement": "Faire de la coopération un moteur"}),
        (ana, {"kind": "idea.add", "id": "i1", "column": "c1", "text": "Un club d'entreprises"}),
        (fac, {"kind": "tools.set", "voting": True, "budget": 2}),
        (ana, {"kind": "vote.add", "column": "c1"}),
        (fac, {"kind": "reveal"}),
        (fac, {"kind": "phase.next"}),
    ):  # fmt: skip
        assert (await who.op(op))["type"] == "ack", op
    await ana.close()
    return fac


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def odt_text(raw: bytes) -> str:
    doc = load(io.BytesIO(raw))
    parts = [teletype.extractText(e) for e in doc.getElementsByType(H)]
    parts += [teletype.extractText(e) for e in doc.getElementsByType(P)]
    return "\n".join(parts)


async def test_every_export_opens(server: ServerProcess, tmp_path: Path) -> None:
    """JSON, Markdown, CSV, ODT and HTML of the board and of a snapshot open and hold it all."""
    ws = server.create_workshop("Presqu'île")
    fac = await workshop_session(server, ws)
    await fac.close()
    snap = fac.flow[-1]["op"]["snapshot"]
    for query in ("", f"?snapshot={snap}"):
        got = {fmt: api(server, ws, "participant", "GET", f"/export.{fmt}{query}")
               for fmt in ("json", "md", "csv", "odt", "html")}  # fmt: skip
        assert all(r.status_code == 200 for r in got.values())
        assert "attachment" in got["odt"].headers["content-disposition"]

        data = orjson.loads(got["json"].content)
        assert data["format"] == "atelier-board" and data["state"]["votes"]["counts"] == {"c1": 1}

        rows = list(csv.DictReader(io.StringIO(got["csv"].content.decode("utf-8-sig"))))
        assert {r["id"]: r["type"] for r in rows} == {"n1": "", "n2": "", "n3": "",
                                                      "i1": "Idée d'action"}  # fmt: skip
        n1 = next(r for r in rows if r["id"] == "n1")
        assert n1["orientation"] == "Coopération des acteurs"
        assert n1["ambitions"] == "ancrage transition" and n1["auteur"] == "Ana"
        assert next(r for r in rows if r["id"] == "n2")["constat"].startswith("'=SOMME")
        assert next(r for r in rows if r["id"] == "n3")["orientation"] == ""

        text = odt_text(got["odt"].content)
        for needle in (
            "Coopération des acteurs",
            "Faire de la coopération un moteur",
            "Peu de liens entre entreprises",
            "Un club d'entreprises",
            "Votes : 1",
        ):
            assert needle in text, needle  # fmt: skip

        page = _Html()
        page.feed(got["html"].content.decode())
        assert not [t for t, a in page.tags if t in ("script", "style") or "style" in a]
        links = [a["href"] for t, a in page.tags if t == "link"]
        assert links == [f"{server.base}/print.css"]
        assert "=SOMME(A1:A2) <b>pas du HTML</b>" in page.text  # one cell, text as typed
        assert "b" not in [t for t, _ in page.tags]

        md = got["md"].content.decode()
        assert "## 1. Coopération des acteurs" in md and "> Faire de la coopération" in md
        assert "\\<b\\>" in md  # markup typed by someone stays text
    css = httpx.get(f"{server.base}/print.css", timeout=5)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    soffice = shutil.which("libreoffice") or shutil.which("soffice")
    if soffice:  # not installed here; where it is, the ODT must convert too
        (tmp_path / "board.odt").write_bytes(got["odt"].content)
        subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                        str(tmp_path / "board.odt")], check=True, timeout=120)  # fmt: skip
        assert (tmp_path / "board.pdf").read_bytes().startswith(b"%PDF")


async def test_json_export_reimports_to_an_identical_board(any_server: ServerProcess) -> None:
    """A JSON export imported as a new workshop gives the same board, hash and all (on
    either backend)."""
    server = any_server
    ws = server.create_workshop("Presqu'île")
    await (await workshop_session(server, ws)).close()
    exported = api(server, ws, "observer", "GET", "/export.json").content
    response = httpx.post(
        f"{server.base}/api/workshops/import",
        content=exported,
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    created["secrets"] = {r: link.split("#k=")[1] for r, link in created["links"].items()}
    assert created["title"] == "Presqu'île" and created["id"] != ws["id"]
    original, copy = state(server, ws), state(server, created)
    assert without_seq(copy) == without_seq(original)
    assert content_hash(copy) == content_hash(original)
    # and it is a live workshop: it takes ops
    ana = flow_client(server, created, name="Ana")
    await ana.connect()
    assert (await ana.op({"kind": "note.move", "id": "n3", "column": "c2"}))["type"] == "ack"
    await ana.close()
    bad = httpx.post(
        f"{server.base}/api/workshops/import",
        content=b'{"format": "x"}',
        headers={"content-type": "application/json"},
        timeout=5,
    )
    assert bad.status_code == 400 and bad.json()["error"] == "bad_export"


async def test_freeze_keeps_the_record_and_reopen_makes_a_linked_version(
    any_server: ServerProcess,
) -> None:
    """The record is stored with its hash and exports; reopening copies the frozen board
    into a new, editable workshop whose ``previous`` names the frozen one (either backend)."""
    server = any_server
    ws = server.create_workshop("Presqu'île")
    fac = await workshop_session(server, ws)
    assert api(server, ws, "facilitator", "POST", "/reopen").status_code == 409  # not frozen
    assert (await fac.op({"kind": "freeze"}))["type"] == "ack"
    freeze = fac.flow[-1]["op"]
    await fac.close()
    record = api(server, ws, "observer", "GET", "/snapshots/record").json()
    assert record["hash"] == freeze["hash"] == content_hash(record["state"])
    assert content_hash(state(server, ws)) == freeze["hash"]
    official = record["record"]
    assert [o["title"] for o in official["orientations"]] == [
        "Coopération des acteurs", 'Économie = inclusive, "locale"']  # fmt: skip
    assert official["orientations"][0]["statement"] == "Faire de la coopération un moteur"
    assert official["orientations"][0]["ambitions"] == ["ancrage", "transition"]
    assert official["votes"] == {"c1": 1} and official["facilitator"] == "Fanny"
    assert official["devices"] == 1
    assert "orientation_without_statement" in {c["code"] for c in official["vigilance"]}
    assert official["open"]["points"] == ["actions", "ess", "documents"]
    odt = api(server, ws, "observer", "GET", "/export.odt?snapshot=record")
    assert "Relevé officiel" in odt_text(odt.content) and freeze["hash"] in odt_text(odt.content)
    data = orjson.loads(api(server, ws, "observer", "GET", "/export.json?snapshot=record").content)
    assert data["record"]["hash"] == freeze["hash"]

    assert api(server, ws, "participant", "POST", "/reopen").status_code == 403
    response = api(server, ws, "facilitator", "POST", "/reopen")
    assert response.status_code == 201
    created = response.json()
    created["secrets"] = {r: link.split("#k=")[1] for r, link in created["links"].items()}
    assert created["previous"] == ws["id"]
    again = api(server, created, "observer", "GET", "").json()
    assert again["previous"] == ws["id"] and again["state"]["frozen"] is None
    old = state(server, ws)
    assert again["state"]["notes"] == old["notes"] and again["state"]["columns"] == old["columns"]
    ana = flow_client(server, created, name="Ana")
    await ana.connect()
    assert (await ana.op({"kind": "note.delete", "id": "n3"}))["type"] == "ack"
    await ana.close()
    assert "n3" in [n["id"] for n in state(server, ws)["notes"]]  # the frozen one is untouched


async def test_csv_findings_import_into_the_pool(server: ServerProcess) -> None:
    """A diagnostic's CSV (semicolons, accents, labels for ambitions) lands as pool notes,
    for the facilitator only."""
    ws = server.create_workshop()
    fac = flow_client(server, ws, "facilitator")
    await fac.connect()
    sheet = ("Constat;Ambitions;Auteur\n"
             "Peu de commerces en centre-bourg;ancrage;Diagnostic 2024\n"
             ";;\n"
             "Emplois saisonniers précaires;Un monde du travail respectueux du bien-être des "
             "individus, consommation;\n").encode("cp1252")  # fmt: skip
    assert api(server, ws, "participant", "POST", "/import", content=sheet).status_code == 403
    response = api(server, ws, "facilitator", "POST", "/import", content=sheet)
    assert response.status_code == 200, response.text
    assert response.json()["added"] == 2 and response.json()["rejected"] == []
    assert response.json()["refused"] == []
    await fac.wait_for(lambda: len(fac.board["notes"]) == 2, what="the imported notes")
    notes = sorted(state(server, ws)["notes"], key=lambda n: n["pos"])
    assert [(n["text"], n["ambitions"], n["author"], n["column"]) for n in notes] == [
        ("Peu de commerces en centre-bourg", ["ancrage"], "Diagnostic 2024", None),
        ("Emplois saisonniers précaires", ["travail", "consommation"], "Diagnostic", None),
    ]
    bad = api(server, ws, "facilitator", "POST", "/import", content=b"a,b\n1,2\n")
    assert bad.status_code == 400 and bad.json()["error"] == "bad_csv"
    await fac.close()
