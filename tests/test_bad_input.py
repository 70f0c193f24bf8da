"""Untrusted input over a real socket: each bad frame gets its error and changes nothing."""

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets
from atelier.app import create_app
from atelier.backends import Backends
from atelier.backends.base import CommitResult, OpRecord
from atelier.backends.memory import MemoryBus
from atelier.backends.sqlite import SqliteStore
from atelier.config import Settings
from atelier.protocol import MAX_FRAME

from .support import Client, ServerProcess, free_port, served_here
from .test_room_live import client, server_state

BAD_FRAMES: list[tuple[str, str]] = [
    ("this is not json", "bad_json"),
    ('["an", "array"]', "bad_frame"),
    ('{"type": "teleport"}', "unknown_type"),
    ('{"type": "op", "op": {"kind": "note.delete", "id": "n1"}}', "missing_field"),
    ('{"type": "op", "cop": "two", "op": {"kind": "note.delete", "id": "n1"}}', "bad_field"),
    ('{"type": "join", "v": 1, "token": "x", "client": "c", "name": "again"}', "already_joined"),
]

BAD_OPS: list[tuple[dict[str, Any], str]] = [
    ({"kind": "note.add", "id": "n2", "text": 42}, "bad_field"),
    ({"kind": "note.add", "id": "n2"}, "missing_field"),
    ({"kind": "note.add", "id": "n2", "text": "x" * 1001}, "too_long"),
    ({"kind": "note.move", "id": "ghost", "column": None}, "unknown_note"),
    ({"kind": "note.move", "id": "n1", "column": "ghost"}, "unknown_column"),
    ({"kind": "note.edit", "id": "n1", "colour": "chartreuse"}, "bad_field"),
    ({"kind": "column.rename", "id": "ghost", "title": "x"}, "unknown_column"),
    ({"kind": "note.add", "id": "n1", "text": "same id"}, "id_taken"),
]


async def joined(server: ServerProcess) -> tuple[dict[str, Any], Client]:
    workshop = server.create_workshop(shaping=True)
    c = client(server, workshop)
    await c.connect()
    assert (await c.op({"kind": "column.add", "id": "c1", "title": "A"}))["type"] == "ack"
    assert (await c.op({"kind": "note.add", "id": "n1", "text": "x"}))["type"] == "ack"
    return workshop, c


async def test_each_bad_frame_gets_a_named_error_and_changes_nothing(
    server: ServerProcess,
) -> None:
    """Malformed frames: an error frame with the problem's code; board and socket kept."""
    workshop, c = await joined(server)
    before = server_state(server, workshop)
    for raw, code in BAD_FRAMES:
        count = len(c.frames)
        await c.send_raw(raw)
        await c.wait_for(lambda count=count: len(c.frames) > count, what=code)
        error = c.frames[-1]
        assert error["type"] == "error" and error["code"] == code and error["message"]
    assert server_state(server, workshop) == before
    assert (await c.op({"kind": "note.add", "id": "ok", "text": "still fine"}))["type"] == "ack"
    await c.close()


async def test_each_bad_op_is_rejected_and_changes_nothing(server: ServerProcess) -> None:
    """Bad ops: a reject naming the problem, carrying the cop; board and socket kept."""
    workshop, c = await joined(server)
    before = server_state(server, workshop)
    for op, code in BAD_OPS:
        c.validate = False  # some of these break the schema on purpose
        answer = await c.op(op)
        c.validate = True
        assert answer["type"] == "reject" and answer["code"] == code and answer["message"]
    after = server_state(server, workshop)
    assert after["notes"] == before["notes"] and after["columns"] == before["columns"]
    assert (await c.op({"kind": "note.add", "id": "ok", "text": "still fine"}))["type"] == "ack"
    await c.close()


async def test_an_oversized_frame_closes_with_1009(server: ServerProcess) -> None:
    """A frame over 64 KiB closes that socket with 1009; the board and the room go on."""
    workshop, c = await joined(server)
    other = client(server, workshop)
    await other.connect()
    before = server_state(server, workshop)
    huge = orjson.dumps({"type": "op", "cop": 9, "op": {"kind": "note.add", "id": "big",
                         "text": "x" * (MAX_FRAME + 10)}}).decode()  # fmt: skip
    await c.send_raw(huge)
    await asyncio.wait_for(c._reader, 10)
    assert isinstance(c.closed, websockets.ConnectionClosed)
    assert c.closed.rcvd is not None and c.closed.rcvd.code == 1009
    assert server_state(server, workshop) == before
    assert (await other.op({"kind": "note.add", "id": "n9", "text": "ok"}))["type"] == "ack"
    await other.close()


