"""Print-ready HTML export: no script, no inline style (the CSP forbids both); the look
comes from ``web/print.css``, linked by URL so a downloaded file still finds it."""

from html import escape

from .document import Document, ambition_label

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
        f"<h1>{e(doc.heading)}</h1>",
        '<dl class="facts">',
        *(f"<dt>{e(name)}</dt><dd>{e(value)}</dd>" for name, value in doc.facts()),
        "</dl>",
    ]
    for number, o in enumerate(doc.orientations(), 1):
        parts.append(f'<section class="orientation"><h2>{number}. {e(o["title"])}</h2>')
        if o["statement"]:
            parts.append(f'<p class="statement">{e(o["statement"])}</p>')
        if o["ambitions"]:
            served = ", ".join(ambition_label(a) for a in o["ambitions"])
            parts.append(f'<p class="meta">Ambitions servies : {e(served)}</p>')
        if o["votes"] is not None:
            parts.append(f'<p class="meta">Votes : {o["votes"]}</p>')
        parts.append(_list([f"{n['text']} — {n['author']}" for n in o["findings"]]))
        if o["ideas"]:
            parts.append('<p class="meta">Idées d\'actions (phase 5) :</p>')
            parts.append(_list([f"{i['text']} — {i['author']}" for i in o["ideas"]]))
        parts.append("</section>")
    pool = doc.findings(None)
    if pool:
        parts.append("<section><h2>Constats non rattachés</h2>")
        parts.append(_list([f"{n['text']} — {n['author']}" for n in pool]) + "</section>")
    if doc.record is not None and doc.record["vigilance"]:
        parts.append("<section><h2>Points de vigilance</h2>")
        parts.append(_list([c["message"] for c in doc.record["vigilance"]]) + "</section>")
    parts.append("</main></body></html>")
    return "\n".join(p for p in parts if p).encode()


def _list(texts: list[str]) -> str:
    if not texts:
        return ""
    return "<ul>" + "".join(f"<li>{escape(t)}</li>" for t in texts) + "</ul>"
