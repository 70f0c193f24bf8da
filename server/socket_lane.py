"""The socket lane: a websocket to ``/ws/{workshop_id}`` goes straight to its handler.

Every other request crosses the whole middleware stack and the router. A websocket
needs none of the layers below the request id and the proxy headers (the security
headers, the error pages, the request guard and Starlette's own exception layers all
let websockets through untouched), but each layer it crosses keeps a coroutine frame
alive for as long as the socket is open: a few hundred bytes apiece, on every idle
connection (docs/benchmarks.md, "Idle connections"). Any other websocket path still
goes through the router, which refuses it.
"""

import re
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

__all__ = ["SocketLane"]

#: What Starlette's ``WebSocketRoute("/ws/{workshop_id}")`` matches.
_ROOM_PATH = re.compile(r"/ws/(?P<workshop_id>[^/]+)")


class SocketLane:
    """ASGI middleware: room sockets to ``handler``, everything else to ``app``."""

    def __init__(self, app: ASGIApp, handler: Callable[[WebSocket], Awaitable[None]]) -> None:
        self.app = app
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            match = _ROOM_PATH.fullmatch(_route_path(scope))
            if match is not None:
                scope["path_params"] = match.groupdict()
                await self.handler(WebSocket(scope, receive, send))
                return
        await self.app(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path the router matches: without the root path a proxy may mount us under."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return path
