"""What every room relies on, in two parts: a durable Store and an ephemeral Bus.

The Store owns the truth of each room: it gives an op the room's next sequence number
atomically, deduplicates retries on (client id, client op id), makes the op durable
before answering, and keeps checkpoints, snapshots and workshop metadata. The Bus
carries what is not kept: the doorbell that tells other processes an op was committed,
presence, and revocations. One process needs no bus beyond itself (the in-process
:class:`~atelier.backends.memory.MemoryBus`); several share Redis for both.

The store rings the doorbell itself when its commit can do so atomically (Redis's
commit script publishes): a process that commits never has to publish afterwards, so
a crash between the two cannot hide an op from the other processes.

Exception tree::

    BackendError          the store or the bus cannot serve the request now
    ├── LogTrimmedError   the ops asked for were compacted away: load a checkpoint
    └── StorageFullError  the disk (or Redis's memory) is at its floor: writes are refused
"""

from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import orjson

from ..records import CommitResult, Committed, OpRecord, rehash, scrub

__all__ = [
    "BackendError",
    "Bus",
    "CommitResult",
    "Committed",
    "JoinLink",
    "LogTrimmedError",
    "OpRecord",
    "RoomListener",
    "StorageFullError",
    "Store",
    "WorkshopMeta",
    "rehash",
    "scrub",
]


class BackendError(Exception):
    """The backend cannot serve the request now."""


class LogTrimmedError(BackendError):
    """The log no longer holds the ops after the requested seq (compacted)."""


class StorageFullError(BackendError):
    """Free disk space (or Redis's memory headroom) is below its floor: new writes are
    refused with the code ``storage_full`` before the disk or Redis is actually full."""

    code = "storage_full"


@dataclass(frozen=True, slots=True)
class WorkshopMeta:
    """A workshop's identity and its capability links, stored hashed."""

    id: str
    title: str
    territory: str
    created_at: int
    token_hashes: dict[str, str]  # role -> sha256 hex of that link's secret
    previous: str | None = None  # the frozen workshop this one reopens, if any

    def to_bytes(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_bytes(cls, raw: bytes | str) -> "WorkshopMeta":
        return cls(**orjson.loads(raw))


@dataclass(frozen=True, slots=True)
class JoinLink:
    """What a short join code stands for: a workshop's participant link, for a while."""

    workshop_id: str
    secret: str  # the participant link's secret (a participant may share it anyway)
    expires: int  # ms since the epoch


class RoomListener(Protocol):
    """What a room hub exposes to the bus that feeds it. Calls must not block."""

    def on_commit(self, committed: Committed) -> None:
        """A committed op, possibly out of order, possibly twice."""

    def on_presence(self, payload: bytes) -> None:
        """An ephemeral presence message from any process serving this room."""

    def on_resync(self) -> None:
        """The feed may have missed ops (e.g. a dropped subscription): read the log."""


class Store(Protocol):
    """The durable, shared side of every room."""

    async def start(self) -> None:
        """Open connections and files."""

    async def close(self) -> None:
        """Flush and release everything."""

    async def ready(self) -> bool:
        """Whether the store answers now (for /readyz)."""

    async def create_workshop(self, meta: WorkshopMeta) -> None:
        """Store a new workshop's metadata."""

    async def get_workshop(self, workshop_id: str) -> WorkshopMeta | None:
        """A workshop's metadata, or None if there is none with that id."""

    async def update_workshop(self, meta: WorkshopMeta) -> None:
        """Replace an existing workshop's metadata (e.g. a rotated link's hash)."""

    async def delete_workshop(self, workshop_id: str) -> None:
        """Erase the workshop and everything stored for it: log, states, snapshots."""

    async def usage(self) -> dict[str, int]:
        """Bytes stored per workshop (log, checkpoint, snapshots), for operators."""

    async def size(self) -> int:
        """Bytes the store holds in all (the database's files, or Redis's memory)."""

    async def list_workshops(self) -> list[tuple[str, int]]:
        """Every workshop's id with its last activity (ms since the epoch: last op or creation)."""

    async def scrub_author(self, workshop_id: str, digest: str, replacement: str) -> None:
        """Replace the erased pseudonym whose sha256 is ``digest`` wherever it is stored:
        log, checkpoint, snapshots (whose hashes are recomputed, see ``rehash``)."""

    async def restore_workshop(
        self, meta: WorkshopMeta, seq: int, state: dict[str, Any], snapshots: list[dict[str, Any]]
    ) -> None:
        """Recreate a workshop from an export: its board at ``seq`` (the next op gets
        ``seq + 1``) and its snapshots. Refuses an id that exists."""

    async def commit(self, workshop_id: str, record: OpRecord) -> CommitResult:
        """Give ``record`` the room's next seq (or its earlier one if it is a retry) and
        make it durable; a shared store also rings the bus's doorbell for it."""

    async def commit_many(self, workshop_id: str, records: list[OpRecord]) -> list[CommitResult]:
        """Commit ``records`` in order, as one write where the store can (an import)."""

    def submit(self, workshop_id: str, records: list[OpRecord]) -> Awaitable[list[CommitResult]]:
        """``commit_many``, started now: a store that queues commits for a shared write
        queues these before returning (so the commits read in one turn share it);
        awaiting the result gives what ``commit_many`` would. Never raises itself."""

    async def read_since(self, workshop_id: str, seq: int) -> list[Committed]:
        """The committed ops after ``seq``, in order; LogTrimmedError if compacted."""

    async def load_checkpoint(self, workshop_id: str) -> tuple[int, dict[str, Any]] | None:
        """The latest saved board state and its seq."""

    async def save_checkpoint(self, workshop_id: str, seq: int, state: dict[str, Any]) -> None:
        """Save a board state at ``seq`` (ignored if an equal or later one is saved)."""

    async def put_join_code(self, code: str, link: JoinLink) -> bool:
        """Keep a short join code for a participant link until ``link.expires``; False
        when the code is taken (draw another)."""

    async def get_join_code(self, code: str) -> JoinLink | None:
        """The link a join code stands for, while it lasts; None when unknown or expired."""

    async def find_join_code(self, workshop_id: str) -> tuple[str, JoinLink] | None:
        """A workshop's join code that still lasts, if it has one."""

    async def save_snapshot(self, workshop_id: str, snapshot_id: str, body: dict[str, Any]) -> None:
        """Store an immutable snapshot; refuses to overwrite one that exists."""

    async def list_snapshots(self, workshop_id: str) -> list[dict[str, Any]]:
        """Every snapshot of the workshop, oldest first."""

    async def get_snapshot(self, workshop_id: str, snapshot_id: str) -> dict[str, Any] | None:
        """One snapshot, or None."""


class Bus(Protocol):
    """The ephemeral side: who serves a room, and what they tell each other."""

    async def start(self) -> None:
        """Connect (and keep reconnecting) where there is anything to connect to."""

    async def close(self) -> None:
        """Stop feeding every listener and release the connections."""

    async def subscribe(self, workshop_id: str, listener: RoomListener) -> None:
        """Start feeding ``listener`` the room's commits and presence."""

    async def unsubscribe(self, workshop_id: str, listener: RoomListener) -> None:
        """Stop feeding ``listener``."""

    async def publish_presence(self, workshop_id: str, payload: bytes) -> None:
        """Send an ephemeral message to every process serving the room (never logged)."""
