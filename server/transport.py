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

import struct
from collections.abc import Mapping
from typing import Any, Protocol

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


def frame_writer(scope: Mapping[str, Any]) -> FrameWriter | None:
    """The socket's frame writer, if the server offers the extension."""
    offered = scope.get("extensions", {}).get(EXTENSION)
    return None if offered is None else offered.get("writer")


class AtelierWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, offering :data:`EXTENSION` (give this class
    to ``uvicorn.run(ws=...)``)."""

    _paused = False  # the transport asked us to stop writing (its buffer is full)

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # The scope exists only for an accepted upgrade; the app's task has not run yet.
        scope = getattr(self, "scope", None)
        if scope is not None and not self.conn.extensions:
            scope["extensions"][EXTENSION] = {"writer": self}

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
