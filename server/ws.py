"""The websocket endpoint: one socket per browser tab, joined to one workshop room.

Each socket gets a bounded send queue drained by its own sender task, so the room's
fan-out never waits on a slow client; a socket whose queue fills up is closed and
catches up by seq when it comes back.
"""

import asyncio
import contextlib
import logging
import secrets
import time
from collections import deque
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from .backends.base import BackendError, StorageFullError, Store
from .capabilities import role_for
from .config import Settings
from .limits import Guards, TokenBucket
from .logs import SOCKET_ID
from .metrics import CONNECTIONS, OPS_COMMITTED, OPS_REJECTED, QUEUE_OVERFLOWS, RATE_LIMITED
from .op_pipeline import OpPipeline
from .outbox import SENT, outbox
from .protocol import JoinMessage, OpMessage, ProtocolError, encode, parse
from .records import CommitResult, OpRecord
from .rooms.hub import RoomHub
from .rooms.messages import AckMessage, ErrorMessage, RejectMessage, Role
from .rooms.reducer import ANONYMISED
from .rooms.registry import RoomRegistry
from .transport import binary_frame, frame_writer

__all__ = ["serve_socket"]

log = logging.getLogger(__name__)

JOIN_TIMEOUT = 15.0
DRAG_INTERVAL = 0.05  # a drag is presence: coalesce it to 20 updates a second at most
#: How many of a socket's ops may wait for a commit before it stops reading: a browser's
#: whole outbox after a reconnect, within the op rate's burst.
OPS_WAITING = 64

CLOSE_GRACE = 2.0  # seconds a close may wait on a client that reads nothing
CLOSE_POLICY = 1008
CLOSE_ERROR = 1011
CLOSE_TRY_AGAIN = 1013


