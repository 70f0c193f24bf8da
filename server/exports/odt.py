"""ODT export (OpenDocument text, the format French public bodies must accept), with odfpy."""

import io

from odf.opendocument import OpenDocumentText
from odf.style import ParagraphProperties, Style, TextProperties
from odf.text import H, List, ListItem, P

from .document import Document, ambition_label

__all__ = ["export"]


def export(doc: Document) -> bytes:
    """The document as an .odt file's bytes."""
    odt = OpenDocumentText()
    styles = _styles(odt)
    body = odt.text
    body.addElement(H(outlinelevel=1, stylename=styles["h1"], text=doc.heading))
    for name, value in doc.facts():
        body.addElement(P(stylename=styles["fact"], text=f"{name} : {value}"))
    for number, o in enumerate(doc.orientations(), 1):
        body.addElement(H(outlinelevel=2, stylename=styles["h2"], text=f"{number}. {o['title']}"))
        if o["statement"]:
            body.addElement(P(stylename=styles["statement"], text=o["statement"]))
        if o["ambitions"]:
            served = ", ".join(ambition_label(a) for a in o["ambitions"])
            body.addElement(P(stylename=styles["meta"], text=f"Ambitions servies : {served}"))
        if o["votes"] is not None:
            body.addElement(P(stylename=styles["meta"], text=f"Votes : {o['votes']}"))
        _items(body, [f"{n['text']} — {n['author']}" for n in o["findings"]])
        if o["ideas"]:
            body.addElement(P(stylename=styles["meta"], text="Idées d'actions (phase 5) :"))
            _items(body, [f"{i['text']} — {i['author']}" for i in o["ideas"]])
    pool = doc.findings(None)
    if pool:
        body.addElement(H(outlinelevel=2, stylename=styles["h2"], text="Constats non rattachés"))
        _items(body, [f"{n['text']} — {n['author']}" for n in pool])
    if doc.record is not None and doc.record["vigilance"]:
        body.addElement(H(outlinelevel=2, stylename=styles["h2"], text="Points de vigilance"))
        _items(body, [c["message"] for c in doc.record["vigilance"]])
    out = io.BytesIO()
    odt.write(out)
    return out.getvalue()


def _items(body: object, texts: list[str]) -> None:
    if not texts:
        return
    items = List()
    for text in texts:
        item = ListItem()
        item.addElement(P(text=text))
        items.addElement(item)
    body.addElement(items)  # type: ignore[attr-defined]


def _styles(odt: OpenDocumentText) -> dict[str, Style]:
    """Named paragraph styles, so the file reads well and restyles in one place."""
    made = {}
    for name, size, weight, italic in (
        ("h1", "18pt", "bold", False),
        ("h2", "14pt", "bold", False),
        ("statement", "12pt", "bold", True),
        ("meta", "10pt", "normal", True),
        ("fact", "10pt", "normal", False),
    ):
        style = Style(name=f"Atelier {name}", family="paragraph")
        style.addElement(
            TextProperties(fontsize=size, fontweight=weight,
                           fontstyle="italic" if italic else "normal")
        )  # fmt: skip
        style.addElement(ParagraphProperties(margintop="0.2cm", marginbottom="0.1cm"))
        odt.styles.addElement(style)
        made[name] = style
    return made
