"""The shared send path (server/transport.py): a frame framed once by Atelier is exactly
what the websockets library would have sent, and real clients read it; sockets that
negotiated compression keep the plain ASGI path."""

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from atelier.app import create_app
from atelier.config import Settings
from atelier.transport import binary_frame
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

from .support import ROOT, Client, ServerProcess, free_port, wait_until

BIG_NOTES = 80  # notes of 1,000 characters: a welcome over 64 KiB (an 8-byte length)


def _library_frame(payload: bytes) -> bytes:
    """What websockets' own server protocol writes for a binary message."""
    protocol = ServerProtocol()
    protocol.state = protocol.state.OPEN  # skip the handshake: only framing is compared
    protocol.send_binary(payload)
    return b"".join(protocol.data_to_send())


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70_000])
def test_binary_frame_is_the_librarys_frame(size: int) -> None:
    """binary_frame gives the bytes websockets sends, at each boundary of the length field."""
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    assert binary_frame(payload) == _library_frame(payload)


async def seed_big_board(server: ServerProcess) -> dict[str, Any]:
    """A workshop whose welcome is over 64 KiB."""
    workshop = server.create_workshop()
    writer = Client(server.ws_base, workshop["id"], workshop["secrets"]["participant"])
    await writer.connect()
    for n in range(BIG_NOTES):
        ack = await writer.op({"kind": "note.add", "id": f"n{n}", "text": "é" * 500})
        assert ack["type"] == "ack"
    await writer.close()
    return workshop


async def _raw_session(
    server: ServerProcess, workshop: dict[str, Any], *, deflate: bool = False
) -> bytes:
    """Join, add a note, and return every byte the server sent after its handshake."""
    url = f"{server.ws_base}/ws/{workshop['id']}"
    offer = [ClientPerMessageDeflateFactory()] if deflate else None
    client = ClientProtocol(parse_uri(url), extensions=offer, max_size=None)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    client.send_request(client.connect())
    received = bytearray()
    head_end = -1
    messages: list[dict[str, Any]] = []

    async def pump(until: Any) -> None:
        nonlocal head_end
        while not until():
            writer.write(b"".join(client.data_to_send()))
            data = await asyncio.wait_for(reader.read(65536), 10)
            assert data, "the server closed the connection"
            received.extend(data)
            if head_end < 0 and b"\r\n\r\n" in received:
                head_end = received.index(b"\r\n\r\n") + 4
            client.receive_data(data)
            for event in client.events_received():
                if isinstance(event, Frame) and event.opcode is Opcode.BINARY:
                    messages.append(orjson.loads(event.data))
                elif isinstance(event, Response):
                    assert event.status_code == 101

    await pump(lambda: head_end >= 0)
    join = {"type": "join", "v": 1, "token": workshop["secrets"]["participant"],
            "client": f"raw-{deflate}", "name": "Brut"}  # fmt: skip
    client.send_text(orjson.dumps(join))
    await pump(lambda: any(m["type"] == "welcome" for m in messages))
    op = {"kind": "note.add", "id": f"x-{deflate}", "text": "court"}
    client.send_text(orjson.dumps({"type": "op", "cop": 1, "op": op}))
    await pump(lambda: any(m["type"] == "ack" for m in messages))
    types = [m["type"] for m in messages]
    assert "welcome" in types and "event" in types and "ack" in types
    writer.close()
    assert bool(client.extensions) is deflate
    return bytes(received[head_end:])


def _frames(stream: bytes) -> list[tuple[int, bytes]]:
    """Split a server's (unmasked) byte stream into frames: first header byte, payload."""
    frames, at = [], 0
    while at < len(stream):
        first, length, at = stream[at], stream[at + 1] & 0x7F, at + 2
        if length == 126:
            length, at = int.from_bytes(stream[at : at + 2], "big"), at + 2
        elif length == 127:
            length, at = int.from_bytes(stream[at : at + 8], "big"), at + 8
        frames.append((first, stream[at : at + length]))
        at += length
    assert at == len(stream)
    return frames


async def test_the_servers_frames_are_byte_identical_to_the_librarys(
    server: ServerProcess,
) -> None:
    """Every byte a real server writes after the handshake (a welcome over 64 KiB, events,
    acks: each length encoding) is what websockets would have written for those messages."""
    workshop = await seed_big_board(server)
    stream = await _raw_session(server, workshop)
    frames = _frames(stream)
    assert frames and all(first == 0x82 for first, _ in frames)  # FIN, binary, no RSV
    assert max(len(p) for _, p in frames) >= 65536  # the welcome took the 8-byte length
    assert min(len(p) for _, p in frames) < 126  # the ack, the 1-byte length
    assert b"".join(_library_frame(payload) for _, payload in frames) == stream


