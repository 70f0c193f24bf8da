"""A whole phase-4 session through the protocol on a real server (issue 11's "Must show"):
the diagnostic's import, the members, a consent round with one objection, a vote by
collège, the cap, the documents fed, the vigilance answers and the freeze; then the
record, field by field, in JSON, in the ODT (parsed with odfpy) and in the HTML, and
the hand-off to phase 5."""

import csv
import datetime
import io
import zoneinfo
from html.parser import HTMLParser
from typing import Any

import orjson
from odf import teletype
from odf.opendocument import load
from odf.table import Table, TableCell, TableRow
from odf.text import H, P

from .flowclient import FlowClient, api, create_workshop, flow_client, state
from .support import ServerProcess
from .test_imports import DIAGNOSTIC

ORIENTATIONS = [
    ("o1", "Coopération des entreprises",
     "Faire de la coopération des entreprises un moteur de l'économie locale"),
    ("o2", "Emploi de qualité",
     "Améliorer la qualité de l'emploi et le bien-être au travail"),
    ("o3", "Littoral et climat", "Adapter l'économie du littoral au changement climatique"),
]  # fmt: skip

ANSWERS = {
    "actions": "Les idées d'actions sont mises de côté pour la phase 5.",
    "ess": "Les trois orientations engagent les entreprises et l'emploi.",
    "documents": "Le SCoT en révision et le PCAET reprendront les orientations.",
}

TALLY = [{"college": "elus", "for": 3, "against": 1, "abstain": 0},
         {"college": "habitants", "for": 2, "against": 0, "abstain": 1}]  # fmt: skip


async def ack(client: FlowClient, op: dict[str, Any]) -> dict[str, Any]:
    answer = await client.op(op)
    assert answer["type"] == "ack", (op, answer)
    return answer


