"""The Redis bus's subscriber connection: one socket whose pushes are parsed by hiredis and
handed over in the read callback itself, with no task, timeout or retry layer per message.

Every process hears every doorbell of its rooms, its own commits' included: at 200 ops/s
in a room over three processes that is 600 messages a second. Through redis-py's
``PubSub.get_message`` each one crossed about twenty Python calls (a retry wrapper, a
timeout context, stream reads line by line, a dict per message), as much CPU as applying
the op and pushing its event (docs/benchmarks.md). Here a read of the socket goes to
``hiredis.Reader`` (the RESP parser redis-py itself uses when it is installed) and each
message it yields goes straight to the bus.

The connection speaks RESP2 (any Redis since 2.0): ``AUTH`` and ``CLIENT SETNAME`` are
answered in order before anything is subscribed; after that every reply is a push array
(``subscribe``, ``unsubscribe``, ``message``, ``pong``). Anything else from Redis ends
the connection (the bus reconnects). Where it connects, and how (``redis://``,
``rediss://`` with its ``ssl_*`` options, ``unix://``), is what redis-py makes of the
same URL for the store: :func:`connect` asks redis-py's own connection class.
"""

import asyncio
import collections
import socket
import time
from collections.abc import Callable
from typing import Any, cast

import hiredis
from redis.asyncio.connection import (
    Connection,
    SSLConnection,
    UnixDomainSocketConnection,
    parse_url,
)

__all__ = ["Subscriber", "SubscriberError", "connect"]

#: The three-part pushes a subscribed RESP2 connection sends (and ``pong``, in two parts);
#: anything else answers a command.
_PUSHES = frozenset((b"message", b"subscribe", b"unsubscribe"))

#: ``(kind, channel, data)`` of each push; ``data`` is the subscription count for
#: (un)subscribe confirmations and the echoed text for a pong.
OnPush = Callable[[bytes, bytes, Any], None]

#: What the reader returns while no whole reply is buffered (a RESP3 false is ``False``).
_INCOMPLETE = object()


class SubscriberError(ConnectionError):
    """The subscriber connection failed: refused credentials, a reply that is not RESP or
    not a push, or the connection lost while a command waited for its answer."""


class Subscriber(asyncio.Protocol):
    """One subscriber connection (see the module's docstring)."""

    def __init__(self, on_push: OnPush) -> None:
        self._on_push = on_push
        self._reader = hiredis.Reader(notEnoughData=_INCOMPLETE)
        self._transport: asyncio.Transport | None = None
        self._answers: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._failure: SubscriberError | None = None  # why this side ended the connection
        loop = asyncio.get_running_loop()
        #: Resolved (with the reason, None for a clean close) when the connection ends.
        self.lost: asyncio.Future[Exception | None] = loop.create_future()
        #: When something last came from Redis (``time.monotonic()``).
        self.heard = time.monotonic()

    # -- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports have asyncio.Transport's methods, not its class)
        self._transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # a dead Redis is found by the bus's pings; keepalive also holds NATs open
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)

    def data_received(self, data: bytes) -> None:
        self.heard = time.monotonic()
        self._reader.feed(data)
        try:
            while self._failure is None and (reply := self._reader.gets()) is not _INCOMPLETE:
                self._take(reply)
        except Exception as error:  # whatever Redis sent, it must not stop the bus's loop
            self._fail(SubscriberError(f"unreadable reply from Redis ({error!r:.120})"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        reason: Exception | None = self._failure or exc
        while self._answers:
            waiter = self._answers.popleft()
            if not waiter.done():
                waiter.set_exception(reason or SubscriberError("Redis closed the connection"))
        if not self.lost.done():
            self.lost.set_result(reason)

    # -- commands ----------------------------------------------------------------------

    async def call(self, *args: str | bytes) -> Any:
        """Send a command answered by a plain reply (before subscribing); its answer."""
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._answers.append(waiter)
        self.send(*args)
        answer = await waiter
        if isinstance(answer, hiredis.ReplyError):
            raise SubscriberError(f"Redis refused {args[0]!r}: {answer}")
        return answer

    def send(self, *args: str | bytes) -> None:
        """Send a command whose answer comes as a push (SUBSCRIBE, UNSUBSCRIBE, PING).
        Nothing happens on a closed connection: the bus reconnects and subscribes anew."""
        if self._transport is not None and not self._transport.is_closing():
            # (hiredis's stub types the argument as a 1-tuple; it takes any number)
            self._transport.write(hiredis.pack_command(args))  # type: ignore[arg-type]

    def abort(self) -> None:
        """Drop the connection at once (``lost`` then resolves); a dead peer would hold
        a graceful TLS close for long, and a subscriber has nothing left to send."""
        if self._transport is not None:
            self._transport.abort()

    # -- replies -----------------------------------------------------------------------

    def _take(self, reply: Any) -> None:
        kind = reply[0] if type(reply) is list and reply else None
        if type(kind) is bytes and kind in _PUSHES and len(reply) == 3:
            self._on_push(kind, reply[1], reply[2])
        elif kind == b"pong" and len(reply) == 2:
            self._on_push(b"pong", b"", reply[1])
        elif self._answers:
            waiter = self._answers.popleft()
            if not waiter.done():
                waiter.set_result(reply)
        else:  # an answer to nothing we asked: this is not the connection we think it is
            self._fail(SubscriberError(f"unexpected reply from Redis: {reply!r:.80}"))

    def _fail(self, error: SubscriberError) -> None:
        if self._failure is None:
            self._failure = error
        self.abort()


async def connect(url: str, client_name: str, on_push: OnPush) -> Subscriber:
    """Open, authenticate and name a subscriber connection to the Redis at ``url``;
    :class:`SubscriberError` or ``OSError`` if it cannot (the caller bounds the time)."""
    options: dict[str, Any] = dict(parse_url(url))
    # redis-py's own connection for this URL, never connected: its address and TLS
    # context are exactly those of the store's connections
    like = options.pop("connection_class", Connection)(**options)
    loop = asyncio.get_running_loop()
    subscriber: Subscriber
    if isinstance(like, UnixDomainSocketConnection):
        if not like.path:
            raise SubscriberError(f"a unix:// Redis URL needs the socket's path: {url!r}")
        _, subscriber = await loop.create_unix_connection(lambda: Subscriber(on_push), like.path)
    else:
        tls = like.ssl_context.get() if isinstance(like, SSLConnection) else None
        _, subscriber = await loop.create_connection(
            lambda: Subscriber(on_push), like.host, like.port, ssl=tls
        )
    try:
        if options.get("password"):
            user = [options["username"]] if options.get("username") else []
            await subscriber.call("AUTH", *user, options["password"])
        await subscriber.call("CLIENT", "SETNAME", client_name)
    except BaseException:  # refused, lost, or out of time: never leave the socket open
        subscriber.abort()
        raise
    return subscriber
