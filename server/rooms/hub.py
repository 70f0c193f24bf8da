"""The room hub: this process's replica of one room and the sockets it serves.

The backend feeds the hub committed ops, possibly late, out of order or twice; the hub
applies them strictly in sequence order with the pure reducer, encodes each resolved
event once and hands the same bytes to every local peer. A gap in the sequence, or a
feed that may have dropped, is filled from the backend's log: pub/sub is a doorbell,
never the truth.
"""

import asyncio
import logging
import time
from collections import OrderedDict, deque
from typing import Any, Protocol

import orjson

from ..backends.base import Backend, BackendError, Committed, LogTrimmedError
from ..metrics import FANOUT_SECONDS, RESYNCS
from ..protocol import PROTOCOL_VERSION, encode
from .errors import RoomError
from .model import PHASES, Board, Viewer
from .ops import DEFAULT_LIMITS, RoomLimits
from .record import record_body, snapshot_body
from .reducer import Applied, Context, Event, apply
from .vigilance import check

__all__ = ["Peer", "RoomHub", "revocation"]

log = logging.getLogger(__name__)

ROSTER_HEARTBEAT = 10.0  # seconds between two presence announcements of this process
ROSTER_EXPIRY = 35.0  # a process silent this long has left the room
REJECTIONS_KEPT = 10_000  # how many rejected seqs a retry can still be told about
# A roster frame lists everyone, so sending one per join would cost O(N²) bytes while a
# crowd arrives (1,000 joins: ~18 GB): send at most this often, the last change always.
ROSTER_INTERVAL = 0.25


def revocation(role: str) -> bytes:
    """The presence message that closes, on every process, the sockets of ``role``'s link
    ("*": every socket, the workshop is deleted). Publish it with the backend."""
    return orjson.dumps({"node": "api", "revoke": role})


class Peer(Protocol):
    """A local socket as the hub sees it."""

    sid: str
    name: str
    role: str
    client: str  # private events (a silent note, a vote) reach only their client

    def push(self, frame: bytes) -> None:
        """Queue a frame without waiting; a peer that cannot keep up closes itself."""

    def kick(self, code: str, message: str) -> None:
        """Tell the peer why, then close its socket (its link was revoked, say)."""


