"""uvicorn's HTTP protocol with the two bounds it lacks on a request's head.

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive``, but a
connection that opens and then sends its request line and headers slowly (or never)
is kept for ever, and the headers it sends are kept in memory however many there are.
Without a proxy in front, a few hundred such connections hold a process's sockets and
memory. This subclass closes a connection whose head is not complete within
``header_timeout`` seconds of its start (or of its previous response), and answers
``431`` to a head larger than ``max_head_bytes``.
"""

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["guarded_protocol"]

log = logging.getLogger(__name__)

_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n"
    b"connection: close\r\n\r\n"
)


class _GuardedProtocol(HttpToolsProtocol):
    header_timeout = 10.0
    max_head_bytes = 64 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._refused = False  # answered 431: whatever else comes is dropped
        self._in_head = True  # reading a request's line and headers

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # judged after parsing: a chunk that ends the head may carry a large body too
        if self._in_head and self._head_bytes > self.max_head_bytes:
            self._refuse()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        self._in_head = False
        if not self._refused:
            super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._in_head, self._head_bytes = True, 0  # the next request's head

    def _refuse(self) -> None:
        if not self.transport.is_closing():
            self._refused = True
            self._disarm()
            self.transport.write(_TOO_LARGE)
            # close a moment later: closing with the rest of the head unread would reset
            # the connection, and the client might lose the answer
            self.loop.call_later(1.0, self.transport.close)

    def _arm(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _too_slow(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            log.debug("closing a connection that sent no complete request head in %.0fs",
                      self.header_timeout)  # fmt: skip
            self.transport.close()


def guarded_protocol(header_timeout: float, max_head_bytes: int) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, closing slow heads and refusing large ones."""
    return type(
        "GuardedHttpToolsProtocol",
        (_GuardedProtocol,),
        {"header_timeout": header_timeout, "max_head_bytes": max_head_bytes},
    )
