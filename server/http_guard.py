"""What a state-changing HTTP request must show before it is served.

A page on another site can make a browser send a "simple" cross-origin POST (a form,
or ``fetch`` with ``text/plain``) without asking the server first. So every POST, PUT,
PATCH and DELETE must:

- carry ``Content-Type: application/json``, or a header no simple request can carry:
  ``Authorization`` (every call on an existing workshop sends its link that way) or
  ``X-Atelier-Upload`` (for a file sent as it is); otherwise ``415``;
- if it has an ``Origin`` (browsers always send one on such requests), come from an
  allowed origin: those given with ``--origin``, else the ``--public-url``'s, else the
  request's own host; otherwise ``403``.

Reads (GET, HEAD, OPTIONS) pass untouched.
"""

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from .config import Settings
from .http_errors import error_response

__all__ = ["UPLOAD_HEADER", "RequestGuardMiddleware", "origin_allowed"]

#: The header that marks a raw file upload (any content type) as sent on purpose.
UPLOAD_HEADER = "x-atelier-upload"
_CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PREFLIGHTED = frozenset({b"authorization", UPLOAD_HEADER.encode()})


def origin_allowed(origin: str, host: str | None, settings: Settings) -> bool:
    """Whether a browser on ``origin`` may act here (``host``: the request's Host)."""
    if settings.origins:
        return origin in settings.origins
    return urlsplit(origin).netloc == host


class RequestGuardMiddleware:
    """Refuses state-changing requests that a foreign page could have forged."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _CHANGES:
            await self.app(scope, receive, send)
            return
        headers = {bytes(k): bytes(v).decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get(b"origin")
        if origin is not None and not origin_allowed(origin, headers.get(b"host"), self.settings):
            refusal = error_response(403, "bad_origin", "Requests from this origin are refused.")
            await refusal(scope, receive, send)
            return
        media_type = headers.get(b"content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json" and not _PREFLIGHTED & headers.keys():
            refusal = error_response(
                415, "json_required",
                "Send the body as application/json (or a file with an X-Atelier-Upload header).",
            )  # fmt: skip
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)
