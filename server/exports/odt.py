"""ODT export (OpenDocument text, the format French public bodies must accept), with odfpy.

The official record is laid out as an annex to a deliberation: a heading naming it so,
the session's facts, « le cap du territoire », the members present by collège, a table
of the orientations and their decisions, one section per orientation (statement,
decision and votes, objections and answers, grounding findings, documents fed, ideas
for phase 5), then the method's points of vigilance with the answers given and, apart,
Atelier's own advice. Every paragraph has a named style (Heading 1-3 are the standard
heading styles, so word processors list them in their navigator), and tables have
bordered cells, so the file restyles in one place and prints cleanly.
"""

import io
from typing import Any

from odf.opendocument import OpenDocumentText
from odf.style import (
    ParagraphProperties,
    Style,
    TableCellProperties,
    TableColumnProperties,
    TableProperties,
    TextProperties,
)
from odf.table import Table, TableCell, TableColumn, TableRow
from odf.text import H, List, ListItem, P

from .document import (
    Document,
    ambition_label,
    decision_label,
    finding_line,
    tally_rows,
    type_label,
)

__all__ = ["export", "export_actions"]


class _Writer:
    """Builds one ODT document with Atelier's styles."""

    def __init__(self) -> None:
        self.odt = OpenDocumentText()
        self.body = self.odt.text
        self.styles = _styles(self.odt)
        self._tables = 0

    def heading(self, level: int, text: str) -> None:
        self.body.addElement(H(outlinelevel=level, stylename=self.styles[f"h{level}"], text=text))

    def para(self, text: str, style: str = "body") -> None:
        self.body.addElement(P(stylename=self.styles[style], text=text))

    def items(self, texts: list[str]) -> None:
        if not texts:
            return
        items = List()
        for text in texts:
            item = ListItem()
            item.addElement(P(stylename=self.styles["body"], text=text))
            items.addElement(item)
        self.body.addElement(items)

    def table(self, header: list[str] | None, rows: list[list[str]], widths: list[float]) -> None:
        """A bordered table, with a header row unless ``header`` is None; ``widths`` in cm."""
        self._tables += 1
        name = f"Tableau{self._tables}"
        table = Table(name=name, stylename=self.styles["table"])
        for i, width in enumerate(widths):
            column = Style(name=f"{name}.{i}", family="table-column")
            column.addElement(TableColumnProperties(columnwidth=f"{width}cm"))
            self.odt.automaticstyles.addElement(column)
            table.addElement(TableColumn(stylename=column))
        lines = [(r, "td") for r in rows]
        for values, style in [(header, "th"), *lines] if header is not None else lines:
            row = TableRow()
            for value in values:
                cell = TableCell(stylename=self.styles["cell"], valuetype="string")
                cell.addElement(P(stylename=self.styles[style], text=value))
                row.addElement(cell)
            table.addElement(row)
        self.body.addElement(table)

    def bytes(self) -> bytes:
        out = io.BytesIO()
        self.odt.write(out)
        return out.getvalue()


def export(doc: Document) -> bytes:
    """The document as an .odt file's bytes (laid out as an annex for the record)."""
    w = _Writer()
    if doc.record is not None:
        w.para("Annexe à la délibération — orientations stratégiques (phase 4 de la démarche "
               "Néolab²), arrêtées par l'instance de co-décision", "annex")  # fmt: skip
    w.heading(1, doc.heading)
    w.table(None, [[name, value] for name, value in doc.facts()], [5, 12])
    if doc.cap:
        w.heading(2, "Le cap du territoire")
        w.para(doc.cap, "statement")
    members = doc.members()
    if members:
        w.heading(2, "Membres présents de l'instance de co-décision")
        w.table(["Collège", "Membres"], [[label, ", ".join(names)] for label, names in members],
                [5, 12])  # fmt: skip
    orientations = doc.orientations()
    if orientations:
        w.heading(2, "Tableau des orientations")
        w.table(
            ["N°", "Orientation", "Décision", "Votes", "Documents cadres alimentés"],
            [[str(n), o["statement"] or o["title"], decision_label(o["decision"]),
              _votes(doc, o), ", ".join(o["documents"]) or "—"]
             for n, o in enumerate(orientations, 1)],
            [1, 7, 3.5, 2.5, 3],
        )  # fmt: skip
    for number, o in enumerate(orientations, 1):
        _orientation(w, doc, number, o)
    waiting = doc.ideas(None)
    if waiting:
        w.heading(2, "Idées d'actions sans orientation (pour la phase 5)")
        w.items([f"{i['text']} — {i['author']}" for i in waiting])
    pool = doc.findings(None)
    if pool:
        w.heading(2, "Constats non rattachés")
        w.items([finding_line(n) for n in pool])
    _vigilance(w, doc)
    return w.bytes()


def export_actions(doc: Document) -> bytes:
    """Phase 5's first action plan: one draft action sheet per parked idea."""
    w = _Writer()
    w.heading(1, f"{doc.title} — Plan d'actions : premières fiches")
    w.para("Fiches à compléter en phase 5 (plan d'actions, modalités d'engagement et de "
           "suivi), à partir des idées d'actions mises de côté en phase 4.", "meta")  # fmt: skip
    for sheet in doc.action_sheets():
        w.heading(2, sheet["title"])
        w.table(None, [
            ["Orientation", sheet["orientation"] or "À rattacher"],
            ["Ambition(s)", ", ".join(sheet["ambitions"]) or "—"],
            ["Statut", sheet["status"]],
            ["Proposée par", sheet["author"]],
            ["Porteur", ""], ["Partenaires", ""], ["Calendrier", ""],
            ["Indicateurs de suivi", ""],
        ], [5, 12])  # fmt: skip
    return w.bytes()


