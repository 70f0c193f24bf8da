"""Every HTTP error answer, and the one place where failures become answers.

A backend outage (``BackendError``: Redis unreachable, the disk refusing a write) is
not the server's bug: every route answers ``503`` with ``Retry-After`` and a JSON body,
so a proxy or a browser tries again. Storage at its floor (``StorageFullError``: the
free-disk floor or Redis's headroom reached) answers ``507 storage_full``, with a
longer ``Retry-After``: it will not pass in seconds. A heavy-work pool that is full answers ``429``
(this workshop or address has enough under way) or ``503`` (the whole process is busy).
Refusals for over-use are held :data:`REFUSAL_DELAY` before they are sent, so that a
client asking again in a loop is slowed, as a flooding socket is.
Anything else is a bug: ``500`` with a JSON body and the request id, the traceback in
the log only.
"""

import asyncio
import logging

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .backends.base import BackendError, StorageFullError
from .logs import REQUEST_ID
from .workers import PoolBusyError, WorkerError

__all__ = ["REFUSAL_DELAY", "RETRY_AFTER", "ErrorMiddleware", "HttpError", "error_response"]

log = logging.getLogger(__name__)

#: Seconds a client is asked to wait after a 503 (a Redis restart takes a few).
RETRY_AFTER = 5
#: Seconds a refusal for over-use (429, and 503 ``busy``) is held before it is sent. A
#: client that asks again as soon as it is refused (a script in a loop, deaf to
#: Retry-After) then asks twice a second per connection, not thousands of times: each
#: refusal still costs the event loop every room waits on a fraction of a millisecond
#: (the abuse benchmark's QR flood: 4,700 refusals a second took 0.8 core).
REFUSAL_DELAY = 0.5


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The JSON error every route answers: ``{"error": code, "message": message}``."""
    return JSONResponse({"error": code, "message": message}, status, headers)


class HttpError(Exception):
    """An answer decided deep in a handler (a body too large, a rate limit): raise it."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def _answer_for(error: Exception) -> JSONResponse:
    if isinstance(error, HttpError):
        return error_response(error.status, error.code, error.message, error.headers)
    if isinstance(error, StorageFullError):  # before BackendError: it is one
        log.warning("storage full: %s", error)
        return error_response(507, "storage_full", str(error), {"retry-after": "60"})
    if isinstance(error, BackendError):
        log.warning("storage unavailable: %s", error)
        return error_response(503, "unavailable", "Storage is unavailable; try again shortly.",
                              {"retry-after": str(RETRY_AFTER)})  # fmt: skip
    if isinstance(error, PoolBusyError):
        if error.scope == "key":
            return error_response(429, "busy", "This is already being prepared; wait a moment.",
                                  {"retry-after": "2"})  # fmt: skip
        return error_response(503, "busy", "The server is busy; try again shortly.",
                              {"retry-after": "2"})  # fmt: skip
    if isinstance(error, WorkerError):
        log.error("a worker process died: %s", error)
        return error_response(503, "unavailable", "The job failed; try again.",
                              {"retry-after": "2"})  # fmt: skip
    log.exception("unhandled error")
    return error_response(500, "internal", f"Internal error (request {REQUEST_ID.get()}).")


class ErrorMiddleware:
    """Turns an exception raised while answering an HTTP request into a JSON answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as error:
            if started:  # too late for another answer: the connection is cut short
                log.exception("failed while sending a response")
                raise
            response = _answer_for(error)
            if response.status_code == 429 or isinstance(error, PoolBusyError):
                await asyncio.sleep(REFUSAL_DELAY)  # a loop that asks again at once: slowed
            await response(scope, receive, send)
