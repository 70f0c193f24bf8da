"""Each HTTP request and websocket gets an id, an access log line and its metrics.

A pure ASGI middleware, outermost after the proxy headers: it sees every answer,
errors included, and the real client address. Health checks and scrapes are logged at
DEBUG, everything else at INFO. The path is logged without its query string, and the
metrics are labelled by route template, never by raw path.
"""

import logging
import re
import time
from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logs import bind_request, bind_socket
from .metrics import HTTP_REQUESTS, HTTP_SECONDS

__all__ = ["QUIET_PATHS", "ObserveMiddleware", "route_label"]

log = logging.getLogger("atelier.access")

#: Probes and scrapes: at DEBUG, so they do not drown the lines that matter.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# A proxy's request id (nginx's $request_id) is kept if it looks like one.
_GOOD_ID = re.compile(r"[A-Za-z0-9._\-]{1,64}")


def route_label(scope: Scope, routes: Sequence[BaseRoute] = ()) -> str:
    """The route template that served ``scope`` (or would have, for a request refused
    before routing): a fixed set of values for metrics."""
    route = scope.get("route")
    if route is None:
        route = next((r for r in routes if r.matches(scope)[0] != Match.NONE), None)
    if route is None:
        return "unmatched"
    if isinstance(route, Mount):
        return "static"
    return str(getattr(route, "path", "unmatched"))


class ObserveMiddleware:
    """Binds a request or socket id, logs one line per request, counts and times it."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute] = ()) -> None:
        self.app = app
        self.routes = routes  # to name the route of a request refused before routing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._socket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        inbound = _header(scope, b"x-request-id")
        request_id = bind_request(inbound if inbound and _GOOD_ID.fullmatch(inbound) else None)
        status = 0
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_label(scope, self.routes)
            shown = status or 500  # nothing sent: the server failed before answering
            HTTP_REQUESTS.labels(route, scope["method"], str(shown)).inc()
            HTTP_SECONDS.labels(route).observe(elapsed)
            path = scope["path"]
            level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
            client = scope.get("client")
            fields = {"method": scope["method"], "path": path, "route": route,
                      "status": shown, "ms": round(elapsed * 1000, 1),
                      "client": client[0] if client else None}  # fmt: skip
            log.log(level, "%s %s %d %.1fms from %s", scope["method"], path, shown,
                    elapsed * 1000, fields["client"], extra={"fields": fields})  # fmt: skip

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        bind_socket()
        started = time.perf_counter()
        client = scope.get("client")
        log.debug("websocket %s opened from %s", scope["path"], client[0] if client else None)
        try:
            await self.app(scope, receive, send)
        finally:
            log.debug("websocket %s ended after %.1fs", scope["path"],
                      time.perf_counter() - started)  # fmt: skip


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None
