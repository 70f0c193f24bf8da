"""The socket lane (server/socket_lane.py): a room's websocket goes straight to its
handler, under a proxy's root path too; anything else goes on to the app."""

from typing import Any

import pytest
from atelier.socket_lane import SocketLane
from starlette.websockets import WebSocket

pytestmark = pytest.mark.pure


async def _route(path: str, root_path: str = "") -> tuple[list[str], list[str]]:
    handled: list[str] = []
    passed: list[str] = []

    async def handler(ws: WebSocket) -> None:
        handled.append(ws.path_params["workshop_id"])

    async def app(scope: Any, receive: Any, send: Any) -> None:
        passed.append(scope["path"])

    async def nothing() -> Any:
        return {}

    async def ignore(message: Any) -> None:
        return None

    scope = {"type": "websocket", "path": path, "root_path": root_path, "headers": []}
    await SocketLane(app, handler)(scope, nothing, ignore)
    return handled, passed


async def test_a_room_socket_reaches_its_handler() -> None:
    assert await _route("/ws/Ab3_x") == (["Ab3_x"], [])


async def test_under_a_root_path_too() -> None:
    assert await _route("/atelier/ws/Ab3_x", root_path="/atelier") == (["Ab3_x"], [])


@pytest.mark.parametrize("path", ["/ws/", "/ws", "/ws/a/b", "/api/workshops", "/wsx/a"])
async def test_any_other_path_goes_on_to_the_app(path: str) -> None:
    assert await _route(path) == ([], [path])
