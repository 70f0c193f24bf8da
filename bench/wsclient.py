"""A lean websocket client for the load generator: the websockets library's sans-I/O
protocol driven by a bare ``asyncio.Protocol``.

A benchmark client must cost as little CPU as possible, because it shares two cores
with the server it measures. The websockets library's asyncio client runs a reader
task and an assembler per connection; with hundreds of connections per process that
overhead would land in the figures. Here each received message is handed to a
callback straight from ``data_received``, with the receive time taken once per read.
"""

import asyncio
import time
from collections.abc import Callable
from typing import cast

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

__all__ = ["WsClient", "connect"]

OnMessage = Callable[[bytes, float], None]


class WsClient(asyncio.Protocol):
    """One websocket connection; ``on_message(data, received_at)`` gets every message."""

    def __init__(self, url: str, on_message: OnMessage) -> None:
        self.protocol = ClientProtocol(parse_uri(url), max_size=None)
        self.on_message = on_message
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self._parts: list[bytes] = []
        self._raw: bytearray | None = None  # bytes not yet split into frames, once raw

    # -- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if self._raw is not None:
            self._read_frames(data, now)
            return
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Frame):
                self._frame(event, now)
            elif isinstance(event, Response) and not self.opened.done():
                if self.protocol.handshake_exc is not None:
                    self.opened.set_exception(self.protocol.handshake_exc)
                else:
                    self.opened.set_result(None)
        if self.opened.done() and not self.protocol.reader.buffer:
            self._raw = bytearray()  # the handshake is over, no frame half-read: go raw
        self._flush()

    def eof_received(self) -> bool | None:
        self.protocol.receive_eof()
        self._flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during the handshake"))
        if not self.lost.done():
            self.lost.set_result(None)

    # -- frames ----------------------------------------------------------------------

    def _read_frames(self, data: bytes, now: float) -> None:
        """Split the server's frames here (they are never masked): the library's
        generator-based parser cost the load generator more CPU than the server spends
        writing the same frames. Sending stays with the library (it masks)."""
        raw = self._raw
        assert raw is not None
        raw += data
        at, end = 0, len(raw)
        while end - at >= 2:
            first, length, head = raw[at], raw[at + 1] & 0x7F, 2
            if length == 126:
                if end - at < 4:
                    break
                length, head = int.from_bytes(raw[at + 2 : at + 4], "big"), 4
            elif length == 127:
                if end - at < 10:
                    break
                length, head = int.from_bytes(raw[at + 2 : at + 10], "big"), 10
            if end - at < head + length:
                break
            payload = bytes(raw[at + head : at + head + length])
            at += head + length
            self._raw_frame(first, payload, now)
        del raw[:at]
        self._flush()

    def _raw_frame(self, first: int, payload: bytes, now: float) -> None:
        opcode = Opcode(first & 0x0F)
        if opcode in (Opcode.TEXT, Opcode.BINARY) and first & 0x80 and not self._parts:
            self.on_message(payload, now)  # a whole message: most of them
        elif opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
            self._frame(Frame(opcode, payload, fin=bool(first & 0x80)), now)
        elif opcode is Opcode.PING:
            self.protocol.send_pong(payload)
        elif opcode is Opcode.CLOSE and self.protocol.state is State.OPEN:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.protocol.send_close(code if code != 1005 else None)  # the closing handshake

    def _frame(self, frame: Frame, now: float) -> None:
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY) or frame.opcode is Opcode.CONT:
            if not frame.fin:
                self._parts.append(bytes(frame.data))
                return
            if self._parts:
                data = b"".join([*self._parts, bytes(frame.data)])
                self._parts.clear()
            else:
                data = bytes(frame.data)
            self.on_message(data, now)

    def _flush(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.transport.write(chunk)
            else:  # the protocol asks for a half-close after the closing handshake
                self.transport.close()
                return

    # -- what the load generator calls ----------------------------------------------

    @property
    def is_open(self) -> bool:
        """Whether frames can still be sent."""
        return self.transport is not None and not self.lost.done()

    def send(self, data: bytes, *, binary: bool = False) -> None:
        """Send one text (or binary) message without waiting (the kernel buffers it)."""
        if self.is_open:
            if binary:
                self.protocol.send_binary(data)
            else:
                self.protocol.send_text(data)
            self._flush()

    def close(self) -> None:
        """Start the closing handshake; the server then closes TCP."""
        if self.is_open:
            self.protocol.send_close(1000)
            self._flush()

    def abort(self) -> None:
        """Drop the TCP connection at once."""
        if self.transport is not None:
            self.transport.abort()


async def connect(host: str, port: int, path: str, on_message: OnMessage) -> WsClient:
    """Open a websocket to ``ws://host:port/path`` and complete the handshake."""
    loop = asyncio.get_running_loop()
    url = f"ws://{host}:{port}{path}"
    _, client = await loop.create_connection(lambda: WsClient(url, on_message), host, port)
    await client.opened
    return client