async def play_session(server: ServerProcess, ws: dict[str, Any]) -> dict[str, Any]:
    """The session, as a facilitator and two participants play it; the freeze's event."""
    fac = flow_client(server, ws, "facilitator", name="Fanny")
    ana, bob = flow_client(server, ws, name="Ana"), flow_client(server, ws, name="Bob")
    for c in (fac, ana, bob):
        await c.connect()
    try:
        imported = api(server, ws, "facilitator", "POST", "/import",
                       content=DIAGNOSTIC.encode("cp1252")).json()  # fmt: skip
        assert imported["added"] == 5
        await fac.wait_for(lambda: fac.board["seq"] >= imported["seq"], what="the import")
        notes = {n["text"]: n["id"] for n in fac.board["notes"].values()}
        idea = state(server, ws)["ideas"][0]["id"]
        # the session's place and day, and the instance: one member typed in, one taken
        # from the participants who joined (the presence frames name them)
        await ack(fac, {"kind": "meeting.set", "place": "Salle du conseil, Crozon",
                        "date": "2025-03-14", "timezone": "Europe/Paris"})  # fmt: skip

        def participants() -> list[str]:
            return [u["name"] for f in fac.frames if f["type"] == "presence"
                    for u in f["users"] if u["role"] == "participant"]  # fmt: skip

        await fac.wait_for(lambda: bool(participants()), what="a participant in presence")
        joined = sorted(participants())[0]
        await ack(fac, {"kind": "member.set", "id": "m1", "name": "Marie Le Gall",
                        "college": "elus"})  # fmt: skip
        await ack(fac, {"kind": "member.set", "id": "m2", "name": joined, "college": "habitants"})
        # the orientations, their grounds and the documents they feed
        for cid, title, statement in ORIENTATIONS:
            await ack(fac, {"kind": "column.add", "id": cid, "title": title})
            await ack(fac, {"kind": "column.state", "id": cid, "statement": statement})
        for text, column, ambitions in (
            ("Tissu dense de TPE artisanales", "o1", ["ancrage"]),
            ("Emplois saisonniers précaires", "o2", ["travail"]),
            ("Projet de SCoT en révision", "o1", ["transition"]),
            ("Recul du trait de côte", "o3", ["transition", "consommation"]),
        ):
            await ack(ana, {"kind": "note.move", "id": notes[text], "column": column})
            await ack(bob, {"kind": "note.edit", "id": notes[text], "ambitions": ambitions})
        await ack(fac, {"kind": "idea.move", "id": idea, "column": "o1"})
        await ack(ana, {"kind": "idea.add", "id": "i-ana", "column": "o2",
                        "text": "Un groupement d'employeurs saisonniers"})  # fmt: skip
        await ack(fac, {"kind": "column.documents", "id": "o1", "documents": ["scot", "plui"],
                        "others": []})  # fmt: skip
        await ack(fac, {"kind": "column.documents", "id": "o2", "documents": ["projet_territoire"],
                        "others": ["Contrat local de santé"]})  # fmt: skip
        await ack(fac, {"kind": "column.documents", "id": "o3", "documents": ["pcaet"],
                        "others": []})  # fmt: skip
        await ack(fac, {"kind": "cap.set", "text": "Une économie de la presqu'île qui emploie "
                        "à l'année et tient compte de son littoral."})  # fmt: skip
        # a dot vote, revealed
        await ack(fac, {"kind": "tools.set", "voting": True, "budget": 2})
        for who, column in ((ana, "o1"), (ana, "o2"), (bob, "o1")):
            await ack(who, {"kind": "vote.add", "column": column})
        await ack(fac, {"kind": "votes.reveal"})
        # a consent round on o1 with one objection, answered; a vote by collège on o2
        await ack(fac, {"kind": "objection.add", "id": "ob1", "column": "o1",
                        "text": "« Entreprises » oublie les exploitations agricoles",
                        "by": "Marie Le Gall"})  # fmt: skip
        await fac.wait_for(
            lambda: any(c["code"] == "objection_unanswered" for c in fac.vigilance or []),
            what="the objection",
        )
        open_before = [c for c in fac.vigilance or [] if c.get("open")
                       or c["code"] == "objection_unanswered"]  # fmt: skip
        assert [c.get("point", c.get("objection")) for c in open_before] == [
            "actions",
            "ess",
            "documents",
            "ob1",
        ]  # what the freeze dialog lists
        await ack(
            fac,
            {
                "kind": "objection.answer",
                "id": "ob1",
                "answer": "Les exploitations sont des entreprises : précisé à l'oral.",
            },
        )
        await ack(fac, {"kind": "decision.set", "column": "o1", "decision": {
            "outcome": "adoptee", "method": "consent"}})  # fmt: skip
        await ack(fac, {"kind": "decision.set", "column": "o2", "decision": {
            "outcome": "amendee", "method": "vote", "amendment": "Ajouter « à l'année ».",
            "tally": TALLY}})  # fmt: skip
        await ack(fac, {"kind": "decision.set", "column": "o3", "decision": {
            "outcome": "ajournee", "method": "consent"}})  # fmt: skip
        for point, text in ANSWERS.items():
            await ack(fac, {"kind": "vigilance.answer", "point": point, "text": text})
        await fac.wait_for(lambda: not [c for c in fac.vigilance or [] if c.get("open")],
                           what="every point answered")  # fmt: skip
        await ack(fac, {"kind": "freeze"})
        return fac.flow[-1]["op"]
    finally:
        for c in (fac, ana, bob):
            await c.close()


