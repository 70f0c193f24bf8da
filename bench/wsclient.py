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
#: The first byte of an unfragmented text or binary frame (FIN and the opcode).
WHOLE_MESSAGE = (0x80 | Opcode.TEXT, 0x80 | Opcode.BINARY)


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
        self._framing = False  # the handshake is over: frames are split here
        self._cut: list[bytes] = []  # a frame cut by the end of a read, and what followed
        self._cut_size = 0
        self._cut_need = 0  # that frame's size, once its header was read (0: not yet)
        self._reply = False  # a pong or a close waits to be written

    # -- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if self._framing:
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
            self._framing = True  # the handshake is over, no frame half-read
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
        writing the same frames. Sending stays with the library (it masks).

        This is the load generator's hottest loop (160,000 frames a second in the
        ceiling scenario): a read of whole frames is split in place, opcodes are compared
        as integers (an ``Opcode(...)`` call per frame was a tenth of a worker's CPU), and
        only a frame cut by the end of a read is kept for the next."""
        if self._cut:  # the rest of a cut frame: wait until it is whole, then join once
            self._cut.append(data)
            self._cut_size += len(data)
            if self._cut_size < self._cut_need:
                return
            buf = b"".join(self._cut)
        else:
            buf = data
        at, end = 0, len(buf)
        on_message = self.on_message
        need = 0  # the size of the frame cut at the end, once its header is whole
        while end - at >= 2:
            first, length, head = buf[at], buf[at + 1] & 0x7F, 2
            if length == 126:
                if end - at < 4:
                    break
                length, head = int.from_bytes(buf[at + 2 : at + 4], "big"), 4
            elif length == 127:
                if end - at < 10:
                    break
                length, head = int.from_bytes(buf[at + 2 : at + 10], "big"), 10
            stop = at + head + length
            if stop > end:
                need = stop - at
                break
            if first in WHOLE_MESSAGE and not self._parts:
                on_message(buf[at + head : stop], now)  # a whole message: most of them
            else:
                self._other_frame(first, buf[at + head : stop], now)
            at = stop
        self._cut = [buf[at:]] if at < end else []
        self._cut_size = end - at
        self._cut_need = need
        if self._reply:
            self._reply = False
            self._flush()

    def _other_frame(self, first: int, payload: bytes, now: float) -> None:
        """A fragment, a ping or a close: rare, so the library's types are used here."""
        opcode = Opcode(first & 0x0F)
        if opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
            self._frame(Frame(opcode, payload, fin=bool(first & 0x80)), now)
        elif opcode is Opcode.PING:
            self.protocol.send_pong(payload)
            self._reply = True
        elif opcode is Opcode.CLOSE and self.protocol.state is State.OPEN:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.protocol.send_close(code if code != 1005 else None)  # the closing handshake
            self._reply = True

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
