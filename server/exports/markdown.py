"""Markdown export: the record's parts, readable as plain text."""

from typing import Any

from .document import Document, ambition_label, decision_label, finding_line, tally_rows

__all__ = ["export"]


def export(doc: Document) -> bytes:
    """The document as Markdown (UTF-8)."""
    lines = [f"# {_md(doc.heading)}", ""]
    lines += [f"- **{name}** : {_md(value)}" for name, value in doc.facts()]
    lines.append("")
    if doc.cap:
        lines += ["## Le cap du territoire", "", f"> {_md(doc.cap)}", ""]
    members = doc.members()
    if members:
        lines += ["## Membres présents de l'instance de co-décision", ""]
        lines += [f"- **{_md(label)}** : {_md(', '.join(names))}" for label, names in members]
        lines.append("")
    for number, o in enumerate(doc.orientations(), 1):
        lines += _orientation(doc, number, o)
    waiting = doc.ideas(None)
    if waiting:
        lines += ["## Idées d'actions sans orientation (pour la phase 5)", ""]
        lines += [f"- {_md(i['text'])} — {_md(i['author'])}" for i in waiting]
        lines.append("")
    pool = doc.findings(None)
    if pool:
        lines += ["## Constats non rattachés", ""]
        lines += [f"- {_md(finding_line(n))}" for n in pool]
        lines.append("")
    method, advice = doc.vigilance()
    if method:
        lines += ["## Points de vigilance de la méthode Néolab²", ""]
        for point in method:
            lines += [f"### {point['number']}. {_md(point['title'])}", "",
                      f"> « {_md(point['quote'])} »", ""]  # fmt: skip
            lines += [f"- Signal d'Atelier : {_md(s['message'])}" for s in point["signals"]]
            answer = point["answer"] or "aucune réponse donnée"
            lines += [f"- **Réponse de l'animation** : {_md(answer)}", ""]
    if advice:
        lines += ["## Conseils d'Atelier (ils ne viennent pas de la méthode)", ""]
        lines += [f"- {_md(c['message'])}" for c in advice]
        lines.append("")
    return "\n".join(lines).encode()


def _orientation(doc: Document, number: int, o: dict[str, Any]) -> list[str]:
    lines = [f"## {number}. {_md(o['title'])}", ""]
    if o["statement"]:
        lines += [f"> {_md(o['statement'])}", ""]
    lines += [f"*Décision* : {_md(decision_label(o['decision']))}", ""]
    if o["decision"] and o["decision"].get("amendment"):
        lines += [f"*Amendement* : {_md(o['decision']['amendment'])}", ""]
    for label, yes, no, abstain in tally_rows(doc, o["decision"]):
        lines.append(f"- {_md(label)} : {yes} pour, {no} contre, {abstain} abstention(s)")
    for x in o["objections"]:
        by = f" ({_md(x['by'])})" if x["by"] else ""
        lines.append(f"- Objection{by} : {_md(x['text'])} — Réponse : "
                     f"{_md(x['answer'] or 'sans réponse')}")  # fmt: skip
    if o["ambitions"]:
        served = ", ".join(ambition_label(a) for a in o["ambitions"])
        lines += ["", f"*Ambitions servies* : {_md(served)}"]
    lines += ["", f"*Documents cadres alimentés* : {_md(', '.join(o['documents']) or 'aucun')}"]
    if o["votes"] is not None:
        lines += ["", f"*Votes* : {o['votes']}"]
    lines.append("")
    if o["findings"]:
        lines += ["*Constats d'appui* :", ""]
        lines += [f"- {_md(finding_line(n))}" for n in o["findings"]]
    if o["ideas"]:
        lines += ["", "*Idées d'actions (phase 5)* :"]
        lines += [f"- {_md(i['text'])} — {_md(i['author'])}" for i in o["ideas"]]
    lines.append("")
    return lines


def _md(text: str) -> str:
    """Text that Markdown shows as typed: markup characters escaped, one line."""
    text = " ".join(text.split())
    for char in "\\`*_[]<>#|":
        text = text.replace(char, "\\" + char)
    return text