def check_json_record(record: dict[str, Any], freeze: dict[str, Any]) -> None:
    """The record, field by field."""
    assert record["meeting"] == {"place": "Salle du conseil, Crozon", "date": "2025-03-14",
                                 "timezone": "Europe/Paris"}  # fmt: skip
    assert record["date"] == "2025-03-14"
    local = datetime.datetime.fromtimestamp(freeze["at"] / 1000, zoneinfo.ZoneInfo("Europe/Paris"))
    assert record["frozen_at"] == local.isoformat(timespec="seconds")
    assert record["members"] == [
        {"college": "elus", "label": "Élus", "names": ["Marie Le Gall"]},
        {"college": "habitants", "label": "Habitants", "names": ["Ana"]}]  # fmt: skip
    assert record["cap"].startswith("Une économie de la presqu'île")
    assert record["facilitator"] == "Fanny" and record["devices"] == 2
    assert record["hash"] == freeze["hash"]
    o1, o2, o3 = record["orientations"]
    assert [o["title"] for o in (o1, o2, o3)] == [t for _, t, _ in ORIENTATIONS]
    assert o1["statement"] == ORIENTATIONS[0][2]
    assert o1["decision"] == {"outcome": "adoptee", "method": "consent", "amendment": "",
                              "tally": []}  # fmt: skip
    assert o1["objections"] == [{"id": "ob1", "text": "« Entreprises » oublie les exploitations "
                                 "agricoles", "by": "Marie Le Gall", "answer": "Les exploitations"
                                 " sont des entreprises : précisé à l'oral."}]  # fmt: skip
    assert [(f["text"], f["type"], f["source"], f["indicator"], f["author"], f["imported"])
            for f in o1["findings"]] == [
        ("Tissu dense de TPE artisanales", "atout", "CCI 2023", "412 entreprises", "Diagnostic",
         True),
        ("Projet de SCoT en révision", "opportunite", "PETR", "", "Diagnostic", True),
    ]  # fmt: skip
    assert o1["ambitions"] == ["ancrage", "transition"] and o1["documents"] == ["scot", "plui"]
    assert o1["votes"] == 2 and [i["text"] for i in o1["ideas"]] == ["Créer une ressourcerie"]
    assert o2["decision"] == {"outcome": "amendee", "method": "vote",
                              "amendment": "Ajouter « à l'année ».", "tally": TALLY}  # fmt: skip
    assert o2["findings"][0]["type"] == "faiblesse" and o2["findings"][0]["source"] == "INSEE"
    assert o2["others"] == ["Contrat local de santé"] and o2["votes"] == 1
    assert [i["author"] for i in o2["ideas"]] == ["Ana"]
    assert o3["decision"]["outcome"] == "ajournee" and o3["documents"] == ["pcaet"]
    method = [c for c in record["vigilance"] if c["source"] == "method"]
    assert {c["point"]: c["answer"] for c in method} == ANSWERS
    assert all(c["quote"] and not c["open"] for c in method)
    assert record["open"] == {"points": [], "objections": []}
    assert record["unsorted"] == [] and record["ideas"] == []


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.texts: dict[str, list[str]] = {}
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self.stack and data.strip():
            self.texts.setdefault(self.stack[-1], []).append(data.strip())


def odt_parts(raw: bytes) -> tuple[list[str], list[str], list[list[list[str]]], set[str]]:
    """The ODT's headings, paragraphs, tables (rows of cells) and paragraph style names."""
    doc = load(io.BytesIO(raw))
    headings = [teletype.extractText(h) for h in doc.getElementsByType(H)]
    paragraphs = [teletype.extractText(p) for p in doc.getElementsByType(P)]
    tables = [[[teletype.extractText(c) for c in row.getElementsByType(TableCell)]
               for row in table.getElementsByType(TableRow)]
              for table in doc.getElementsByType(Table)]  # fmt: skip
    styles = {str(h.getAttribute("stylename")) for h in doc.getElementsByType(H)}
    return headings, paragraphs, tables, styles


