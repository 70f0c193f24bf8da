"""What one workshop may spend, counted alike on every replica: snapshots (their number,
pace and bytes) and erasures (their pace). A facilitator's link is enough to create a
workshop, so none of these may be left unbounded: each would let one link fill the
disk or stall the store for every room.

Pure. Times come from the committed records (integer ms), sizes from the board itself,
so every replica that applies the same log refuses the same ops; the counts are saved
with each checkpoint, so a reloaded replica goes on counting where it was.
"""

from dataclasses import dataclass, field
from typing import Any

import orjson

from ..records import name_digest
from .context import Context
from .errors import RoomError
from .model import Board

__all__ = ["Pace", "Quotas"]

#: Erasures: a burst of 5, then one every 30 s (each rewrites the workshop's storage).
ERASE_BURST = 5
ERASE_INTERVAL_MS = 30_000


@dataclass(slots=True)
class Pace:
    """A token bucket of time, in integer ms: ``burst`` uses at once, then one per
    ``interval``. :meth:`check` says whether one more may go now; :meth:`spend` uses it."""

    credit_ms: int | None = None  # None: full (nothing spent yet)
    credit_at: int = 0

    def check(self, at: int, burst: int, interval: int, code: str, what: str) -> tuple[int, int]:
        """The bucket after one more use at ``at``; RoomError ``code`` if it is too soon."""
        full = burst * interval
        credit = full if self.credit_ms is None else self.credit_ms
        credit = min(full, credit + max(0, at - self.credit_at))
        if credit < interval:
            raise RoomError(code, f"Wait {(interval - credit) / 1000:.0f} s before {what}.")
        return credit - interval, at

    def spend(self, after: tuple[int, int]) -> None:
        """Take the use :meth:`check` allowed (only once the op did apply)."""
        self.credit_ms, self.credit_at = after

    def to_dict(self) -> dict[str, int | None]:
        return {"credit_ms": self.credit_ms, "credit_at": self.credit_at}

    @classmethod
    def from_dict(cls, data: Any) -> "Pace":
        if not isinstance(data, dict) or data.get("credit_ms") is None:
            return cls(None, int(data.get("credit_at", 0)) if isinstance(data, dict) else 0)
        return cls(int(data["credit_ms"]), int(data["credit_at"]))


@dataclass(slots=True)
class Quotas:
    """A workshop's snapshots and erasures so far."""

    named: int = 0  # named snapshots taken
    bytes: int = 0  # bytes of every snapshot and of the record
    snapshot_pace: Pace = field(default_factory=Pace)
    erase_pace: Pace = field(default_factory=Pace)
    _spend: tuple[str, tuple[int, int]] | None = None  # what the op under way would use

    def allow(self, op: Any, board: Board, ctx: Context) -> None:
        """Refuse (RoomError) an op past the workshop's quotas; called only for an op the
        reducer would otherwise apply (the facilitator's, on a board not frozen)."""
        self._spend = None
        kind = op.get("kind")
        if kind == "snapshot.take":
            self._allow_snapshot(board, ctx)
        elif kind == "participant.erase":
            digest = op.get("digest")
            if digest in board.erased and not _signs(board, digest):
                raise RoomError("already_erased", "This pseudonym is erased already.")
            after = self.erase_pace.check(ctx.at, ERASE_BURST, ERASE_INTERVAL_MS,
                                          "erase_too_soon", "the next erasure")  # fmt: skip
            self._spend = ("erase", after)

    def _allow_snapshot(self, board: Board, ctx: Context) -> None:
        limits = ctx.limits
        if self.named >= limits.snapshots:
            message = f"This workshop already holds {limits.snapshots} snapshots."
            raise RoomError("too_many_snapshots", message)
        after = self.snapshot_pace.check(ctx.at, limits.snapshot_burst,
                                         limits.snapshot_interval_ms, "snapshot_too_soon",
                                         "the next snapshot")  # fmt: skip
        size = len(orjson.dumps(board.to_dict(tombstones=True)))
        if self.bytes + size > limits.snapshot_bytes:
            raise RoomError("snapshot_budget",
                            "This workshop's snapshots have used their storage budget "
                            f"({limits.snapshot_bytes // 2**20} MiB).")  # fmt: skip
        self._spend = ("snapshot", after)

    def applied(self) -> None:
        """The op :meth:`allow` let through did apply: it uses its share."""
        if self._spend is not None:
            what, after = self._spend
            if what == "snapshot":
                self.named += 1
                self.snapshot_pace.spend(after)
            else:
                self.erase_pace.spend(after)
        self._spend = None

    def took(self, body: dict[str, Any]) -> None:
        """Count the bytes of a snapshot (or of the record) about to be stored."""
        self.bytes += len(orjson.dumps(body.get("state")))

    def to_dict(self) -> dict[str, Any]:
        return {"named": self.named, "bytes": self.bytes,
                "snapshot_pace": self.snapshot_pace.to_dict(),
                "erase_pace": self.erase_pace.to_dict()}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Any) -> "Quotas":
        if not isinstance(data, dict):
            return cls()  # a checkpoint from before: counting starts again from here
        if "snapshot_pace" not in data:  # saved by the first version of these counts
            pace = Pace.from_dict(data)
            return cls(int(data.get("named", 0)), int(data.get("bytes", 0)), pace)
        return cls(int(data["named"]), int(data["bytes"]), Pace.from_dict(data["snapshot_pace"]),
                   Pace.from_dict(data["erase_pace"]))  # fmt: skip


def _signs(board: Board, digest: Any) -> bool:
    """Whether the pseudonym of ``digest`` signs anything on the board (again, after an
    erasure: its holder may have gone on writing under it)."""
    names = [n.author for n in board.notes.values()]
    names += [i.author for i in board.ideas.values()]
    names += [m.name for m in board.members.values()]
    names += [o.by for o in board.objections.values()]
    return any(name_digest(name) == digest for name in set(names))
