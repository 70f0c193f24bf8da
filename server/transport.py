"""Atelier's websocket transport: uvicorn's sans-I/O websockets protocol, plus an ASGI
extension through which the app writes frames it framed itself.

A room sends the same event to every socket. Through plain ASGI each socket frames it
again (a header, then a copy of the payload) behind a chain of coroutines: Starlette's
``send``, its exception wrapper, uvicorn's ``send``. With this extension the room frames
an event once (:func:`binary_frame`) and each socket only writes those bytes to its
transport: one framing per event, one ``write()`` per socket.

The extension is offered in the websocket scope as
``scope["extensions"]["atelier.websocket.frames"] == {"writer": <FrameWriter>}``, and only
on sockets that negotiated no websocket extension: a compressed socket (permessage-deflate)
must frame each message itself, so it keeps the plain path. An app that finds the
extension absent (another server, or another uvicorn stack) uses ``websocket.send``.

Ordering holds because both paths write synchronously to the same transport: a frame
written here and a message sent through ASGI leave in the order they were handed over.
"""

import asyncio
import struct
from collections.abc import Mapping
from typing import Any, Protocol

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import State

__all__ = ["EXTENSION", "AtelierWebSocketProtocol", "FrameWriter", "binary_frame", "frame_writer"]

#: The key of the extension in the websocket scope's ``extensions``.
EXTENSION = "atelier.websocket.frames"

_FIN_BINARY = 0x82  # FIN set, no RSV bits (no extension), opcode 2: a whole binary message
_SHORT = struct.Struct("!BB")
_MEDIUM = struct.Struct("!BBH")
_LONG = struct.Struct("!BBQ")


def binary_frame(payload: bytes) -> bytes:
    """One unmasked, final binary frame carrying ``payload`` (RFC 6455, section 5.2), as a
    server sends it on a socket without extensions."""
    length = len(payload)
    if length < 126:
        return _SHORT.pack(_FIN_BINARY, length) + payload
    if length < 65536:
        return _MEDIUM.pack(_FIN_BINARY, 126, length) + payload
    return _LONG.pack(_FIN_BINARY, 127, length) + payload


class FrameWriter(Protocol):
    """What the extension hands the app for one socket."""

    def write_frame(self, frame: bytes) -> bool:
        """Write a whole frame (from :func:`binary_frame`) now; False, with nothing
        written, while the transport is paused (the reader is slow). Raises
        ``OSError`` once the socket is closed or closing."""

    async def wait_writable(self) -> None:
        """Return once the transport takes writes again (at once if it does now)."""

    def abort(self) -> None:
        """Drop the connection now, unsent bytes and all (a socket that reads nothing
        would otherwise hold its closing handshake until the ping times out)."""


def frame_writer(scope: Mapping[str, Any]) -> FrameWriter | None:
    """The socket's frame writer, if the server offers the extension."""
    offered = scope.get("extensions", {}).get(EXTENSION)
    return None if offered is None else offered.get("writer")


class _Inbox:
    """The receive queue uvicorn's protocol uses (``put_nowait``, ``get``, ``empty``), for
    its one reader, the app: an ``asyncio.Queue`` holds four deques, ~3 KB a socket."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[ASGIReceiveEvent] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: ASGIReceiveEvent) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> ASGIReceiveEvent:
        while not self._items:  # uvicorn pauses reading after each message: a few at most
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


class _Flag:
    """The ``writable`` event uvicorn's protocol uses (``set``, ``clear``, ``is_set``,
    ``wait``), whose list of waiters exists only while someone waits (an
    ``asyncio.Event`` keeps a deque, ~0.8 KB, on every socket)."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = True
        self._waiters: list[asyncio.Future[None]] | None = None  # made when someone waits

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if not self._set:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            await waiter
        return True


class AtelierWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, offering :data:`EXTENSION` (give this class
    to ``uvicorn.run(ws=...)``), and holding less memory per idle socket."""

    _paused = False  # the transport asked us to stop writing (its buffer is full)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # the same interface as uvicorn's own, lighter (idle sockets are most of them)
        self.queue = _Inbox()  # type: ignore[assignment]
        self.writable = _Flag()  # type: ignore[assignment]

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # The scope exists only for an accepted upgrade; the app's task has not run yet.
        scope = getattr(self, "scope", None)
        if scope is not None and not self.conn.extensions:
            scope["extensions"][EXTENSION] = {"writer": self}

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            # the handshake's request and response (their headers: ~3.5 KB a socket) are
            # never read again (the scope has its own copy); an idle socket should not keep
            # them. websockets' parser still refers to the request: empty its headers.
            self.request.headers.clear()
            del self.request, self.response

    def pause_writing(self) -> None:
        self._paused = True
        super().pause_writing()

    def resume_writing(self) -> None:
        self._paused = False
        super().resume_writing()

    def write_frame(self, frame: bytes) -> bool:
        """See :meth:`FrameWriter.write_frame`."""
        if self.close_sent or self.disconnected or self.conn.state is not State.OPEN:
            raise ClientDisconnected()  # what uvicorn's own send raises in these states
        if self._paused:
            return False
        self.transport.write(frame)
        return True

    async def wait_writable(self) -> None:
        """See :meth:`FrameWriter.wait_writable`."""
        if self._paused:
            await self.writable.wait()

    def abort(self) -> None:
        """See :meth:`FrameWriter.abort`."""
        self.transport.abort()