class SocketPeer:
    """A joined socket: who it is, and its bounded backlog of frames to send.

    A frame is written as soon as the socket has nothing waiting and its transport
    takes writes. Otherwise it joins the socket's backlog, which a sender task (started
    then, gone once the backlog is empty) writes out in order. A backlog that reaches
    ``queue_size`` frames means the client stopped reading: the socket is closed. An
    idle socket holds neither a backlog nor a task (idle sockets are most of them).

    Where the server offers :data:`~atelier.transport.EXTENSION` (Atelier's uvicorn
    protocol, compression off), a frame is framed once for every socket it is pushed
    to in a row (:class:`_LastFrame`), corked, and written straight to the transport
    with the other frames the socket was handed in a row, when the outbox uncorks it
    (:mod:`~atelier.outbox`): one ``write()`` for them all. Elsewhere it goes through
    the plain ASGI ``websocket.send``, at once.
    """

    __slots__ = ("_backlog", "_corked", "_drained", "_limit", "_outbox", "_sender", "client",
                 "close_code", "close_reason", "closing", "gone", "name", "role", "sid",
                 "writer", "ws")  # fmt: skip

    def __init__(self, ws: WebSocket, name: str, role: str, queue_size: int) -> None:
        self.sid = secrets.token_hex(6)
        self.name = name
        self.role = role
        self.client = ""  # the client id it joined with (private events go by it)
        self.ws = ws
        self.writer = frame_writer(ws.scope)
        self.gone = False  # a send failed: the socket is closed, frames go nowhere
        # resolved when the socket must be closed (a future: an Event costs ~0.8 KB)
        self.closing: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.close_code = CLOSE_TRY_AGAIN
        self.close_reason = ""
        self._limit = queue_size
        # None while nothing waits and no send is under way; else what waits: a framed
        # message (with the extension), a payload, or a send started by push
        self._backlog: deque[bytes | _Unfinished] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._drained: asyncio.Future[None] | None = None  # resolved when the backlog goes
        # frames framed for the writer, waiting for the outbox to write them in one call
        self._corked: list[bytes] | None = None
        self._outbox = outbox()

    def push(self, frame: bytes) -> None:
        """Send a frame now if the socket takes it at once, else queue it; a full backlog
        marks the socket too slow (it is then closed)."""
        if self.gone or self.closing.done():
            return
        if self._corked is not None and len(self._corked) >= self._limit:
            # a turn that hands one socket a queue's worth of frames (an import of a
            # thousand findings): write them now. Corked frames were never offered to
            # the client, so they say nothing of its reading; those a paused transport
            # refuses join the backlog, which is what the bound counts.
            self.uncork()
        if len(self._backlog or ()) >= self._limit:
            self._too_slow()
            return
        self._send_or_queue(frame)

    def kick(self, code: str, message: str) -> None:
        """Send a last error frame, then close with 1008 (the link or workshop is gone)."""
        if self.closing.done():
            return
        if not self.gone:
            self._send_or_queue(encode({"type": "error", "code": code, "message": message}))
        self.ask_close(CLOSE_POLICY, code)

    def ask_close(self, code: int, reason: str) -> None:
        """Tell the session to close this socket with ``code`` (the first reason wins)."""
        if not self.closing.done():
            self.close_code, self.close_reason = code, reason
            self.closing.set_result(None)

    async def drained(self) -> None:
        """Return once every frame pushed so far was written (or the socket is gone)."""
        self.uncork()
        if self._backlog is None:
            return
        if self._drained is None:
            self._drained = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._drained)

    def stop(self) -> None:
        """Drop whatever waits: the socket is gone."""
        self.gone = True
        self._corked = None
        if self._sender is not None:
            self._sender.cancel()
        self._finish()

    def uncork(self) -> None:
        """Write the corked frames in one call; those a paused transport cannot take
        join the backlog, each counted against the limit as if pushed then."""
        frames, self._corked = self._corked, None
        if not frames or self.gone or self.writer is None:
            return
        try:
            if self.writer.write_frame(frames[0] if len(frames) == 1 else b"".join(frames)):
                SENT.frames += len(frames)
                SENT.writes += 1
                return
        except (OSError, RuntimeError):
            self.gone = True  # the socket closed; the receive loop sees it too
            return
        for frame in frames:
            if len(self._backlog or ()) >= self._limit:
                if not self.closing.done():
                    self._too_slow()
                return
            self._queue(frame)

    def _too_slow(self) -> None:
        QUEUE_OVERFLOWS.inc()
        log.info("a socket is too slow to keep up; closing it")
        self.ask_close(CLOSE_TRY_AGAIN, "too slow, reconnect and catch up")

    def _send_or_queue(self, frame: bytes) -> None:
        item: bytes | _Unfinished
        if self.writer is not None:
            item = _LAST.framed(frame)
            if self._backlog is None:  # nothing waits on the transport: cork it
                corked = self._corked
                if corked is None:
                    self._corked = [item]
                    self._outbox.add(self)
                else:
                    corked.append(item)
                return
        else:
            item = frame
            if self._backlog is None:
                unfinished = self._send_at_once(frame)
                if unfinished is None:
                    return
                item = unfinished
        self._queue(item)

    def _queue(self, item: "bytes | _Unfinished") -> None:
        if self._backlog is None:
            self._backlog = deque()
            self._sender = asyncio.create_task(self._send_backlog())
        self._backlog.append(item)

    def _send_at_once(self, frame: bytes) -> "_Unfinished | None":
        """Run the ASGI send to its end without a task switch, if it never has to wait.

        Waking one sender task per socket for every event cost more than the send
        itself (bench/, crowd scenario). An idle socket's send only waits when its
        transport is paused (a slow reader), which is rare: then the started send is
        queued, and the sender task finishes it before anything queued after it.
        """
        send = self.ws.send_bytes(frame)
        try:
            waiting_on = send.send(None)
        except StopIteration:
            return None
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.gone = True  # the socket closed; the receive loop sees it too
            return None
        return _Unfinished(send, waiting_on)

    async def _send_backlog(self) -> None:
        """Write the backlog out in order, then leave the socket idle again."""
        backlog, writer = self._backlog, self.writer
        assert backlog is not None
        try:
            while backlog:
                item = backlog[0]  # still counted against the limit while it is written
                if isinstance(item, _Unfinished):
                    await item.finish()
                elif writer is None:
                    await self.ws.send_bytes(item)
                else:
                    while not writer.write_frame(item):
                        await writer.wait_writable()
                backlog.popleft()
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.gone = True  # the socket closed; the receive loop sees it too
        finally:
            self._finish()

    def _finish(self) -> None:
        self._backlog = self._sender = None
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None