async def test_a_whole_phase_four_session_makes_the_record_a_council_can_annex(
    server: ServerProcess,
) -> None:
    """Played through the protocol, the session's record holds every field, in the JSON,
    the ODT and the HTML; the hand-off gives one draft action sheet per parked idea."""
    ws = create_workshop(server, "Presqu'île de Crozon",
                         territory="Communauté de communes Presqu'île de Crozon")  # fmt: skip
    freeze = await play_session(server, ws)

    stored = api(server, ws, "observer", "GET", "/snapshots/record").json()
    check_json_record(stored["record"], freeze)
    exported = orjson.loads(api(server, ws, "observer", "GET",
                                "/export.json?snapshot=record").content)  # fmt: skip
    assert exported["record"] == stored["record"]
    assert exported["workshop"]["territory"] == "Communauté de communes Presqu'île de Crozon"

    odt = api(server, ws, "observer", "GET", "/export.odt?snapshot=record")
    assert odt.status_code == 200
    headings, paragraphs, tables, styles = odt_parts(odt.content)
    assert {"Heading_20_1", "Heading_20_2", "Heading_20_3"} <= styles
    assert paragraphs[0].startswith("Annexe à la délibération")
    for heading in ("Presqu'île de Crozon — Relevé officiel", "Le cap du territoire",
                    "Membres présents de l'instance de co-décision", "Tableau des orientations",
                    "1. Coopération des entreprises", "Objections et réponses",
                    "Constats d'appui", "Points de vigilance de la méthode Néolab²",
                    "1. Ne pas passer trop vite aux actions"):  # fmt: skip
        assert heading in headings, heading
    facts = dict(row for row in tables[0] if len(row) == 2)
    assert facts["Territoire"] == "Communauté de communes Presqu'île de Crozon"
    assert facts["Lieu"] == "Salle du conseil, Crozon"
    assert facts["Date de la séance"] == "14/03/2025"
    assert facts["Gelé le"].endswith("(Europe/Paris)") and facts["Empreinte SHA-256"] == freeze[
        "hash"]  # fmt: skip
    members = next(t for t in tables if t[0] == ["Collège", "Membres"])
    assert members[1:] == [["Élus", "Marie Le Gall"], ["Habitants", "Ana"]]
    summary = next(t for t in tables if t[0][:3] == ["N°", "Orientation", "Décision"])
    assert [row[2] for row in summary[1:]] == [
        "Adoptée (par consentement)", "Adoptée avec amendement (par vote)",
        "Ajournée (par consentement)"]  # fmt: skip
    assert summary[2][3] == "5 pour, 1 contre, 1 abst." and summary[1][4] == "SCoT, PLUi"
    tally = next(t for t in tables if t[0] == ["Collège", "Pour", "Contre", "Abstention"])
    assert tally[1:] == [["Élus", "3", "1", "0"], ["Habitants", "2", "0", "1"]]
    grounds = next(t for t in tables if t[0] == ["Type", "Constat", "Source", "Indicateur"])
    assert grounds[1] == ["Atout", "Tissu dense de TPE artisanales", "CCI 2023", "412 entreprises"]
    text = "\n".join(paragraphs)
    assert "« Entreprises » oublie les exploitations agricoles (Marie Le Gall) — Réponse : " in text
    assert "Prendre le temps de réaliser cette phase" in text
    for answer in ANSWERS.values():
        assert f"Réponse de l'animation : {answer}" in text

    html = api(server, ws, "observer", "GET", "/export.html?snapshot=record")
    page = _Html()
    page.feed(html.content.decode())
    assert "script" not in page.tags and "style" not in page.tags
    assert "Tableau des orientations" in page.texts["h2"]
    assert "Le cap du territoire" in page.texts["h2"]
    cells = page.texts["td"]
    for needle in ("Marie Le Gall", "Adoptée avec amendement (par vote)", "Projet de territoire, "
                   "Contrat local de santé", "Atout", "CCI 2023", "412 entreprises"):  # fmt: skip
        assert needle in cells, needle
    assert any("Prendre le temps de réaliser" in q for q in page.texts["p"])
    assert f"Réponse de l'animation : {ANSWERS['ess']}" in page.texts["p"]
    assert "Amendement : Ajouter « à l'année »." in page.texts["p"]

    sheets = api(server, ws, "observer", "GET", "/export.actions.csv?snapshot=record")
    rows = list(csv.DictReader(io.StringIO(sheets.content.decode("utf-8-sig"))))
    assert [(r["titre"], r["orientation"], r["statut"]) for r in rows] == [
        ("Créer une ressourcerie", ORIENTATIONS[0][2], "à venir"),
        ("Un groupement d'employeurs saisonniers", ORIENTATIONS[1][2], "à venir")]  # fmt: skip
    assert rows[0]["ambitions"] == "L'ancrage territorial ; L'engagement du tissu économique " \
                                   "dans la transition écologique"  # fmt: skip
    plan = api(server, ws, "observer", "GET", "/export.actions.odt?snapshot=record")
    headings, _, tables, _ = odt_parts(plan.content)
    assert headings[1:] == ["Créer une ressourcerie", "Un groupement d'employeurs saisonniers"]
    assert ["Statut", "à venir"] in tables[0] and ["Orientation", ORIENTATIONS[0][2]] in tables[0]
    assert state(server, ws)["frozen"] is not None
