"""The room hub: the thin asyncio adapter around one room's :class:`RoomReplica`.

It feeds the replica its inputs (this process's commits, the bus's doorbell, the log,
peers joining and leaving) and carries out the actions it returns: encode a message
once and push the same bytes to each socket, read the log, store a snapshot or a
checkpoint, wake whoever waits for an op's outcome, close a socket. Presence (who is
here, who drags what) is ephemeral and handled here with :class:`Roster`: it travels
on the bus only.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Coroutine, Iterable
from typing import Any, Protocol

from ..backends.base import BackendError, Bus, LogTrimmedError, Store
from ..metrics import FANOUT_SECONDS, RESYNCS
from ..records import CommitResult, Committed, OpRecord
from .messages import DragMessage, User, encode
from .ops import DEFAULT_LIMITS, RoomLimits
from .presence import ROSTER_HEARTBEAT, Roster, parse_presence, presence_payload
from .replica import (
    Action,
    Fill,
    Kick,
    Outcome,
    PeerInfo,
    Resynced,
    RoomReplica,
    SaveCheckpoint,
    Send,
    Settle,
    StoreSnapshot,
)

__all__ = ["OutcomeTimeoutError", "Peer", "RoomHub", "revocation"]

log = logging.getLogger(__name__)

#: A roster frame lists everyone, so sending one per join would cost O(N²) bytes while a
#: crowd arrives (1,000 joins: ~18 GB): send at most this often, the last change always.
ROSTER_INTERVAL = 0.25
#: The points of vigilance are recomputed at most this often, and only when watched.
VIGILANCE_INTERVAL = 0.25
#: How long an op's sender waits for its outcome before giving up (the client resends).
OUTCOME_TIMEOUT = 10.0
#: Backoff between two attempts to read the log after a failure.
FILL_RETRY = (0.05, 2.0)
#: How long a gap may wait for its missing op's doorbell before the log is read: with
#: several processes, a process's own commit often lands a moment before the doorbell
#: of another's op numbered just before it (two connections), and reading the log for
#: each such gap cost a round trip to Redis per op.
GAP_GRACE = 0.005


class OutcomeTimeoutError(BackendError):
    """An op was committed, but this process could not apply it in time (the log is out
    of reach): the client reconnects and resends it, and its retry is answered alike."""


def revocation(role: str) -> bytes:
    """The bus message that closes, on every process, the sockets of ``role``'s link
    ("*": every socket, the workshop is deleted)."""
    return presence_payload("api", revoke=role)


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
    """One room in this process: its replica, its sockets and its presence."""

    def __init__(
        self,
        workshop_id: str,
        store: Store,
        bus: Bus,
        node_id: str,
        *,
        ring_size: int = 2000,
        checkpoint_every: int = 500,
        limits: RoomLimits = DEFAULT_LIMITS,
        outcome_timeout: float = OUTCOME_TIMEOUT,
    ) -> None:
        self.workshop_id = workshop_id
        self.replica = RoomReplica(
            workshop_id, limits=limits, ring_size=ring_size, checkpoint_every=checkpoint_every
        )
        self.peers: dict[str, Peer] = {}
        self._store = store
        self._bus = bus
        self._node_id = node_id
        self.outcome_timeout = outcome_timeout  # seconds an op's sender waits, at most
        self._waiters: dict[int, list[asyncio.Future[Outcome]]] = {}
        self._saving: dict[int, asyncio.Task[None]] = {}  # seq -> its snapshot being stored
        self._filling: asyncio.Task[None] | None = None
        self._fill_again = False  # the replica asked for a fill while one was under way
        self._scrubbing = asyncio.Lock()  # erasures rewrite storage one at a time
        self._gap_closed: asyncio.Future[None] | None = None  # a fill waits for the doorbell
        self._tasks: set[asyncio.Task[Any]] = set()
        self._roster = Roster()
        self._roster_sent: bytes | None = None
        self._roster_due: asyncio.TimerHandle | None = None
        self._roster_at = 0.0
        self._vigilance_due: asyncio.TimerHandle | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def board(self) -> Any:
        """The board as this replica holds it now (read-only use)."""
        return self.replica.board

    def public_view(self) -> dict[str, Any]:
        """The board as anyone may see it, shared with every reader of this seq (read-only)."""
        return self.replica.public_view()

    @property
    def applied(self) -> int:
        """The seq of the last op applied here."""
        return self.replica.applied

    @property
    def deleted(self) -> bool:
        """Whether the workshop was deleted while this room was open."""
        return self.replica.deleted

    # -- lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        """Subscribe, then load the latest checkpoint and the log after it."""
        await self._bus.subscribe(self.workshop_id, self)
        try:
            self._do(await self._load())
        except BaseException:
            await self._bus.unsubscribe(self.workshop_id, self)
            raise
        self._heartbeat = asyncio.create_task(self._announce_forever())

    async def close(self) -> None:
        """Unsubscribe, finish what is under way and leave a checkpoint behind."""
        self._closed = True
        await self._bus.unsubscribe(self.workshop_id, self)
        for handle in (self._roster_due, self._vigilance_due):
            if handle is not None:
                handle.cancel()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        if self._filling is not None:
            self._filling.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, BackendError):  # logged there
                await task
        checkpoint = self.replica.checkpoint()
        if checkpoint is not None:
            try:
                await self._store.save_checkpoint(self.workshop_id, checkpoint.seq,
                                                  checkpoint.state)  # fmt: skip
            except BackendError as error:
                log.warning("room %s closed without a checkpoint: %s", self.workshop_id, error)
        for futures in self._waiters.values():
            for future in futures:
                if not future.done():
                    future.set_exception(OutcomeTimeoutError("the room closed"))
        self._waiters.clear()

    async def _load(self) -> list[Action]:
        checkpoint = await self._store.load_checkpoint(self.workshop_id)
        after = 0 if checkpoint is None else checkpoint[0]
        records = await self._store.read_since(self.workshop_id, after)
        return self.replica.load(checkpoint, records)

    # -- what the socket layer and the HTTP API ask ------------------------------------

    async def commit_many(self, records: list[OpRecord]) -> list[CommitResult]:
        """Commit ops in order, in one write where the store can (an import), and apply
        them here at once (no wait for the bus's doorbell)."""
        return await self.submit(records)

    def submit(self, records: list[OpRecord]) -> Awaitable[list[CommitResult]]:
        """``commit_many``, handed to the store now (:meth:`Store.submit`): a socket's ops
        read while its last commit was under way."""
        return self._applied(records, self._store.submit(self.workshop_id, records))

    async def _applied(
        self, records: list[OpRecord], committing: Awaitable[list[CommitResult]]
    ) -> list[CommitResult]:
        results = await committing
        for result, record in zip(results, records, strict=True):
            if not result.duplicate:
                self._do(self.replica.receive(Committed(result.seq, record)))
        return results

    async def outcome(self, seq: int) -> Outcome:
        """Wait until ``seq`` is applied here: applied, or refused and why.

        Raises :class:`OutcomeTimeoutError` when the log stays out of reach too long.
        """
        outcome = self.replica.outcome(seq)
        if outcome is None:
            future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(seq, []).append(future)
            self._do(self.replica.resync())  # the doorbell may be late: the log is the truth
            try:
                outcome = await asyncio.wait_for(future, self.outcome_timeout)
            except TimeoutError:
                raise OutcomeTimeoutError(f"op {seq} was not applied in time") from None
            finally:
                waiting = self._waiters.get(seq, [])
                if future in waiting:
                    waiting.remove(future)
                if not waiting:
                    self._waiters.pop(seq, None)
        saving = self._saving.get(seq)
        if saving is not None:  # once acked, the op's snapshot can be opened at once
            await asyncio.shield(saving)
        return outcome

    async def join(self, peer: Peer, since: int | None) -> None:
        """Add a peer: first what it missed (or the whole board), then live events."""
        if since is not None and since > self.applied:
            # it saw more than this process has applied: read the log first
            self._do(self.replica.resync())
            if self._filling is not None:
                await asyncio.shield(self._filling)
        self.peers[peer.sid] = peer
        info = PeerInfo(peer.sid, peer.client, peer.role, peer.name)
        self._do(self.replica.join(info, since))
        self._schedule_vigilance()
        await self._announce()

    async def leave(self, peer: Peer) -> None:
        """Forget a peer and tell the room."""
        self.replica.leave(peer.sid)
        if self.peers.pop(peer.sid, None) is not None:
            await self._announce()

    def scrub_later(self, digest: str, replacement: str) -> None:
        """Rewrite an erased pseudonym out of storage, in the background, one erasure at a
        time per room (it rereads and rewrites every row of the workshop)."""

        async def scrub() -> None:
            async with self._scrubbing:
                try:
                    await self._store.scrub_author(self.workshop_id, digest, replacement)
                except BackendError as error:  # the next erasure of the name scrubs again
                    log.error("room %s: an erased name is still in storage: %s",
                              self.workshop_id, error)  # fmt: skip

        self._spawn(scrub())

    async def drag(self, peer: Peer, note: str | None) -> None:
        """Tell the room (every process) which note this peer holds, if any."""
        drag = {"sid": peer.sid, "name": peer.name, "note": note}
        await self._bus.publish_presence(
            self.workshop_id, presence_payload(self._node_id, drag=drag)
        )

    # -- the bus's feed (RoomListener) -----------------------------------------------

    def on_commit(self, committed: Committed) -> None:
        """A committed op from another process (or our own, rung back)."""
        self._do(self.replica.receive(committed))

    def on_resync(self) -> None:
        """The bus may have dropped ops: read the log."""
        self._do(self.replica.resync())

    def on_presence(self, payload: bytes) -> None:
        """Merge another process's roster, relay someone's drag, or close revoked sockets."""
        try:
            message = parse_presence(payload)
            if "users" in message:
                users: list[User] = [
                    {"sid": str(u["sid"]), "name": str(u["name"]), "role": str(u["role"])}
                    for u in message["users"]
                ]
                node = message["node"]
                newcomer = self._roster.update(node, users, time.monotonic())
                self._broadcast_roster()
                if newcomer and node != self._node_id and self.peers:
                    self._spawn(self._announce())  # it has not heard of our users yet
            elif "revoke" in message:
                self._do(self.replica.revoke(str(message["revoke"])))
            elif "drag" in message:
                drag = message["drag"]
                frame = encode(_drag(drag))
                for sid, peer in self.peers.items():
                    if sid != drag["sid"]:
                        peer.push(frame)
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed presence message in room %s", self.workshop_id)

    # -- carrying out the replica's actions --------------------------------------------

    def _do(self, actions: Iterable[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                frame = encode(action.message)
                for sid in action.to:
                    peer = self.peers.get(sid)
                    if peer is not None:
                        peer.push(frame)
            elif isinstance(action, Settle):
                self._settle(action)
            elif isinstance(action, Fill):
                self._start_fill()
            elif isinstance(action, StoreSnapshot):
                self._store_snapshot(action)
            elif isinstance(action, SaveCheckpoint):
                self._spawn(self._save_checkpoint(action))
            elif isinstance(action, Kick):
                peer = self.peers.get(action.sid)
                if peer is not None:
                    peer.kick(action.code, action.message)
            elif isinstance(action, Resynced):
                RESYNCS.labels(action.kind).inc()
            else:
                raise AssertionError(f"unhandled action {action!r}")
        waiting = self._gap_closed
        if waiting is not None and not waiting.done() and not self.replica.has_gap:
            waiting.set_result(None)
        self._schedule_vigilance()

    def _settle(self, settle: Settle) -> None:
        outcome = settle.outcome
        if outcome.applied and not settle.replayed:
            FANOUT_SECONDS.observe(max(0.0, time.time() - settle.at / 1000))
        for future in self._waiters.pop(outcome.seq, ()):
            if not future.done():
                future.set_result(outcome)

    def _start_fill(self) -> None:
        if self._closed:
            return
        if self._filling is not None:
            self._fill_again = True  # the running task reads once more before it ends
            return
        self._filling = asyncio.create_task(self._fill(gap=self.replica.has_gap))

    async def _fill(self, *, gap: bool = False) -> None:
        """Read the log until the replica has no gap, retrying failures while it has one
        or someone waits for an outcome."""
        delay = FILL_RETRY[0]
        try:
            if gap and await self._gap_closes():
                self._do(self.replica.filled([]))  # the doorbell came: nothing to read
                return
            while True:
                try:
                    self._fill_again = False
                    try:
                        records = await self._store.read_since(self.workshop_id, self.applied)
                        actions = self.replica.filled(records)
                    except LogTrimmedError:  # too far behind: the checkpoint, then a reset
                        actions = await self._load()  # it may leave a gap to fill: go on
                except BackendError as error:
                    self.replica.fill_failed()
                    if self._closed or (not self.replica.has_gap and not self._waiters):
                        return
                    log.warning("room %s: could not read the log (%s); retrying in %.2fs",
                                self.workshop_id, error, delay)  # fmt: skip
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, FILL_RETRY[1])
                    continue
                more = any(isinstance(a, Fill) for a in actions)
                self._do(a for a in actions if not isinstance(a, Fill))
                if not more and not self._fill_again:
                    return
        finally:
            self._filling = None
            if self._fill_again and not self._closed:  # asked for while ending: once more
                self._fill_again = False
                self._start_fill()

    async def _gap_closes(self) -> bool:
        """Wait up to GAP_GRACE for the ops behind a gap to arrive by the bus; whether they did."""
        if not self.replica.has_gap:
            return True  # closed before this task even started
        self._gap_closed = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(GAP_GRACE):
                await self._gap_closed
        except TimeoutError:
            pass
        finally:
            self._gap_closed = None
        return not self.replica.has_gap

    def _store_snapshot(self, action: StoreSnapshot) -> None:
        task = self._spawn(self._save_snapshot(action.body))
        self._saving[action.seq] = task
        task.add_done_callback(lambda _: self._saving.pop(action.seq, None))

    async def _save_snapshot(self, body: dict[str, Any]) -> None:
        """Store a snapshot; every replica tries, the first wins, the others check it."""
        try:
            await self._store.save_snapshot(self.workshop_id, body["id"], body)
            return
        except BackendError as error:  # most often: another replica stored it first
            try:
                existing = await self._store.get_snapshot(self.workshop_id, body["id"])
            except BackendError:
                existing = None
            if existing is None:
                log.error("could not save snapshot %s of room %s: %s", body["id"],
                          self.workshop_id, error)  # fmt: skip
            elif existing.get("hash") != body["hash"]:  # the reducer is deterministic: a bug
                log.error("snapshot %s of room %s differs between replicas", body["id"],
                          self.workshop_id)  # fmt: skip

    async def _save_checkpoint(self, checkpoint: SaveCheckpoint) -> None:
        if self.replica.deleted:
            return
        try:
            await self._store.save_checkpoint(self.workshop_id, checkpoint.seq, checkpoint.state)
        except BackendError as error:  # the next one will do; the log still holds every op
            log.warning("room %s: checkpoint at %d not saved: %s", self.workshop_id,
                        checkpoint.seq, error)  # fmt: skip

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> "asyncio.Task[None]":
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- throttled views ----------------------------------------------------------------

    def _schedule_vigilance(self) -> None:
        """Recompute the points of vigilance soon, once, if a facilitator watches."""
        if self._vigilance_due is None and self.replica.vigilance_due and not self._closed:
            loop = asyncio.get_running_loop()
            self._vigilance_due = loop.call_later(VIGILANCE_INTERVAL, self._tick)

    def _tick(self) -> None:
        self._vigilance_due = None
        self._do(self.replica.tick())

    # -- presence ----------------------------------------------------------------------

    async def _announce(self) -> None:
        users = [{"sid": p.sid, "name": p.name, "role": p.role} for p in self.peers.values()]
        await self._bus.publish_presence(
            self.workshop_id, presence_payload(self._node_id, users=users)
        )

    async def _announce_forever(self) -> None:
        while True:
            await asyncio.sleep(ROSTER_HEARTBEAT)
            try:
                await self._announce()
            except BackendError as error:
                log.warning("presence heartbeat failed in room %s: %s", self.workshop_id, error)
            if self._roster.expire(time.monotonic()):
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
        frame = encode(self._roster.message())
        if frame == self._roster_sent:
            return  # heartbeats re-announce unchanged rosters: nobody needs them again
        self._roster_sent = frame
        for peer in self.peers.values():
            peer.push(frame)


def _drag(drag: dict[str, Any]) -> DragMessage:
    note = drag.get("note")
    return {"type": "drag", "sid": str(drag["sid"]), "name": str(drag["name"]),
            "note": None if note is None else str(note)}  # fmt: skip
