"""One room's replica, without I/O: it takes inputs and returns the actions they call for.

Like the protocol core of python-websockets, the replica never awaits, never reads a
clock and never touches a socket or a store. Its inputs:

- :meth:`RoomReplica.load`: a checkpoint and the log after it (opening, or reloading
  when the log behind this replica was compacted away);
- :meth:`RoomReplica.receive`: a committed op, from this process's own commit or from
  the bus, possibly late, out of order or twice;
- :meth:`RoomReplica.filled`: the ops read from the log after a :class:`Fill`;
- :meth:`RoomReplica.join` / :meth:`RoomReplica.leave`: a peer (a socket) comes or goes;
- :meth:`RoomReplica.revoke`: a link was replaced or the workshop deleted;
- :meth:`RoomReplica.tick`: time for throttled derived views (the points of vigilance).

Its actions: :class:`Send` a message to some peers, :class:`Fill` from the log,
:class:`StoreSnapshot`, :class:`SaveCheckpoint`, :class:`Settle` an op's outcome,
:class:`Kick` a peer, and :class:`Resynced` (for metrics).

Ops apply strictly in sequence order with the pure reducer; an op the reducer refuses
still takes its seq, and its refusal is remembered (and saved with each checkpoint),
so a retry is answered alike before and after any reload or failover.
"""

from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..records import Committed
from .errors import RoomError
from .messages import (
    PROTOCOL_VERSION,
    EventMessage,
    ResetMessage,
    Role,
    ServerMessage,
    VigilanceMessage,
    WelcomeMessage,
)
from .model import PHASES, Board, Viewer
from .ops import DEFAULT_LIMITS, RoomLimits
from .quotas import Quotas
from .record import record_body, snapshot_body
from .reducer import Applied, Context, Event, apply
from .vigilance import check

__all__ = [
    "Action",
    "Fill",
    "Kick",
    "Outcome",
    "PeerInfo",
    "Resynced",
    "RoomReplica",
    "SaveCheckpoint",
    "Send",
    "Settle",
    "State",
    "StoreSnapshot",
]

#: How many refusals a replica remembers (and checkpoints) for retries to be told.
REJECTIONS_KEPT = 10_000


