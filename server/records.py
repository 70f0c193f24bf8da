"""What a room's log holds, and the digests that identify its content.

The bottom layer: pure data, imported by the room core (``rooms/``) and by the stores
(``backends/``) alike, so that neither imports the other to speak of a committed op.
"""

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

import orjson

__all__ = [
    "NAME_FIELDS",
    "CommitResult",
    "Committed",
    "OpRecord",
    "content_hash",
    "name_digest",
    "rehash",
    "scrub",
]

#: The fields of stored records and snapshots that hold a pseudonym.
NAME_FIELDS = frozenset({"author", "by", "facilitator", "name"})


@dataclass(frozen=True, slots=True)
class OpRecord:
    """An op as committed: who sent it, under which client op id, and when.

    ``op`` is the op as the protocol validated it (a JSON object); the room core
    reads it as one of the typed ops of ``rooms/ops.py``.
    """

    client: str
    cop: int
    op: Any
    author: str
    role: str
    at: int  # milliseconds since the epoch, on the committing process's clock


@dataclass(frozen=True, slots=True)
class Committed:
    """An op with the sequence number the store gave it."""

    seq: int
    record: OpRecord

    def to_bytes(self) -> bytes:
        """The stored and published form."""
        return orjson.dumps({"seq": self.seq, **asdict(self.record)})

    @classmethod
    def from_bytes(cls, raw: bytes | str) -> "Committed":
        """Read back what :meth:`to_bytes` wrote."""
        data = orjson.loads(raw)
        seq = data.pop("seq")
        return cls(seq=seq, record=OpRecord(**data))


@dataclass(frozen=True, slots=True)
class CommitResult:
    """The seq an op got; ``duplicate`` when it had been committed before (a retry).

    ``known`` is False for a retry of an op so old that its log entry was compacted
    away: it was committed, but at which seq is no longer known (``seq`` is then only
    the seq of a later op of the same client, not this op's).
    """

    seq: int
    duplicate: bool
    known: bool = True


def content_hash(state: dict[str, Any]) -> str:
    """The sha256 of a board view's canonical JSON (sorted keys), its ``seq`` left out.

    The seq is left out because rejected ops still advance it: a frozen board keeps
    the hash it was frozen with.
    """
    body = {k: v for k, v in state.items() if k != "seq"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def name_digest(name: str) -> str:
    """How an erased pseudonym is remembered: its sha256, so the name itself is gone."""
    return hashlib.sha256(name.encode()).hexdigest()


def scrub(value: Any, digest: str, replacement: str) -> Any:
    """``value`` (parsed JSON) with every pseudonym field whose name has ``digest``
    replaced. The erase op itself names the pseudonym by digest, never by a name
    field, so a scrub never rewrites the op that asked for it.

    A table (``{"fields": [...], "rows": [[...], ...]}``, a checkpoint's notes) names
    its columns once: a row's cells are scrubbed as the fields they stand for."""
    if isinstance(value, dict):
        if _is_table(value):
            names = value["fields"]
            rows = [
                [
                    _scrub_field(name, cell, digest, replacement)
                    for name, cell in zip(names, row, strict=True)
                ]
                for row in value["rows"]
            ]
            return {"fields": names, "rows": rows}
        return {key: _scrub_field(key, item, digest, replacement) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, digest, replacement) for item in value]
    return value


def _scrub_field(key: str, item: Any, digest: str, replacement: str) -> Any:
    if key in NAME_FIELDS and isinstance(item, str) and name_digest(item) == digest:
        return replacement
    return scrub(item, digest, replacement)


def _is_table(value: dict[str, Any]) -> bool:
    """Whether ``value`` is a table: its field names, and rows of as many cells."""
    names, rows = value.get("fields"), value.get("rows")
    return (
        value.keys() == {"fields", "rows"}
        and isinstance(names, list)
        and all(isinstance(name, str) for name in names)
        and isinstance(rows, list)
        and all(isinstance(row, list) and len(row) == len(names) for row in rows)
    )


def rehash(body: dict[str, Any]) -> dict[str, Any]:
    """A stored snapshot (or the official record) whose hashes match its state again,
    after a scrub rewrote names in it: every replica that replays the log then
    computes the same hash as the one stored."""
    state = body.get("state")
    if not isinstance(state, dict):
        return body
    digest = content_hash(state)
    out = {**body, "hash": digest}
    record = out.get("record")
    if isinstance(record, dict) and "hash" in record:
        out["record"] = {**record, "hash": digest}
    return out
