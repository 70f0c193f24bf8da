"""Put a board in a known shape before a run: columns, and the notes the clients move.

Seeding goes through the same websocket protocol as any browser (join, then ops,
waiting for every ack), so a seeded board is a board a real room could hold.
"""

import asyncio
import functools
from collections.abc import Callable

import orjson

from .wsclient import connect

__all__ = ["column_ids", "note_id", "seed_room"]

JOIN_TIMEOUT = 30.0


def column_ids(count: int) -> list[str]:
    """The ids of the columns a seeded board has."""
    return [f"c{i}" for i in range(count)]


def note_id(index: int) -> str:
    """The id of the ``index``-th seeded note."""
    return f"n{index}"


async def seed_room(
    port: int, workshop_id: str, secret: str, *, columns: int, notes: int, batch: int = 200
) -> None:
    """Add ``columns`` columns and ``notes`` notes (spread over the columns) to a room."""
    acks: dict[int, bytes] = {}
    welcomed = asyncio.Event()
    changed = asyncio.Event()

    def on_message(data: bytes, _at: float) -> None:
        if data.startswith(b'{"type":"welcome"'):
            welcomed.set()
        elif data.startswith((b'{"type":"ack"', b'{"type":"reject"')):
            message = orjson.loads(data)
            acks[message["cop"]] = data
            changed.set()

    client = await connect("127.0.0.1", port, f"/ws/{workshop_id}", on_message)
    join = {"type": "join", "v": 1, "token": secret, "client": "bench-seed",
            "name": "seed", "since": None}  # fmt: skip
    client.send(orjson.dumps(join))
    await asyncio.wait_for(welcomed.wait(), JOIN_TIMEOUT)
    cols = column_ids(columns)
    ops: list[dict[str, object]] = [{"kind": "column.add", "id": c, "title": c} for c in cols]
    for i in range(notes):
        column = cols[i % len(cols)] if cols else None
        ops.append({"kind": "note.add", "id": note_id(i), "text": f"Constat {i}",
                    "column": column})  # fmt: skip
    cop = 0
    for start in range(0, len(ops), batch):
        for op in ops[start : start + batch]:
            cop += 1
            client.send(orjson.dumps({"type": "op", "cop": cop, "op": op}))
        acked = functools.partial(acks.__contains__, cop)  # the batch's last op is acked
        await asyncio.wait_for(_until(acked, changed), JOIN_TIMEOUT)
    rejected = [raw for raw in acks.values() if raw.startswith(b'{"type":"reject"')]
    client.close()
    await asyncio.wait_for(client.lost, 10)
    if rejected:
        raise RuntimeError(f"seeding room {workshop_id} was refused: {rejected[0]!r}")


async def _until(check: Callable[[], bool], changed: asyncio.Event) -> None:
    while not check():
        changed.clear()
        await changed.wait()
