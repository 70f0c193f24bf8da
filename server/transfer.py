"""A whole workshop as one JSON document: for backups and for moving between servers.

The export holds the workshop's metadata (its links stay valid: only their hashes are
kept), its board at the last seq, tombstones included, and every snapshot (the official
record included). It is deterministic: exporting, deleting, importing and exporting
again gives the same bytes.
"""

import dataclasses
from typing import Any

import orjson

from .backends.base import Store, WorkshopMeta
from .rooms.model import Board
from .rooms.ops import DEFAULT_LIMITS, RoomLimits
from .rooms.replica import RoomReplica

__all__ = [
    "FORMAT",
    "TransferError",
    "dumps",
    "export_workshop",
    "import_workshop",
    "load_board",
]

FORMAT = "atelier-workshop/1"


class TransferError(Exception):
    """The workshop cannot be exported or imported (unknown id, bad document, id taken)."""


async def export_workshop(
    backend: Store, workshop_id: str, limits: RoomLimits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """Everything stored for one workshop, as a JSON-ready dict (``limits``: the
    server's, so the log replays as it did there)."""
    meta = await backend.get_workshop(workshop_id)
    if meta is None:
        raise TransferError(f"there is no workshop {workshop_id!r}")
    board = await load_board(backend, workshop_id, limits)
    snapshots = []
    for summary in await backend.list_snapshots(workshop_id):
        body = await backend.get_snapshot(workshop_id, summary["id"])
        if body is not None:
            snapshots.append(body)
    snapshots.sort(key=lambda body: (body.get("seq", 0), body["id"]))
    return {
        "format": FORMAT,
        "workshop": dataclasses.asdict(meta),
        "seq": board.seq,
        "board": board.to_dict(tombstones=True),
        "snapshots": snapshots,
    }


async def load_board(store: Store, workshop_id: str, limits: RoomLimits = DEFAULT_LIMITS) -> Board:
    """A room's board as it stands in the store: its checkpoint and the log after it,
    replayed by a replica of its own (nobody is told anything)."""
    replica = RoomReplica(workshop_id, limits=limits)
    checkpoint = await store.load_checkpoint(workshop_id)
    records = await store.read_since(workshop_id, 0 if checkpoint is None else checkpoint[0])
    replica.load(checkpoint, records)
    return replica.board


def dumps(document: dict[str, Any]) -> bytes:
    """The export's bytes: sorted keys and fixed indentation, so equal exports are equal."""
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


async def import_workshop(backend: Store, document: Any) -> WorkshopMeta:
    """Recreate an exported workshop under its own id (which must be free)."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise TransferError(f"not an Atelier workshop export ({FORMAT})")
    try:
        meta = WorkshopMeta(**document["workshop"])
        seq, board, snapshots = document["seq"], document["board"], document["snapshots"]
    except (KeyError, TypeError) as exc:
        raise TransferError(f"the export is incomplete: {exc}") from None
    if not isinstance(seq, int) or not isinstance(board, dict) or not isinstance(snapshots, list):
        raise TransferError("the export's seq, board or snapshots have the wrong type")
    if await backend.get_workshop(meta.id) is not None:
        raise TransferError(f"a workshop {meta.id!r} exists already here")
    await backend.restore_workshop(meta, seq, board, snapshots)
    return meta
