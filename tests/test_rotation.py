"""The rotation race: a link replaced while its room is still loading must not leave a
socket that joined with the old link open, nor have its edits acknowledged.

The room's load is held at a gate (the real SQLite store, with one wait injected), so
the replacement lands exactly in the window the audit found: after the join passed the
link check, before the socket was in the room."""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets
from atelier.app import create_app
from atelier.backends import Backends
from atelier.backends.memory import MemoryBus
from atelier.backends.sqlite import SqliteStore
from atelier.config import Settings

from .support import Client, ServerProcess, free_port, served_here, server_state


class GatedStore(SqliteStore):
    """The real SQLite store; loading a room's checkpoint waits while the gate is shut."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.gate = asyncio.Event()
        self.gate.set()
        self.loading = asyncio.Event()

    async def load_checkpoint(self, workshop_id: str) -> tuple[int, dict[str, Any]] | None:
        self.loading.set()
        await self.gate.wait()
        return await super().load_checkpoint(workshop_id)


@pytest.fixture
async def gated(tmp_path: Path) -> AsyncIterator[tuple[str, GatedStore]]:
    """A real uvicorn server on a free port, in this process, over the gated store."""
    port = free_port()
    store = GatedStore(tmp_path)
    settings = Settings(port=port, data=tmp_path, room_idle_seconds=0.05)
    app = create_app(settings, Backends(store, MemoryBus()))
    async with served_here(app, port) as address:
        yield address, store


async def test_a_link_replaced_while_its_room_loads_closes_the_socket(
    gated: tuple[str, GatedStore],
) -> None:
    """Join with the participant link; while the room loads, the facilitator replaces that
    link; the socket is closed with link_revoked (1008) and its op is never acked."""
    address, store = gated
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        workshop = (await http.post("/api/workshops", json={})).json()
        secrets = {r: link.split("#k=")[1] for r, link in workshop["links"].items()}
        store.gate.clear()
        store.loading.clear()
        ana = Client(f"ws://{address}", workshop["id"], secrets["participant"])
        joining = asyncio.create_task(ana.connect())
        await asyncio.wait_for(store.loading.wait(), 10)  # past the link check, room loading
        facilitator = {"authorization": f"Bearer {secrets['facilitator']}"}
        path = f"/api/workshops/{workshop['id']}/links/participant/rotate"
        rotated = await http.post(path, headers=facilitator)
        assert rotated.status_code == 200
        store.gate.set()
        try:
            await joining
            await ana.send_op({"kind": "note.add", "id": "n1", "text": "après le changement"})
        except (ConnectionError, OSError):
            pass  # closed before the welcome or the op: refused either way
        await ana.wait_for(lambda: ana.closed is not None, 10, "the socket to be closed")
    assert not [a for a in ana.acks.values() if a["type"] == "ack"]
    errors = [f for f in ana.frames if f["type"] == "error"]
    assert errors and errors[-1]["code"] == "link_revoked"
    assert getattr(ana.closed, "rcvd", None) is not None and ana.closed.rcvd.code == 1008


async def test_a_revoked_socket_that_reads_nothing_can_write_nothing_more(tmp_path: Path) -> None:
    """A participant whose socket stops reading (its closing handshake cannot get through)
    keeps sending notes after its link is replaced: none of them is applied, and the
    server drops the connection instead of waiting for the ping to time out."""
    env = {"ATELIER_MAX_NOTE_TEXT": "16000", "ATELIER_SEND_QUEUE": "100000",
           "ATELIER_OPS_PER_SECOND": "1000", "ATELIER_OPS_BURST": "1000"}  # fmt: skip
    server = ServerProcess(tmp_path / "data", env=env).start()
    try:
        workshop = server.create_workshop()
        keys = workshop["secrets"]
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", server.port))
        troll = await websockets.connect(f"{server.ws_base}/ws/{workshop['id']}", sock=raw,
                                         max_size=None, max_queue=1)  # fmt: skip
        await troll.send(orjson.dumps({"type": "join", "v": 1, "token": keys["participant"],
                                       "client": "troll", "name": "Troll"}).decode())  # fmt: skip
        fac = Client(server.ws_base, workshop["id"], keys["facilitator"], validate=False)
        await fac.connect()
        for n in range(300):  # ~5 MB of events the troll never reads: its writes pause
            await fac.send_op({"kind": "note.add", "id": f"big{n}", "text": "x" * 15_000})
        await fac.wait_for(lambda: len(fac.acks) == 300, 60, "the big notes")
        rotated = httpx.post(
            f"{server.base}/api/workshops/{workshop['id']}/links/participant/rotate",
            headers={"authorization": f"Bearer {keys['facilitator']}"}, timeout=10,
        )  # fmt: skip
        assert rotated.status_code == 200
        sent = 0
        with contextlib.suppress(websockets.ConnectionClosed, OSError):
            for n in range(20):  # one note a quarter second, for five seconds
                op = {"kind": "note.add", "id": f"troll{n}", "text": "après"}
                await troll.send(orjson.dumps({"type": "op", "cop": n + 1, "op": op}).decode())
                sent += 1
                await asyncio.sleep(0.25)
        state = server_state(server, workshop, "facilitator")
        assert not [note for note in state["notes"] if note["id"].startswith("troll")]
        assert sent < 20 or troll.transport.is_closing()  # dropped, not left open
        troll.transport.abort()
        await fac.close()
    finally:
        server.stop()