async def test_a_websockets_client_reads_shared_frames(server: ServerProcess) -> None:
    """Clients of the websockets library get the same events, in order, from shared frames."""
    workshop = server.create_workshop()
    secret = workshop["secrets"]["participant"]
    readers = [Client(server.ws_base, workshop["id"], secret) for _ in range(3)]
    for reader in readers:
        await reader.connect()
    for n in range(30):
        await readers[0].send_op({"kind": "note.add", "id": f"n{n}", "text": f"Constat {n}"})
    for reader in readers:
        await reader.wait_for(lambda r=reader: "n29" in r.board["notes"], 10, "the last note")
    orders = [[f["op"]["id"] for f in r.frames if f["type"] == "event"] for r in readers]
    assert orders[0] == [f"n{n}" for n in range(30)]
    assert orders[0] == orders[1] == orders[2]
    for reader in readers:
        await reader.close()


_DEFLATE_SERVER = """
import sys, uvicorn
from pathlib import Path
from atelier.app import create_app
from atelier.config import Settings
settings = Settings.from_env(data=Path(sys.argv[2]))
uvicorn.run(create_app(settings), host="127.0.0.1", port=int(sys.argv[1]),
            ws="atelier.transport:AtelierWebSocketProtocol", ws_per_message_deflate=True,
            log_level="warning")
"""


@pytest.fixture
def deflate_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """Atelier's transport with permessage-deflate on (Atelier itself turns it off)."""
    port = free_port()
    log = (tmp_path / "deflate.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-c", _DEFLATE_SERVER, str(port), str(tmp_path / "data")],
        cwd=ROOT, stdout=log, stderr=log,
    )  # fmt: skip
    handle = ServerProcess(tmp_path / "data", port=port)
    handle.proc = proc
    try:
        wait_until(handle._ready, 20, "the deflate server")
        yield handle
    finally:
        handle.stop()
        log.close()


async def test_compressed_sockets_keep_the_plain_path(deflate_server: ServerProcess) -> None:
    """On a server with compression on, a socket that negotiated it gets compressed frames
    (RSV1 set) through plain ASGI, never a shared one; a socket that did not gets shared,
    uncompressed frames; both read the same messages."""
    workshop = deflate_server.create_workshop()
    zipped = [first for first, _ in _frames(await _raw_session(deflate_server, workshop,
                                                                 deflate=True))]  # fmt: skip
    plain = [first for first, _ in _frames(await _raw_session(deflate_server, workshop))]
    assert len(zipped) >= 3 and all(b == 0xC2 for b in zipped)  # FIN, RSV1, binary
    assert len(plain) >= 3 and all(b == 0x82 for b in plain)  # FIN, binary


@pytest.mark.parametrize(
    ("ws", "shared"),
    [("atelier.transport:AtelierWebSocketProtocol", True), ("websockets-sansio", False)],
)
async def test_sockets_take_the_shared_path_where_offered_and_asgi_elsewhere(
    tmp_path: Path, ws: str, shared: bool
) -> None:
    """With Atelier's protocol every joined socket writes shared frames; on uvicorn's own
    stack (no extension) each falls back to ASGI sends; clients read the same either way."""
    app = create_app(Settings.from_env(data=tmp_path / "data"))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, ws=ws,
                            ws_per_message_deflate=False, log_level="warning")  # fmt: skip
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done(), "uvicorn stopped"
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient() as http:
            created = await http.post(f"http://127.0.0.1:{port}/api/workshops",
                                      json={"title": "T", "territory": "Ici"})  # fmt: skip
        workshop = created.json()
        secret = workshop["links"]["participant"].split("#k=", 1)[1]
        clients = [Client(f"ws://127.0.0.1:{port}", workshop["id"], secret) for _ in range(3)]
        for client in clients:
            await client.connect()
        registry = app.state.registry
        hub = await registry.acquire(workshop["id"])
        try:
            assert len(hub.peers) == 3
            assert all((peer.writer is not None) is shared for peer in hub.peers.values())
        finally:
            registry.release(workshop["id"], hub)
        for n in range(10):
            await clients[n % 3].send_op({"kind": "note.add", "id": f"n{n}", "text": "Constat"})
        orders = []
        for client in clients:
            await client.wait_for(lambda c=client: len(c.board["notes"]) == 10, 10, "10 notes")
            orders.append([f["seq"] for f in client.frames if f["type"] == "event"])
        assert orders[0] == orders[1] == orders[2] == list(range(1, 11))
        for client in clients:
            await client.close()
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 15)
