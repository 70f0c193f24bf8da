"""The room hub (the asyncio adapter) on a real SQLite store: gaps, reloads and fills."""

import asyncio
from pathlib import Path

from atelier.backends.base import WorkshopMeta
from atelier.backends.memory import MemoryBus
from atelier.backends.sqlite import SqliteStore
from atelier.records import Committed, OpRecord
from atelier.rooms.hub import RoomHub
from atelier.rooms.model import Board
from atelier.rooms.reducer import Context, apply


def record(n: int) -> OpRecord:
    op = {"kind": "note.add", "id": f"n{n}", "text": f"constat {n}"}
    return OpRecord("elsewhere", n, op, "Fanny", "facilitator", 1_000 + n)


async def test_a_gap_left_by_a_reload_is_filled_later(tmp_path: Path) -> None:
    """Behind a compacted log, the hub reloads from the checkpoint with an op still
    pending past a gap; when the missing op lands, a resync fills it: the room never
    stalls (the review's stuck fill), and the pending op's outcome comes."""
    mine, elsewhere = SqliteStore(tmp_path, keep=2), SqliteStore(tmp_path, keep=2)
    await mine.start()
    await elsewhere.start()
    await elsewhere.create_workshop(WorkshopMeta("w", "Atelier", "", 1, {}))
    hub = RoomHub("w", mine, MemoryBus(), "node-1", outcome_timeout=5.0)
    await hub.open()
    try:
        board = Board()
        for n in range(1, 13):  # another process commits, checkpoints at 10, compacts
            await elsewhere.commit("w", record(n))
            apply(board, record(n).op, Context("Fanny", "facilitator", "elsewhere", 0, n))
            board.seq = n
            if n == 10:
                await elsewhere.save_checkpoint("w", 10, board.to_dict(tombstones=True))
        hub.on_commit(Committed(14, record(14)))  # 14's doorbell before 13's: a gap
        while hub._filling is not None:  # the reload from the checkpoint, and its fill
            await asyncio.sleep(0.01)
        assert hub.applied == 12 and hub.replica.has_gap
        assert (await elsewhere.commit("w", record(13))).seq == 13
        assert (await elsewhere.commit("w", record(14))).seq == 14
        hub.on_resync()  # op 13's doorbell was lost: the bus asks for the log
        outcome = await hub.outcome(14)
        assert outcome.applied and hub.applied == 14 and not hub.replica.has_gap
    finally:
        await hub.close()
        await mine.close()
        await elsewhere.close()
