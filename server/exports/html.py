"""Print-ready HTML export: no script, no inline style (the CSP forbids both); the look
comes from ``web/print.css``, linked by URL so a downloaded file still finds it.

The record reads as the ODT does (see ``odt.py``): the facts, the cap, the members by
collège, a table of the orientations, a section per orientation, then the method's
points of vigilance with the answers given and, apart, Atelier's own advice.
"""

from html import escape
from typing import Any

from .document import (
    Document,
    ambition_label,
    decision_label,
    finding_line,
    tally_rows,
    type_label,
)

__all__ = ["export"]


def export(doc: Document) -> bytes:
    """The document as one HTML page, ready to print (or save as PDF from the browser)."""
    e = escape
    parts = [
        "<!doctype html>",
        '<html lang="fr"><head><meta charset="utf-8">',
        f"<title>{e(doc.heading)}</title>",
        f'<link rel="stylesheet" href="{e(doc.base_url)}/print.css">',
        "</head><body><main>",
    ]
    if doc.record is not None:
        parts.append('<p class="annex">Annexe à la délibération — orientations stratégiques '
                     "(phase 4 de la démarche Néolab²), arrêtées par l'instance de "
                     "co-décision</p>")  # fmt: skip
    parts += [
        f"<h1>{e(doc.heading)}</h1>",
        '<dl class="facts">',
        *(f"<dt>{e(name)}</dt><dd>{e(value)}</dd>" for name, value in doc.facts()),
        "</dl>",
    ]
    if doc.cap:
        parts.append(f'<section class="cap"><h2>Le cap du territoire</h2>'
                     f'<p class="statement">{e(doc.cap)}</p></section>')  # fmt: skip
    members = doc.members()
    if members:
        parts.append("<section class=\"members\"><h2>Membres présents de l'instance de "
                     "co-décision</h2>")  # fmt: skip
        parts.append(_table(["Collège", "Membres"], [[c, ", ".join(n)] for c, n in members]))
        parts.append("</section>")
    orientations = doc.orientations()
    if orientations:
        parts.append('<section class="summary"><h2>Tableau des orientations</h2>')
        parts.append(_table(
            ["N°", "Orientation", "Décision", "Documents cadres alimentés"],
            [[str(n), o["statement"] or o["title"], decision_label(o["decision"]),
              ", ".join(o["documents"]) or "—"] for n, o in enumerate(orientations, 1)],
        ))  # fmt: skip
        parts.append("</section>")
    for number, o in enumerate(orientations, 1):
        parts += _orientation(doc, number, o)
    waiting = doc.ideas(None)
    if waiting:
        parts.append("<section><h2>Idées d'actions sans orientation (pour la phase 5)</h2>")
        parts.append(_list([f"{i['text']} — {i['author']}" for i in waiting]) + "</section>")
    pool = doc.findings(None)
    if pool:
        parts.append("<section><h2>Constats non rattachés</h2>")
        parts.append(_list([finding_line(n) for n in pool]) + "</section>")
    parts += _vigilance(doc)
    parts.append("</main></body></html>")
    return "\n".join(p for p in parts if p).encode()


def _orientation(doc: Document, number: int, o: dict[str, Any]) -> list[str]:
    e = escape
    parts = [f'<section class="orientation"><h2>{number}. {e(o["title"])}</h2>']
    if o["statement"]:
        parts.append(f'<p class="statement">{e(o["statement"])}</p>')
    decision = o["decision"]
    parts.append(f'<p class="decision">Décision : {e(decision_label(decision))}</p>')
    if decision and decision.get("amendment"):
        parts.append(f'<p class="amendment">Amendement : {e(decision["amendment"])}</p>')
    tally = tally_rows(doc, decision)
    if tally:
        parts.append(_table(["Collège", "Pour", "Contre", "Abstention"],
                            [[c, str(y), str(n), str(a)] for c, y, n, a in tally]))  # fmt: skip
    if o["objections"]:
        parts.append("<h3>Objections et réponses</h3>")
        parts.append(_list([
            x["text"] + (f" ({x['by']})" if x["by"] else "")
            + f" — Réponse : {x['answer'] or 'sans réponse'}" for x in o["objections"]
        ]))  # fmt: skip
    if o["findings"]:
        parts.append("<h3>Constats d'appui</h3>")
        parts.append(_table(["Type", "Constat", "Source", "Indicateur", "Auteur"], [
            [type_label(n.get("type", "")), n["text"], n.get("source", ""),
             n.get("indicator", ""), n["author"]] for n in o["findings"]]))  # fmt: skip
    if o["ambitions"]:
        served = ", ".join(ambition_label(a) for a in o["ambitions"])
        parts.append(f'<p class="meta">Ambitions servies : {e(served)}</p>')
    fed = ", ".join(o["documents"]) or "aucun"
    parts.append(f'<p class="meta">Documents cadres alimentés : {e(fed)}</p>')
    if o["votes"] is not None:
        parts.append(f'<p class="meta">Votes : {o["votes"]}</p>')
    if o["ideas"]:
        parts.append("<h3>Idées d'actions pour la phase 5</h3>")
        parts.append(_list([f"{i['text']} — {i['author']}" for i in o["ideas"]]))
    parts.append("</section>")
    return parts


def _vigilance(doc: Document) -> list[str]:
    e = escape
    method, advice = doc.vigilance()
    parts = []
    if method:
        parts.append('<section class="vigilance"><h2>Points de vigilance de la méthode '
                     "Néolab²</h2>")  # fmt: skip
        for point in method:
            parts.append(f"<h3>{point['number']}. {e(point['title'])}</h3>")
            parts.append(f"<blockquote><p>« {e(point['quote'])} »</p></blockquote>")
            if point["signals"]:
                parts.append('<p class="meta">Signaux relevés par Atelier (des signaux, pas '
                             "des verdicts) :</p>")  # fmt: skip
                parts.append(_list([s["message"] for s in point["signals"]]))
            answer = point["answer"] or "aucune réponse donnée"
            parts.append(f'<p class="answer">Réponse de l\'animation : {e(answer)}</p>')
        parts.append("</section>")
    if advice:
        parts.append("<section class=\"advice\"><h2>Conseils d'Atelier (ils ne viennent pas "
                     "de la méthode)</h2>")  # fmt: skip
        parts.append(_list([c["message"] for c in advice]) + "</section>")
    return parts


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)  # fmt: skip
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _list(texts: list[str]) -> str:
    if not texts:
        return ""
    return "<ul>" + "".join(f"<li>{escape(t)}</li>" for t in texts) + "</ul>"