def _orientation(w: _Writer, doc: Document, number: int, o: dict[str, Any]) -> None:
    w.heading(2, f"{number}. {o['title']}")
    if o["statement"]:
        w.para(o["statement"], "statement")
    decision = o["decision"]
    w.para(f"Décision : {decision_label(decision)}", "meta")
    if decision and decision.get("amendment"):
        w.para(f"Amendement : {decision['amendment']}", "body")
    tally = tally_rows(doc, decision)
    if tally:
        rows = [[label, str(y), str(n), str(a)] for label, y, n, a in tally]
        w.table(["Collège", "Pour", "Contre", "Abstention"], rows, [8, 3, 3, 3])
    if o["objections"]:
        w.heading(3, "Objections et réponses")
        w.items([
            f"{x['text']}" + (f" ({x['by']})" if x["by"] else "")
            + f" — Réponse : {x['answer'] or 'sans réponse'}"
            for x in o["objections"]
        ])  # fmt: skip
    if o["findings"]:
        w.heading(3, "Constats d'appui")
        w.table(["Type", "Constat", "Source", "Indicateur"],
                [[type_label(n.get("type", "")), n["text"], n.get("source", ""),
                  n.get("indicator", "")] for n in o["findings"]], [2.5, 8, 3.5, 3])  # fmt: skip
    if o["ambitions"]:
        served = ", ".join(ambition_label(a) for a in o["ambitions"])
        w.para(f"Ambitions servies : {served}", "meta")
    w.para(f"Documents cadres alimentés : {', '.join(o['documents']) or 'aucun'}", "meta")
    if o["votes"] is not None:
        w.para(f"Votes : {o['votes']}", "meta")
    if o["ideas"]:
        w.heading(3, "Idées d'actions pour la phase 5")
        w.items([f"{i['text']} — {i['author']}" for i in o["ideas"]])


def _vigilance(w: _Writer, doc: Document) -> None:
    method, advice = doc.vigilance()
    if method:
        w.heading(2, "Points de vigilance de la méthode Néolab²")
        for point in method:
            w.heading(3, f"{point['number']}. {point['title']}")
            w.para(f"« {point['quote']} »", "quote")
            if point["signals"]:
                w.para("Signaux relevés par Atelier (des signaux, pas des verdicts) :", "meta")
                w.items([s["message"] for s in point["signals"]])
            w.para(f"Réponse de l'animation : {point['answer'] or 'aucune réponse donnée'}")
    if advice:
        w.heading(2, "Conseils d'Atelier (ils ne viennent pas de la méthode)")
        w.items([c["message"] for c in advice])


def _votes(doc: Document, o: dict[str, Any]) -> str:
    tally = tally_rows(doc, o["decision"])
    if tally:
        yes, no, abstain = (sum(row[1] for row in tally), sum(row[2] for row in tally),
                            sum(row[3] for row in tally))  # fmt: skip
        return f"{yes} pour, {no} contre, {abstain} abst."
    return "—" if o["votes"] is None else f"{o['votes']} point(s)"


def _styles(odt: OpenDocumentText) -> dict[str, Style]:
    """Named paragraph styles and the table styles, so the file restyles in one place."""
    made: dict[str, Style] = {}
    paragraphs = (
        # key, style name, display name, size, weight, italic, outline level
        ("h1", "Heading_20_1", "Heading 1", "17pt", "bold", False, 1),
        ("h2", "Heading_20_2", "Heading 2", "13.5pt", "bold", False, 2),
        ("h3", "Heading_20_3", "Heading 3", "11.5pt", "bold", False, 3),
        ("body", "Atelier_20_Texte", "Atelier Texte", "10.5pt", "normal", False, 0),
        ("statement", "Atelier_20_Enonce", "Atelier Énoncé", "11pt", "bold", True, 0),
        ("meta", "Atelier_20_Mention", "Atelier Mention", "9.5pt", "normal", True, 0),
        ("quote", "Atelier_20_Citation", "Atelier Citation", "10pt", "normal", True, 0),
        ("annex", "Atelier_20_Annexe", "Atelier Annexe", "9.5pt", "bold", False, 0),
        ("th", "Atelier_20_Entete", "Atelier Entête de tableau", "9.5pt", "bold", False, 0),
        ("td", "Atelier_20_Cellule", "Atelier Cellule", "9.5pt", "normal", False, 0),
    )
    for key, name, display, size, weight, italic, level in paragraphs:
        style = Style(name=name, displayname=display, family="paragraph")
        if level:
            style.setAttribute("defaultoutlinelevel", str(level))
        style.addElement(TextProperties(fontsize=size, fontweight=weight,
                                        fontstyle="italic" if italic else "normal"))  # fmt: skip
        margin = "0.05cm" if key in ("th", "td") else "0.15cm"
        indent = "1cm" if key == "quote" else "0cm"
        style.addElement(ParagraphProperties(margintop=margin, marginbottom=margin,
                                             marginleft=indent, marginright=indent))  # fmt: skip
        odt.styles.addElement(style)
        made[key] = style
    table = Style(name="Atelier_20_Tableau", displayname="Atelier Tableau", family="table")
    table.addElement(TableProperties(width="17cm", align="left"))
    odt.automaticstyles.addElement(table)
    cell = Style(name="Atelier_20_Case", displayname="Atelier Case", family="table-cell")
    cell.addElement(TableCellProperties(border="0.5pt solid #000000", padding="0.1cm"))
    odt.automaticstyles.addElement(cell)
    made["table"], made["cell"] = table, cell
    return made
