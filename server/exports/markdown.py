"""Markdown export: the orientations with their findings, readable as plain text."""

from .document import Document, ambition_label

__all__ = ["export"]


def export(doc: Document) -> bytes:
    """The document as Markdown (UTF-8)."""
    lines = [f"# {_md(doc.heading)}", ""]
    lines += [f"- **{name}** : {_md(value)}" for name, value in doc.facts()]
    lines.append("")
    for number, o in enumerate(doc.orientations(), 1):
        lines.append(f"## {number}. {_md(o['title'])}")
        lines.append("")
        if o["statement"]:
            lines += [f"> {_md(o['statement'])}", ""]
        if o["ambitions"]:
            served = ", ".join(ambition_label(a) for a in o["ambitions"])
            lines += [f"*Ambitions servies* : {_md(served)}", ""]
        if o["votes"] is not None:
            lines += [f"*Votes* : {o['votes']}", ""]
        lines += [f"- {_md(n['text'])} — {_md(n['author'])}" for n in o["findings"]]
        if o["ideas"]:
            lines += ["", "*Idées d'actions (phase 5)* :"]
            lines += [f"- {_md(i['text'])} — {_md(i['author'])}" for i in o["ideas"]]
        lines.append("")
    pool = doc.findings(None)
    if pool:
        lines += ["## Constats non rattachés", ""]
        lines += [f"- {_md(n['text'])} — {_md(n['author'])}" for n in pool]
        lines.append("")
    if doc.record is not None and doc.record["vigilance"]:
        lines += ["## Points de vigilance", ""]
        lines += [f"- {_md(c['message'])}" for c in doc.record["vigilance"]]
        lines.append("")
    return "\n".join(lines).encode()


def _md(text: str) -> str:
    """Text that Markdown shows as typed: markup characters escaped, one line."""
    text = " ".join(text.split())
    for char in "\\`*_[]<>#|":
        text = text.replace(char, "\\" + char)
    return text