class _LastFrame:
    """The last payload framed, and its frame.

    The hub pushes one payload object to every socket of a room in a row, so keeping
    the last one (by identity: the same object, hence the same bytes) frames each event
    once however many sockets it reaches.
    """

    def __init__(self) -> None:
        self._payload: bytes | None = None
        self._frame = b""

    def framed(self, payload: bytes) -> bytes:
        """``payload`` as a whole binary frame, framed again only if it is a new one."""
        if payload is not self._payload:
            self._frame = binary_frame(payload)
            self._payload = payload
        return self._frame


_LAST = _LastFrame()


class _Unfinished:
    """A send started outside any task that had to wait (see SocketPeer._send_at_once)."""

    def __init__(self, send: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        self.send = send
        self.waiting_on = waiting_on

    async def finish(self) -> None:
        """Drive the send to its end from the sender task, as a task would have."""
        while True:
            if self.waiting_on is None:
                await asyncio.sleep(0)  # a bare yield: let the loop run once
            else:
                # wait for the future it waits on (the transport resuming) without
                # awaiting it: it was already yielded once, and is marked so
                await asyncio.wait([self.waiting_on])
            try:
                self.waiting_on = self.send.send(None)
            except StopIteration:
                return


def origin_allowed(ws: WebSocket, settings: Settings) -> bool:
    """Browsers always send Origin; it must be ours. Non-browser clients send none."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True
    if settings.origins:
        return origin in settings.origins
    return urlsplit(origin).netloc == ws.headers.get("host")


async def serve_socket(
    ws: WebSocket, store: Store, registry: RoomRegistry, settings: Settings, guards: Guards
) -> None:
    """Serve one socket from handshake to close."""
    if not origin_allowed(ws, settings):
        await ws.close(CLOSE_POLICY, "origin not allowed")
        return
    await ws.accept()
    # Nothing reads the handshake's headers again (the origin is checked, the link comes
    # in the join frame): an idle socket should not keep them (~1 KB, more from browsers).
    ws.scope["headers"].clear()
    address = ws.client.host if ws.client else "unknown"
    if not guards.connections.acquire(address):
        RATE_LIMITED.labels("connections").inc()
        refusal = {"type": "error", "code": "too_many_connections",
                   "message": "Too many connections from this address."}  # fmt: skip
        await ws.send_bytes(encode(refusal))
        await ws.close(CLOSE_TRY_AGAIN, "too many connections from this address")
        return
    session = _Session(ws, store, registry, settings)
    try:
        await session.run()
    except WebSocketDisconnect:
        pass
    except Exception as error:
        await session.close(*_failure_close(ws.path_params.get("workshop_id"), error))
    finally:
        guards.connections.release(address)
        await session.leave()


def _failure_close(workshop_id: str | None, error: BaseException) -> tuple[int, str]:
    """Log why a socket must close, and say how: storage down (1013, the client
    reconnects and re-sends) or a bug (1011, with its traceback)."""
    if isinstance(error, BackendError):
        log.warning("room %s: storage unavailable (%s); closing with 1013", workshop_id, error)
        return CLOSE_TRY_AGAIN, "storage unavailable, reconnect"
    log.error("socket of room %s failed", workshop_id, exc_info=error)
    return CLOSE_ERROR, "internal error"


class _Session:
    """The state of one socket's conversation."""

    __slots__ = ("bad_frames", "bucket", "client", "drag_due", "drag_latest", "drag_task",
                 "hub", "last_drag", "ops", "peer", "registry", "settings", "store",
                 "watchdog", "workshop_id", "ws")  # fmt: skip

    def __init__(
        self, ws: WebSocket, store: Store, registry: RoomRegistry, settings: Settings
    ) -> None:
        self.ws = ws
        self.store = store
        self.registry = registry
        self.settings = settings
        self.workshop_id: str = ws.path_params["workshop_id"]
        self.peer: SocketPeer | None = None
        self.hub: RoomHub | None = None
        self.ops: OpPipeline[OpMessage] | None = None  # made once the socket joined a room
        self.client = ""
        self.bad_frames = 0
        self.last_drag = 0.0
        self.drag_due: asyncio.TimerHandle | None = None  # the latest drag, sent when due
        self.drag_latest: str | None = None
        self.drag_task: asyncio.Task[None] | None = None
        self.bucket = TokenBucket(settings.ops_per_second, settings.ops_burst)
        self.watchdog: asyncio.Task[None] | None = None
        CONNECTIONS.inc()  # and dec() in leave(), which serve_socket always calls

    async def run(self) -> None:
        join = await self._await_join()
        if join is None:
            return
        role = await self._authorize(join)
        if role is None:
            return
        self.client = join["client"]
        self.peer = SocketPeer(self.ws, join["name"], role, self.settings.send_queue)
        self.peer.client = self.client
        # the id this socket's log lines carry is also its id in the room (presence, drags)
        self.peer.sid = SOCKET_ID.get() or self.peer.sid
        self.peer.closing.add_done_callback(self._close_soon)  # no task while all is well
        self.hub = await self.registry.acquire(self.workshop_id)
        self.ops = OpPipeline(self.hub.submit, self._answer, self._refuse, self._storage_failed,
                              self.peer.closing.done, OPS_WAITING)  # fmt: skip
        ceiling = self.settings.max_connections_per_room  # 0: no limit
        if ceiling and len(self.hub.peers) >= ceiling:
            RATE_LIMITED.labels("room_full").inc()
            await self._error("room_full", "This workshop has as many connections as it can take.")
            await self.close(CLOSE_TRY_AGAIN, "room full")
            return
        await self.hub.join(self.peer, join.get("since"))
        if await self._authorize(join, quietly=True) != role:
            # the link was replaced between the check above and the join: the revocation
            # may have reached this room before this socket did, so check once more
            self.peer.kick("link_revoked", "This link was replaced.")
            await self._close_when_asked(self.peer)  # the error frame goes out, then it closes
            return
        while True:
            frame = await self._receive()
            if frame is None:
                return
            if self.peer.closing.done():
                # kicked (link replaced) or too slow: nothing more is handled, whatever
                # was already on its way; the socket is closed (or dropped) meanwhile
                await self._close_when_asked(self.peer)
                return
            await self._handle(frame)

    async def _await_join(self) -> JoinMessage | None:
        try:
            frame = await asyncio.wait_for(self._receive(), JOIN_TIMEOUT)
        except TimeoutError:
            await self._error("join_timeout", "Send a join frame first.")
            await self.close(CLOSE_POLICY, "no join")
            return None
        if frame is None:
            return None
        try:
            message = parse(frame)
        except ProtocolError as error:
            await self._error(error.code, error.message)
            await self.close(CLOSE_POLICY, "bad join")
            return None
        if message["type"] != "join":
            await self._error("not_joined", "The first frame must be a join.")
            await self.close(CLOSE_POLICY, "no join")
            return None
        return message

    async def _authorize(self, join: JoinMessage, *, quietly: bool = False) -> str | None:
        """The role the join's link grants now; unless ``quietly``, refuse a bad link."""
        meta = await self.store.get_workshop(self.workshop_id)
        role = None if meta is None else role_for(join["token"], meta.token_hashes)
        if role is None and not quietly:
            await self._error("bad_link", "This link does not open this workshop.")
            await self.close(CLOSE_POLICY, "bad link")
        return role

    async def _receive(self) -> str | bytes | None:
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            return None
        text: str | None = message.get("text")
        return text if text is not None else message.get("bytes", b"")

    async def _handle(self, frame: str | bytes) -> None:
        assert self.peer is not None and self.hub is not None
        try:
            message = parse(frame, max_text=self.settings.max_note_text)
        except ProtocolError as error:
            await self._bad_frame(error)
            return
        if message["type"] == "op":
            await self._throttle()
            await self._op(message)
        elif message["type"] == "drag":
            await self._drag(message["note"])
        else:
            await self._bad_frame(ProtocolError("already_joined", "This socket has joined."))

    async def _drag(self, note: str | None) -> None:
        """Relay who holds which note: presence, so at most 20 a second per socket (letting
        go included), never from an observer, and only of a note the board has."""
        assert self.peer is not None and self.hub is not None
        if self.peer.role == Role.OBSERVER:
            await self._bad_frame(ProtocolError("forbidden", "Observers can watch but not edit."))
            return
        if note is not None and note not in self.hub.board.notes:
            return
        wait = self.last_drag + DRAG_INTERVAL - time.monotonic()
        if wait > 0:  # too soon: only the latest state goes out, once the interval is over
            if self.drag_due is None:
                self.drag_due = asyncio.get_running_loop().call_later(wait, self._drag_later)
            self.drag_latest = note
            return
        self.last_drag = time.monotonic()
        await self.hub.drag(self.peer, note)

    def _drag_later(self) -> None:
        self.drag_due = None
        if self.hub is not None and self.peer is not None and not self.peer.closing.done():
            self.last_drag = time.monotonic()
            self.drag_task = asyncio.create_task(self.hub.drag(self.peer, self.drag_latest))

    async def _op(self, message: OpMessage) -> None:
        """Hand the op to the socket's pipeline, which commits and answers it in turn;
        read on at once, unless as many ops as it holds already wait."""
        assert self.peer is not None and self.ops is not None
        if self.peer.role == Role.OBSERVER:
            self._send({"type": "reject", "cop": message["cop"], "code": "forbidden",
                        "message": "Observers can watch but not edit."})  # fmt: skip
            return
        record = OpRecord(
            client=self.client,
            cop=message["cop"],
            op=message["op"],
            author=self.peer.name,
            role=self.peer.role,
            at=int(time.time() * 1000),
        )
        self.ops.add(record, message)
        await self.ops.room()

    async def _answer(self, message: OpMessage, result: CommitResult) -> None:
        """Ack a committed op once it is applied here, or say why it was refused."""
        assert self.hub is not None
        cop = message["cop"]
        if not result.known:  # committed long ago; its outcome is no longer known
            self._send({"type": "reject", "cop": cop, "code": "outcome_unknown",
                        "message": "This change was sent long ago; the board shows what "
                        "became of it."})  # fmt: skip
            return
        if not result.duplicate:
            OPS_COMMITTED.inc()
        outcome = await self.hub.outcome(result.seq)
        if outcome.applied and message["op"]["kind"] == "participant.erase":
            # the board is re-signed by every replica; storage is rewritten here, once,
            # in the background (it may take a while; this socket goes on meanwhile)
            self.hub.scrub_later(message["op"]["digest"], ANONYMISED)
        if outcome.code is None:
            self._send({"type": "ack", "cop": cop, "seq": result.seq})
        else:
            self._send({"type": "reject", "cop": cop, "seq": result.seq,
                        "code": outcome.code, "message": outcome.message})  # fmt: skip

    def _refuse(self, message: OpMessage, full: StorageFullError) -> None:
        """Refused, not lost: the client is told why (the disk is full)."""
        self._send({"type": "reject", "cop": message["cop"], "code": full.code,
                    "message": str(full)})  # fmt: skip

    def _storage_failed(self, error: BaseException) -> None:
        """A commit or an outcome failed: close the socket; its client reconnects and
        sends again what was not answered (a retry is answered like the first try)."""
        assert self.peer is not None
        self.peer.ask_close(*_failure_close(self.workshop_id, error))

    async def _throttle(self) -> None:
        """Slow a socket that sends ops faster than its rate (bursts allowed).

        Only this socket waits. uvicorn stops reading a socket while its last message
        waits for the app, so a flood backs up into the flooder's own TCP buffers: it
        costs the server neither memory nor anyone else's time.
        """
        delay = self.bucket.take(time.monotonic())
        if delay > 0:
            RATE_LIMITED.labels("ops").inc()
            await asyncio.sleep(delay)

    async def _bad_frame(self, error: ProtocolError) -> None:
        self.bad_frames += 1
        if error.cop is None:
            await self._error(error.code, error.message)
        else:  # a reject, so the sender drops the op from its outbox
            self._send({"type": "reject", "cop": error.cop, "code": error.code,
                        "message": error.message})  # fmt: skip
        if self.bad_frames >= self.settings.max_bad_frames:
            await self.close(CLOSE_POLICY, "too many bad frames")
            raise WebSocketDisconnect(CLOSE_POLICY)

    async def _error(self, code: str, message: str) -> None:
        error: ErrorMessage = {"type": "error", "code": code, "message": message}
        frame = encode(error)
        if self.peer is not None:
            self.peer.push(frame)
        else:
            await self.ws.send_bytes(frame)

    def _send(self, message: AckMessage | RejectMessage) -> None:
        assert self.peer is not None
        if message["type"] == "reject":
            OPS_REJECTED.labels(message["code"]).inc()
        self.peer.push(encode(message))

    def _close_soon(self, closing: "asyncio.Future[None]") -> None:
        if self.ops is not None:
            self.ops.drop_waiting()  # told to go: nothing more of it is committed
        if not closing.cancelled() and self.peer is not None and self.watchdog is None:
            self.watchdog = asyncio.create_task(self._close_when_asked(self.peer))

    async def _close_when_asked(self, peer: SocketPeer) -> None:
        await peer.closing
        if peer.close_code == CLOSE_POLICY:  # let the last error frame go out first
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(peer.drained(), 2)
        await self.close(peer.close_code, peer.close_reason)

    async def close(self, code: int, reason: str) -> None:
        """Close the socket once, whatever state it is in; drop it if a client that reads
        nothing holds the closing handshake back for longer than CLOSE_GRACE."""
        if self.ws.application_state != WebSocketState.CONNECTED:
            return
        if self.peer is not None:
            self.peer.uncork()  # what was pushed before the close goes out before it
        writer = frame_writer(self.ws.scope)
        if writer is not None:  # the handshake's deadline: a peer that never answers is dropped
            asyncio.get_running_loop().call_later(CLOSE_GRACE, writer.abort)
        with contextlib.suppress(TimeoutError, RuntimeError, OSError):  # it went away meanwhile
            await asyncio.wait_for(self.ws.close(code, reason), CLOSE_GRACE)

    async def leave(self) -> None:
        """Stop this socket's tasks and leave the room."""
        CONNECTIONS.dec()
        if self.drag_due is not None:
            self.drag_due.cancel()
        if self.watchdog is not None:
            self.watchdog.cancel()
        if self.ops is not None:
            await self.ops.settled()  # an op taken by a commit is applied and answered
        if self.peer is not None:
            self.peer.stop()
        if self.hub is not None and self.peer is not None:
            await self.hub.leave(self.peer)
            self.registry.release(self.workshop_id, self.hub)