class RoomHub:
    """One room's replica in this process, with its local peers."""

    def __init__(
        self,
        workshop_id: str,
        backend: Backend,
        node_id: str,
        *,
        ring_size: int = 2000,
        checkpoint_every: int = 500,
        limits: RoomLimits = DEFAULT_LIMITS,
    ) -> None:
        self.workshop_id = workshop_id
        self._limits = limits
        self.board = Board()
        self.peers: dict[str, Peer] = {}
        self._backend = backend
        self._node_id = node_id
        # each ring entry: seq, the frame for everyone (None if private), private frames
        self._ring: deque[tuple[int, bytes | None, dict[str, bytes]]] = deque()
        self._vigilance: bytes | None = None
        self._ring_size = ring_size
        self._ring_floor = 0  # the ring holds every event after this seq
        self._pending: dict[int, Committed] = {}
        self._rejections: OrderedDict[int, RoomError] = OrderedDict()
        self._waiters: dict[int, list[asyncio.Future[RoomError | None]]] = {}
        self._rosters: dict[str, tuple[float, list[dict[str, str]]]] = {}
        self._loading = True
        self._filling: asyncio.Task[None] | None = None
        self._checkpoint_every = checkpoint_every
        self._since_checkpoint = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._saving: dict[int, asyncio.Task[None]] = {}  # seq -> its snapshot being stored
        self._heartbeat: asyncio.Task[None] | None = None
        self._roster_sent: bytes | None = None  # the last roster frame sent to local peers
        self._roster_due: asyncio.TimerHandle | None = None
        self._roster_at = 0.0  # when it was sent (monotonic)
        self.deleted = False

    @property
    def applied(self) -> int:
        """The seq of the last op this replica applied."""
        return self.board.seq

    # -- lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        """Subscribe, then load the latest checkpoint and replay the log after it."""
        await self._backend.subscribe(self.workshop_id, self)
        await self.load()
        self._loading = False
        self._drain()
        self._heartbeat = asyncio.create_task(self._announce_forever())

    async def close(self) -> None:
        """Unsubscribe and leave a checkpoint behind."""
        await self._backend.unsubscribe(self.workshop_id, self)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        if self._roster_due is not None:
            self._roster_due.cancel()
        for task in list(self._tasks):
            await task
        if self._since_checkpoint and not self.deleted:
            await self._checkpoint()
        for futures in self._waiters.values():
            for future in futures:
                if not future.done():
                    future.cancel()

    async def load(self) -> None:
        """Load the latest checkpoint and replay the log after it (no peers told)."""
        saved = await self._backend.load_checkpoint(self.workshop_id)
        self.board = Board() if saved is None else Board.from_dict(saved[1])
        self._ring.clear()
        self._ring_floor = self.board.seq
        for committed in await self._backend.read_since(self.workshop_id, self.board.seq):
            if committed.seq == self.applied + 1:
                self._apply(committed)

    # -- the feed from the backend ---------------------------------------------------

    def on_commit(self, committed: Committed) -> None:
        """Apply a committed op in seq order; buffer early ones and fetch the gap."""
        if committed.seq <= self.applied:
            return
        self._pending[committed.seq] = committed
        if self._loading:
            return
        self._drain()
        if self._pending:
            self.on_resync()

    def on_resync(self) -> None:
        """Read the log for whatever the feed may have missed (once at a time)."""
        if self._filling is None and not self._loading:
            self._filling = asyncio.create_task(self._fill())

    def on_presence(self, payload: bytes) -> None:
        """Merge another process's roster, or relay someone's drag."""
        try:
            message = orjson.loads(payload)
            node = str(message["node"])
            if "users" in message:
                newcomer = node not in self._rosters and node != self._node_id
                self._rosters[node] = (time.monotonic(), list(message["users"]))
                self._broadcast_roster()
                if newcomer and self.peers:  # it has not heard of our users yet: tell it now
                    self._spawn(self._announce())
            elif "revoke" in message:
                self._revoke(str(message["revoke"]))
            elif "drag" in message:
                drag = message["drag"]
                frame = encode({"type": "drag", **drag})
                for sid, peer in self.peers.items():
                    if sid != drag["sid"]:
                        peer.push(frame)
        except (orjson.JSONDecodeError, KeyError, TypeError):
            log.warning("ignored a malformed presence message in room %s", self.workshop_id)

    def _revoke(self, role: str) -> None:
        """A link was rotated ("facilitator"...) or the workshop deleted ("*")."""
        if role == "*":
            self.deleted = True  # nothing of it may be written back (no checkpoint)
        for peer in list(self.peers.values()):
            if role in ("*", peer.role):
                peer.kick(
                    "workshop_deleted" if role == "*" else "link_revoked",
                    "This workshop was deleted." if role == "*" else "This link was replaced.",
                )

    async def _fill(self) -> None:
        try:
            while True:
                try:
                    missed = await self._backend.read_since(self.workshop_id, self.applied)
                except LogTrimmedError:
                    await self._reload()
                    missed = []
                if missed:
                    RESYNCS.labels("gap").inc()
                for committed in missed:
                    self._pending.setdefault(committed.seq, committed)
                self._drain()
                if not self._pending or not missed:
                    return
        except Exception:
            log.exception("could not fill the log gap of room %s", self.workshop_id)
        finally:
            self._filling = None

    async def _reload(self) -> None:
        """Too far behind a compacted log: start again from the checkpoint, tell everyone."""
        RESYNCS.labels("reload").inc()
        self._loading = True
        try:
            await self.load()
        finally:
            self._loading = False
        for peer in self.peers.values():
            state = self.board.to_dict(viewer=_viewer(peer))
            peer.push(encode({"type": "reset", "seq": self.applied, "state": state}))

    def _drain(self) -> None:
        while (committed := self._pending.pop(self.applied + 1, None)) is not None:
            self._apply(committed)
        for seq in [s for s in self._pending if s <= self.applied]:
            del self._pending[seq]

    def _apply(self, committed: Committed) -> None:
        seq, record = committed.seq, committed.record
        outcome: RoomError | None = None
        ctx = Context(record.author, record.role, record.client, record.at, seq, self._limits)
        try:
            applied = apply(self.board, record.op, ctx)
        except RoomError as error:
            outcome = error
            self._rejections[seq] = error
            if len(self._rejections) > REJECTIONS_KEPT:
                self._rejections.popitem(last=False)
        self.board.seq = seq
        if outcome is None:
            self._fan_out(seq, applied)
            if not self._loading:  # a replayed op's age is the log's, not the fan-out's
                FANOUT_SECONDS.observe(max(0.0, time.time() - record.at / 1000))
            self._keep(applied, ctx)
        for future in self._waiters.pop(seq, ()):
            if not future.done():
                future.set_result(outcome)
        self._since_checkpoint += 1
        if self._since_checkpoint >= self._checkpoint_every and not self._loading:
            self._spawn(self._checkpoint())

    def _fan_out(self, seq: int, applied: Applied) -> None:
        """Encode the event once for all, and once per client that sees its own version."""
        frame = None if applied.event is None else _event_frame(seq, applied.event)
        private = {c: _event_frame(seq, e) for c, e in applied.private.items()}
        self._ring.append((seq, frame, private))
        if len(self._ring) > self._ring_size:
            self._ring_floor = self._ring.popleft()[0]
        for peer in self.peers.values():
            chosen = private.get(peer.client, frame)
            if chosen is not None:
                peer.push(chosen)
        self._tell_facilitators()

    def _keep(self, applied: Applied, ctx: Context) -> None:
        """Store the snapshot (or the record) an applied op takes.

        Every replica stores it; the first wins and the others find it there, so a
        snapshot survives any one process dying right after the op.
        """
        event = applied.event or {}
        kind = event.get("kind")
        if kind == "phase.next":
            closed = self.board.phase - 1
            body = snapshot_body(self.board, event["snapshot"], phase=closed,
                                 label=PHASES[closed - 1], at=ctx.at, by=ctx.author)  # fmt: skip
        elif kind == "snapshot.take":
            body = snapshot_body(self.board, event["snapshot"], phase=self.board.phase,
                                 label=event["label"], at=ctx.at, by=ctx.author)  # fmt: skip
        elif kind == "freeze":
            body = record_body(self.board)
        else:
            return
        task = asyncio.create_task(self._save_snapshot(body))
        self._tasks.add(task)
        self._saving[ctx.seq] = task
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._saving.pop(ctx.seq, None))

    async def _save_snapshot(self, body: dict[str, Any]) -> None:
        try:
            await self._backend.save_snapshot(self.workshop_id, body["id"], body)
        except BackendError as error:  # most often: another replica stored it first
            await self._check_stored(body, error)

    async def _check_stored(self, body: dict[str, Any], error: BackendError) -> None:
        try:
            existing = await self._backend.get_snapshot(self.workshop_id, body["id"])
        except BackendError:
            existing = None
        if existing is None:
            log.error("could not save snapshot %s of room %s: %s", body["id"],
                      self.workshop_id, error)  # fmt: skip
        elif existing.get("hash") != body["hash"]:  # the reducer is deterministic: a bug
            log.error("snapshot %s of room %s differs between replicas", body["id"],
                      self.workshop_id)  # fmt: skip

    def _tell_facilitators(self) -> None:
        """Send the points of vigilance to local facilitators when they change."""
        facilitators = [p for p in self.peers.values() if p.role == "facilitator"]
        if not facilitators:
            self._vigilance = None
            return
        frame = encode({"type": "vigilance", "checks": check(self.board)})
        if frame == self._vigilance:
            return
        self._vigilance = frame
        for peer in facilitators:
            peer.push(frame)

    async def _checkpoint(self) -> None:
        if self.deleted:
            return
        self._since_checkpoint = 0
        await self._backend.save_checkpoint(
            self.workshop_id, self.applied, self.board.to_dict(tombstones=True)
        )

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- what the socket layer asks --------------------------------------------------

    async def outcome(self, seq: int) -> RoomError | None:
        """Wait until ``seq`` is applied here; None if it applied, else why it was rejected."""
        if seq <= self.applied:
            result = self._rejections.get(seq)
        else:
            future: asyncio.Future[RoomError | None] = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(seq, []).append(future)
            self.on_resync()  # the doorbell may be late: the log is the truth
            result = await future
        saving = self._saving.get(seq)
        if saving is not None:  # once acked, the op's snapshot can be opened at once
            await asyncio.shield(saving)
        return result

    async def join(self, peer: Peer, since: int | None) -> None:
        """Add a peer: first what it missed (or the whole board), then live events."""
        if since is not None and since > self.applied:
            self.on_resync()
            if self._filling is not None:
                await asyncio.shield(self._filling)
        welcome: dict[str, Any] = {
            "type": "welcome",
            "v": PROTOCOL_VERSION,
            "workshop": self.workshop_id,
            "sid": peer.sid,
            "role": peer.role,
            "seq": self.applied,
        }
        if since is not None:
            catchup = self._ring_floor <= since <= self.applied
            RESYNCS.labels("catchup" if catchup else "full").inc()
        if since is not None and self._ring_floor <= since <= self.applied:
            welcome["events"] = [
                orjson.Fragment(chosen)
                for s, frame, private in self._ring
                if s > since and (chosen := private.get(peer.client, frame)) is not None
            ]
        else:
            welcome["state"] = self.board.to_dict(viewer=_viewer(peer))
        self.peers[peer.sid] = peer
        peer.push(encode(welcome))
        if peer.role == "facilitator":
            peer.push(encode({"type": "vigilance", "checks": check(self.board)}))
        await self._announce()

    async def leave(self, peer: Peer) -> None:
        """Forget a peer and tell the room."""
        if self.peers.pop(peer.sid, None) is not None:
            await self._announce()

    async def drag(self, peer: Peer, note: str | None) -> None:
        """Tell the room (every process) which note this peer holds, if any."""
        drag = {"sid": peer.sid, "name": peer.name, "note": note}
        await self._backend.publish_presence(
            self.workshop_id, orjson.dumps({"node": self._node_id, "drag": drag})
        )

    # -- presence --------------------------------------------------------------------

    async def _announce(self) -> None:
        users = [{"sid": p.sid, "name": p.name, "role": p.role} for p in self.peers.values()]
        await self._backend.publish_presence(
            self.workshop_id, orjson.dumps({"node": self._node_id, "users": users})
        )

    async def _announce_forever(self) -> None:
        while True:
            await asyncio.sleep(ROSTER_HEARTBEAT)
            try:
                await self._announce()
            except Exception:
                log.exception("presence heartbeat failed in room %s", self.workshop_id)
            self._expire_rosters()

    def _expire_rosters(self) -> None:
        now = time.monotonic()
        stale = [n for n, (at, _) in self._rosters.items() if now - at > ROSTER_EXPIRY]
        for node in stale:
            del self._rosters[node]
        if stale:
            self._broadcast_roster()

    def _broadcast_roster(self) -> None:
        """Send the merged roster now, or once ROSTER_INTERVAL has passed since the last."""
        if self._roster_due is not None:
            return  # a send is scheduled; it will carry this change too
        wait = self._roster_at + ROSTER_INTERVAL - time.monotonic()
        if wait > 0:
            self._roster_due = asyncio.get_running_loop().call_later(wait, self._send_roster)
        else:
            self._send_roster()

    def _send_roster(self) -> None:
        self._roster_due = None
        self._roster_at = time.monotonic()
        users = [u for _, roster in self._rosters.values() for u in roster]
        users.sort(key=lambda u: (u.get("name", ""), u.get("sid", "")))
        frame = encode({"type": "presence", "users": users})
        if frame == self._roster_sent:
            return  # heartbeats re-announce unchanged rosters: nobody needs them again
        self._roster_sent = frame
        for peer in self.peers.values():
            peer.push(frame)


def _viewer(peer: Peer) -> Viewer:
    return Viewer(peer.role, peer.client)


def _event_frame(seq: int, event: Event) -> bytes:
    return encode({"type": "event", "seq": seq, "op": event})
