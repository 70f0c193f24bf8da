"""QR codes of the join links, drawn as SVG by segno, for the facilitator's projector.

The link carries its secret in the fragment, so the browser posts it in a request
body (never a query string, which would land in access logs) and gets the SVG back.
"""

import io

import segno

__all__ = ["MAX_LINK", "check_link", "qr_svg"]

#: The longest link we draw; ours are well under 200 characters.
MAX_LINK = 1000


def check_link(link: object) -> str:
    """``link`` if it is a short http(s) link, else ``ValueError`` (cheap: check first,
    then draw in a worker)."""
    if not isinstance(link, str) or not link.startswith(("http://", "https://")):
        raise ValueError(f"Expected an http(s) link of {MAX_LINK} characters at most.")
    if len(link) > MAX_LINK:
        raise ValueError(f"Expected an http(s) link of {MAX_LINK} characters at most.")
    return link


def qr_svg(link: str) -> bytes:
    """The SVG QR code of ``link``; ``ValueError`` unless it is a short http(s) link."""
    check_link(link)
    # Level M survives a smudged projector screen and keeps the code small enough.
    code = segno.make(link, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=8, border=2, xmldecl=False, dark="#000", light="#fff")
    return out.getvalue()
