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
(``subscribe``, ``unsubscribe``, ``message``, ``pong``). What it connects to comes from
the same URL as the store's, read by redis-py's own ``parse_url``: ``redis://`` (TCP),
``rediss://`` (TLS, see :func:`_tls_context`) and ``unix://``.
"""

import asyncio
import collections
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any, cast

import hiredis
from redis.connection import SSLConnection, parse_url

__all__ = ["PUSHES", "Subscriber", "SubscriberError", "connect"]

#: The push kinds a subscribed RESP2 connection sends; anything else answers a command.
PUSHES = frozenset((b"message", b"subscribe", b"unsubscribe", b"pong"))

#: ``(kind, channel, data)`` of each push; ``data`` is the subscription count for
#: (un)subscribe confirmations and the echoed text for a pong.
OnPush = Callable[[bytes, bytes, Any], None]


class SubscriberError(ConnectionError):
    """The subscriber connection failed: refused credentials, a reply that is not RESP,
    or the connection lost while a command waited for its answer."""


class Subscriber(asyncio.Protocol):
    """One subscriber connection (see the module's docstring)."""

    def __init__(self, on_push: OnPush) -> None:
        self._on_push = on_push
        self._reader = hiredis.Reader()
        self._transport: asyncio.Transport | None = None
        self._answers: collections.deque[asyncio.Future[Any]] = collections.deque()
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
            while (reply := self._reader.gets()) is not False:
                self._take(reply)
        except hiredis.ProtocolError as error:
            self._fail(SubscriberError(f"Redis sent something that is not RESP: {error}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        reason = exc or SubscriberError("the connection to Redis was closed")
        while self._answers:
            waiter = self._answers.popleft()
            if not waiter.done():
                waiter.set_exception(reason)
        if not self.lost.done():
            self.lost.set_result(exc)

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

    def close(self) -> None:
        """Close the connection (``lost`` resolves once it is closed)."""
        if self._transport is not None:
            self._transport.close()

    # -- replies -----------------------------------------------------------------------

    def _take(self, reply: Any) -> None:
        if type(reply) is list and len(reply) == 3 and reply[0] in PUSHES:
            self._on_push(reply[0], reply[1], reply[2])
        elif type(reply) is list and len(reply) == 2 and reply[0] == b"pong":
            self._on_push(b"pong", b"", reply[1])
        elif self._answers:
            waiter = self._answers.popleft()
            if not waiter.done():
                waiter.set_result(reply)
        else:  # an answer to nothing we asked: this is not the connection we think it is
            self._fail(SubscriberError(f"unexpected reply from Redis: {reply!r:.80}"))

    def _fail(self, error: SubscriberError) -> None:
        if not self.lost.done():
            self.lost.set_result(error)
        if self._transport is not None:
            self._transport.abort()


async def connect(url: str, client_name: str, on_push: OnPush) -> Subscriber:
    """Open, authenticate and name a subscriber connection to the Redis at ``url``;
    :class:`SubscriberError` or ``OSError`` if it cannot (the caller bounds the time)."""
    options: dict[str, Any] = parse_url(url)  # type: ignore[no-untyped-call]
    loop = asyncio.get_running_loop()
    subscriber: Subscriber
    if "path" in options:
        _, subscriber = await loop.create_unix_connection(
            lambda: Subscriber(on_push), options["path"]
        )
    else:
        tls = options.get("connection_class") is SSLConnection
        _, subscriber = await loop.create_connection(
            lambda: Subscriber(on_push),
            options.get("host", "localhost"),
            options.get("port", 6379),
            ssl=_tls_context(options) if tls else None,
        )
    try:
        if options.get("password"):
            user = [options["username"]] if options.get("username") else []
            await subscriber.call("AUTH", *user, options["password"])
        await subscriber.call("CLIENT", "SETNAME", client_name)
    except BaseException:  # refused, lost, or out of time: never leave the socket open
        subscriber.close()
        raise
    return subscriber


def _tls_context(options: dict[str, Any]) -> ssl.SSLContext:
    """TLS as redis-py sets it up from the same URL: the server's certificate is checked
    against the system's CAs (or ``ssl_ca_certs``), and its name, unless the URL says
    ``ssl_cert_reqs=none`` (or ``optional``) or ``ssl_check_hostname=false``; a client
    certificate comes from ``ssl_certfile`` and ``ssl_keyfile``."""
    context = ssl.create_default_context(cafile=options.get("ssl_ca_certs"))
    required = str(options.get("ssl_cert_reqs", "required")).lower()
    check_hostname = str(options.get("ssl_check_hostname", "true")).lower() not in (
        "false",
        "0",
        "no",
    )
    context.check_hostname = check_hostname and required == "required"
    context.verify_mode = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL}.get(
        required, ssl.CERT_REQUIRED
    )
    if options.get("ssl_certfile"):
        context.load_cert_chain(options["ssl_certfile"], options.get("ssl_keyfile"))
    return context