class State(Enum):
    """Whether the replica may speak to its peers yet."""

    LOADING = "loading"  # a checkpoint and log are being applied: no peer is told
    LIVE = "live"


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """A local socket, as the replica routes to it."""

    sid: str
    client: str  # private events (a silent note, a vote) go by client id
    role: str
    name: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of the op at ``seq``: applied (``code`` None), or refused and why.

    ``code`` is ``outcome_unknown`` for an op older than the refusals remembered.
    """

    seq: int
    code: str | None = None
    message: str = ""

    @property
    def applied(self) -> bool:
        """Whether the op changed the board."""
        return self.code is None


@dataclass(frozen=True, slots=True)
class Send:
    """Encode ``message`` once and push it to the peers ``to``."""

    to: tuple[str, ...]
    message: ServerMessage


@dataclass(frozen=True, slots=True)
class Fill:
    """Read the log after ``after`` and hand what it holds to :meth:`RoomReplica.filled`."""

    after: int


@dataclass(frozen=True, slots=True)
class StoreSnapshot:
    """Store this immutable snapshot (every replica tries; the first one wins)."""

    seq: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SaveCheckpoint:
    """Save the board (and the refusals) at ``seq``, so a reload need not replay the log."""

    seq: int
    state: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Settle:
    """The op at ``seq`` is applied here: wake whoever waits for its outcome."""

    outcome: Outcome
    at: int  # when it was committed, ms since the epoch (for the fan-out metric)
    replayed: bool  # applied while loading: its age is the log's, not the fan-out's


@dataclass(frozen=True, slots=True)
class Kick:
    """Tell a peer why, then close it."""

    sid: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Resynced:
    """A catch-up happened: ``gap``, ``reload`` (this replica), ``catchup``, ``full`` (a peer)."""

    kind: str


Action = Send | Fill | StoreSnapshot | SaveCheckpoint | Settle | Kick | Resynced


@dataclass(slots=True)
class _RingEntry:
    seq: int
    public: Event | None  # the event for everyone (None: only some clients may know)
    private: dict[str, Event] = field(default_factory=dict)  # client -> its own version


class RoomReplica:
    """This process's copy of one room, its sequencing and its peers' routing."""

    def __init__(
        self,
        workshop_id: str,
        *,
        limits: RoomLimits = DEFAULT_LIMITS,
        ring_size: int = 2000,
        checkpoint_every: int = 500,
        check_vigilance: Callable[[Board], Any] = check,
    ) -> None:
        self.workshop_id = workshop_id
        self.board = Board()
        self.state = State.LOADING
        self.deleted = False
        self.peers: dict[str, PeerInfo] = {}
        self._facilitators = 0  # peers with the facilitator role (asked after every op)
        self._limits = limits
        self._ring: deque[_RingEntry] = deque()
        self._ring_size = ring_size
        self._ring_floor = 0  # the ring holds every event after this seq
        self._pending: dict[int, Committed] = {}
        self._filling = False  # a Fill is out and not yet answered
        self._rejections: OrderedDict[int, tuple[str, str]] = OrderedDict()
        self._rejections_floor = 0  # outcomes at or below it that are not kept are unknown
        self._checkpoint_every = checkpoint_every
        self._since_checkpoint = 0
        self._quotas = Quotas()
        self._check = check_vigilance
        self._vigilance_sent: Any = None
        self._vigilance_stale = True
        # the view everyone shares, for the board object and seq it was built at
        self._shared_view: tuple[Board, int, dict[str, Any]] | None = None

    @property
    def applied(self) -> int:
        """The seq of the last op applied here."""
        return self.board.seq

    @property
    def has_gap(self) -> bool:
        """Ops arrived that cannot apply yet: the ones before them must come from the log."""
        return bool(self._pending)

    @property
    def vigilance_due(self) -> bool:
        """A facilitator is here and the points of vigilance may have changed: tick soon."""
        return self._vigilance_stale and self._facilitators > 0

    # -- inputs: the log ---------------------------------------------------------------

    def load(
        self, checkpoint: tuple[int, dict[str, Any]] | None, records: Iterable[Committed]
    ) -> list[Action]:
        """Start again from ``checkpoint`` (None: an empty board) and the log after it.

        Peers are told nothing until the board is whole; if there are peers (a reload),
        each then gets a reset with its own view of the board.
        """
        reloading = self.state is State.LIVE
        self.state = State.LOADING
        seq, saved = checkpoint if checkpoint is not None else (0, None)
        self.board = Board() if saved is None else Board.from_dict(saved)
        self.board.seq = seq
        self._restore_rejections(seq, saved)
        self._quotas = Quotas.from_dict(None if saved is None else saved.get("snapshot_use"))
        self._ring.clear()
        self._ring_floor = seq
        self._filling = False
        actions: list[Action] = []
        for committed in records:
            if committed.seq == self.applied + 1:
                actions += self._apply(committed)
        # what the feed brought while the log was being read follows it
        actions += self._drain()
        self.state = State.LIVE  # ops replayed still count toward the next checkpoint
        self._vigilance_stale = True
        if reloading:
            actions.append(Resynced("reload"))
            for peer in self.peers.values():
                reset: ResetMessage = {"type": "reset", "seq": self.applied,
                                       "state": self._view(peer)}  # fmt: skip
                actions.append(Send((peer.sid,), reset))
        if self._pending:
            self._filling = True
            actions.append(Fill(self.applied))
        return actions

    def receive(self, committed: Committed) -> list[Action]:
        """A committed op: applied now if it is next, else kept until the gap is filled."""
        if committed.seq <= self.applied:
            return []  # seen already
        self._pending[committed.seq] = committed
        if self.state is State.LOADING:
            return []  # the load applies it after the log it is reading
        actions = self._drain()
        if self._pending and not self._filling:
            self._filling = True
            actions.append(Fill(self.applied))
        return actions

    def filled(self, records: Iterable[Committed]) -> list[Action]:
        """The ops a :class:`Fill` read from the log."""
        self._filling = False
        found = False
        for committed in records:
            if committed.seq > self.applied:
                self._pending.setdefault(committed.seq, committed)
                found = True
        actions: list[Action] = [Resynced("gap")] if found else []
        actions += self._drain()
        if self._pending and found:  # more than one page, or more arrived meanwhile
            self._filling = True
            actions.append(Fill(self.applied))
        return actions

    def fill_failed(self) -> None:
        """The log could not be read; the adapter will try again."""
        self._filling = False

    def resync(self) -> list[Action]:
        """The feed may have dropped ops (a subscription was lost): read the log."""
        if self._filling or self.state is State.LOADING:
            return []
        self._filling = True
        return [Fill(self.applied)]

    # -- inputs: peers -----------------------------------------------------------------

    def join(self, peer: PeerInfo, since: int | None) -> list[Action]:
        """Welcome a peer with what it missed since ``since`` (or the whole board)."""
        self.leave(peer.sid)  # a sid joins once; counted once
        self.peers[peer.sid] = peer
        self._facilitators += peer.role == Role.FACILITATOR
        welcome: WelcomeMessage = {
            "type": "welcome",
            "v": PROTOCOL_VERSION,
            "workshop": self.workshop_id,
            "sid": peer.sid,
            "role": peer.role,
            "seq": self.applied,
        }
        actions: list[Action] = []
        if since is not None and self._ring_floor <= since <= self.applied:
            welcome["events"] = [
                _event_message(entry.seq, chosen)
                for entry in self._ring
                if entry.seq > since
                and (chosen := entry.private.get(peer.client, entry.public)) is not None
            ]
            actions.append(Resynced("catchup"))
        else:
            welcome["state"] = self._view(peer)
            if since is not None:
                actions.append(Resynced("full"))
        actions.append(Send((peer.sid,), welcome))
        if peer.role == Role.FACILITATOR:
            actions.append(Send((peer.sid,), self._vigilance_message()))
        return actions

    def leave(self, sid: str) -> bool:
        """Forget a peer; whether it was here."""
        peer = self.peers.pop(sid, None)
        if peer is None:
            return False
        self._facilitators -= peer.role == Role.FACILITATOR
        return True

    def revoke(self, role: str) -> list[Action]:
        """Close the peers of a replaced link (``role``), or everyone (``"*"``: deleted)."""
        if role == "*":
            self.deleted = True  # nothing of it may be written back (no checkpoint)
        code, message = (
            ("workshop_deleted", "This workshop was deleted.")
            if role == "*"
            else ("link_revoked", "This link was replaced.")
        )
        return [Kick(p.sid, code, message) for p in self.peers.values() if role in ("*", p.role)]

    def tick(self) -> list[Action]:
        """Refresh the throttled views: the points of vigilance, for facilitators."""
        if not self.vigilance_due:
            return []
        self._vigilance_stale = False
        message = self._vigilance_message()
        if message["checks"] == self._vigilance_sent:
            return []
        self._vigilance_sent = message["checks"]
        to = tuple(p.sid for p in self.peers.values() if p.role == Role.FACILITATOR)
        return [Send(to, message)]

    # -- questions ---------------------------------------------------------------------

    def outcome(self, seq: int) -> Outcome | None:
        """What became of the op at ``seq``; None while it is not applied here."""
        if seq > self.applied:
            return None
        refused = self._rejections.get(seq)
        if refused is not None:
            return Outcome(seq, *refused)
        if seq <= self._rejections_floor:
            return Outcome(seq, "outcome_unknown",
                           "This change is too old for its outcome to be known; "
                           "the board shows what was kept.")  # fmt: skip
        return Outcome(seq)

    def checkpoint(self) -> SaveCheckpoint | None:
        """The checkpoint to leave behind when the room closes, if anything changed."""
        if self.deleted or not self._since_checkpoint:
            return None
        return self._save_checkpoint()

    def view(self, role: str, client: str | None = None) -> dict[str, Any]:
        """The board as a reader with ``role`` (and ``client``) may see it."""
        return self.board.to_dict(viewer=Viewer(role, client))

    # -- applying ----------------------------------------------------------------------

    def _drain(self) -> list[Action]:
        actions: list[Action] = []
        while (committed := self._pending.pop(self.applied + 1, None)) is not None:
            actions += self._apply(committed)
        for seq in [s for s in self._pending if s <= self.applied]:
            del self._pending[seq]
        return actions

    def _apply(self, committed: Committed) -> list[Action]:
        seq, record = committed.seq, committed.record
        ctx = Context(record.author, record.role, record.client, record.at, seq, self._limits)
        loading = self.state is State.LOADING
        actions: list[Action] = []
        try:
            if record.role == Role.FACILITATOR and self.board.frozen is None:
                # quotas weigh only an op the reducer would apply (a snapshot is encoded)
                self._quotas.allow(record.op, self.board, ctx)
            applied = apply(self.board, record.op, ctx)
            self._quotas.applied()
        except RoomError as error:
            self.board.seq = seq
            self._remember_refusal(seq, error)
            outcome = Outcome(seq, error.code, error.message)
        else:
            self.board.seq = seq
            self._vigilance_stale = True
            actions += self._fan_out(seq, applied, loading)
            actions += self._keep(applied, ctx)
            outcome = Outcome(seq)
        actions.append(Settle(outcome, record.at, loading))
        self._since_checkpoint += 1
        # a checkpoint encodes the whole board: one every max(N, notes) ops keeps its
        # cost per op flat as the board grows, and a reload replays at most as many ops
        due = max(self._checkpoint_every, len(self.board.notes))
        if self._since_checkpoint >= due and not loading:
            actions.append(self._save_checkpoint())
        return actions

    def _fan_out(self, seq: int, applied: Applied, loading: bool) -> list[Action]:
        """Keep the event for catch-ups; unless loading, send it: one message for
        everyone, and one per client that sees its own version."""
        self._ring.append(_RingEntry(seq, applied.event, applied.private))
        if len(self._ring) > self._ring_size:
            self._ring_floor = self._ring.popleft().seq
        if loading or not self.peers:
            return []
        actions: list[Action] = []
        private_sids: list[str] = []
        for client, event in applied.private.items():
            sids = tuple(p.sid for p in self.peers.values() if p.client == client)
            if sids:
                private_sids += sids
                actions.append(Send(sids, _event_message(seq, event)))
        if applied.event is not None:
            if private_sids:
                skip = set(private_sids)
                everyone = tuple(sid for sid in self.peers if sid not in skip)
            else:
                everyone = tuple(self.peers)
            if everyone:
                actions.insert(0, Send(everyone, _event_message(seq, applied.event)))
        return actions

    def _keep(self, applied: Applied, ctx: Context) -> list[Action]:
        """The snapshot (or the official record) an applied op takes, to be stored."""
        event = applied.event or {}
        kind = event.get("kind")
        board = self.board
        if kind == "phase.next":
            closed = board.phase - 1
            body = snapshot_body(board, event["snapshot"], phase=closed,
                                 label=PHASES[closed - 1], at=ctx.at, by=ctx.author)  # fmt: skip
        elif kind == "snapshot.take":
            body = snapshot_body(board, event["snapshot"], phase=board.phase,
                                 label=event["label"], at=ctx.at, by=ctx.author)  # fmt: skip
        elif kind == "freeze":
            body = record_body(board)
        else:
            return []
        self._quotas.took(body)
        return [StoreSnapshot(ctx.seq, body)]

    # -- refusals, kept across reloads ---------------------------------------------------

    def _remember_refusal(self, seq: int, error: RoomError) -> None:
        self._rejections[seq] = (error.code, error.message)
        if len(self._rejections) > REJECTIONS_KEPT:
            oldest, _ = self._rejections.popitem(last=False)
            self._rejections_floor = max(self._rejections_floor, oldest)

    def _restore_rejections(self, seq: int, saved: dict[str, Any] | None) -> None:
        self._rejections.clear()
        kept = None if saved is None else saved.get("rejections")
        if saved is not None and kept is None:
            self._rejections_floor = seq  # a checkpoint from before refusals were saved
            return
        self._rejections_floor = 0 if saved is None else int(saved.get("rejections_floor", 0))
        for entry_seq, code, message in kept or []:
            self._rejections[int(entry_seq)] = (str(code), str(message))

    def _save_checkpoint(self) -> SaveCheckpoint:
        self._since_checkpoint = 0
        state = self.board.to_checkpoint()
        state["rejections"] = [[s, c, m] for s, (c, m) in self._rejections.items()]
        state["rejections_floor"] = self._rejections_floor
        state["snapshot_use"] = self._quotas.to_dict()
        return SaveCheckpoint(self.applied, state)

    # -- views ---------------------------------------------------------------------------

    def _view(self, peer: PeerInfo) -> dict[str, Any]:
        """The board as ``peer`` may see it. Everyone sees the same board but for their
        own votes and silent notes, and building it costs O(board) (6 ms at 5,000 notes):
        the part everyone shares is built once per seq, for every late joiner after."""
        viewer = Viewer(peer.role, peer.client)
        if self.board.holds_silent_notes_of(peer.client):
            return self.board.to_dict(viewer=viewer)
        return {**self.public_view(), "votes": self.board.votes_view(viewer)}

    def public_view(self) -> dict[str, Any]:
        """The board as anyone may see it (no one's own votes or silent notes), built once
        per seq and shared: read it, never change it."""
        shared = self._shared_view
        if shared is None or shared[0] is not self.board or shared[1] != self.board.seq:
            shared = self._shared_view = (self.board, self.board.seq, self.board.to_dict())
        return shared[2]

    def _vigilance_message(self) -> VigilanceMessage:
        return {"type": "vigilance", "checks": self._check(self.board)}


def _event_message(seq: int, event: Event) -> EventMessage:
    return {"type": "event", "seq": seq, "op": event}