async def test_repeated_abuse_closes_with_1008(server: ServerProcess) -> None:
    """A socket that keeps sending garbage is closed with 1008, others unaffected."""
    workshop, c = await joined(server)
    other = client(server, workshop)
    await other.connect()
    for _ in range(25):
        try:
            await c.send_raw("garbage")
        except websockets.ConnectionClosed:
            break
    await asyncio.wait_for(c._reader, 10)
    assert c.closed.rcvd.code == 1008
    assert (await other.op({"kind": "note.add", "id": "n9", "text": "ok"}))["type"] == "ack"
    await other.close()


async def test_a_wrong_link_is_refused(server: ServerProcess) -> None:
    """A token that is not one of the workshop's links gets an error and a 1008 close."""
    workshop = server.create_workshop()
    c = Client(server.ws_base, workshop["id"], "not-the-secret")
    with pytest.raises((ConnectionError, TimeoutError)):
        await c.connect()
    assert c.frames[-1]["code"] == "bad_link"
    assert c.closed.rcvd.code == 1008


async def test_an_observer_cannot_edit(server: ServerProcess) -> None:
    """An observer's op is rejected as forbidden and changes nothing."""
    workshop = server.create_workshop()
    c = client(server, workshop, role="observer")
    await c.connect()
    answer = await c.op({"kind": "note.add", "id": "n1", "text": "x"})
    assert answer["type"] == "reject" and answer["code"] == "forbidden"
    assert server_state(server, workshop)["notes"] == []
    await c.close()


async def test_a_cross_site_websocket_is_refused(server: ServerProcess) -> None:
    """A browser on another origin cannot open the workshop's socket."""
    workshop = server.create_workshop()
    url = f"{server.ws_base}/ws/{workshop['id']}"
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(url, origin="https://evil.example")  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403
    same = await websockets.connect(url, origin=server.base)  # type: ignore[arg-type]
    await same.close()


async def test_a_websocket_to_any_other_path_is_refused(server: ServerProcess) -> None:
    """Only /ws/{workshop_id} takes sockets (server/socket_lane.py): a longer path, an
    empty id or another path are refused at the handshake; the room's own path opens."""
    workshop = server.create_workshop()
    for path in (f"/ws/{workshop['id']}/more", "/ws/", "/ws", "/api/workshops", "/w/x"):
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(f"{server.ws_base}{path}")
        assert refused.value.response.status_code == 403, path
    opened = await websockets.connect(f"{server.ws_base}/ws/{workshop['id']}")
    await opened.close()


class FaultyStore(SqliteStore):
    """The real SQLite store, with one fault injected: a note saying 'boom' crashes."""

    def submit(
        self, workshop_id: str, records: list[OpRecord]
    ) -> "asyncio.Future[list[CommitResult]]":
        if any(record.op.get("text") == "boom" for record in records):
            raise RuntimeError("injected fault")  # a bug: a real store's submit never raises
        return super().submit(workshop_id, records)


@pytest.fixture
async def faulty_server(tmp_path: Path) -> AsyncIterator[str]:
    """A real uvicorn server on a free port, in this process, over the faulty backend."""
    port = free_port()
    settings = Settings(port=port, data=tmp_path)
    app = create_app(settings, Backends(FaultyStore(tmp_path), MemoryBus()))
    async with served_here(app, port) as address:
        yield address


async def test_an_unexpected_error_closes_only_that_socket_with_1011(
    faulty_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A server bug closes the one socket with 1011, logs the traceback; the room goes on."""
    async with httpx.AsyncClient() as http:
        workshop = (await http.post(f"http://{faulty_server}/api/workshops", json={})).json()
    secret = workshop["links"]["participant"].split("#k=")[1]
    victim = Client(f"ws://{faulty_server}", workshop["id"], secret)
    bystander = Client(f"ws://{faulty_server}", workshop["id"], secret)
    await victim.connect()
    await bystander.connect()
    with caplog.at_level(logging.ERROR, logger="atelier.ws"):
        await victim.send_op({"kind": "note.add", "id": "b", "text": "boom"})
        await asyncio.wait_for(victim._reader, 10)
    assert victim.closed.rcvd.code == 1011
    failure = next(r for r in caplog.records if r.name == "atelier.ws")
    assert failure.exc_info is not None and "injected fault" in str(failure.exc_info[1])
    assert (await bystander.op({"kind": "note.add", "id": "n", "text": "ok"}))["type"] == "ack"
    await bystander.close()
