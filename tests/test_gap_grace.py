"""A replica's gap waits a moment for the missing op's doorbell before reading the log:
with several processes a process's own commit often lands just before the doorbell of
the op numbered before it, and a log read per such gap cost a round trip per op."""

import asyncio
from collections.abc import Callable
from pathlib import Path

from atelier.backends.base import Committed, OpRecord, WorkshopMeta
from atelier.backends.memory import MemoryBus
from atelier.backends.sqlite import SqliteStore
from atelier.rooms.hub import RoomHub


class _CountingStore(SqliteStore):
    """The real SQLite store, counting how often the log is read."""

    reads = 0

    async def read_since(self, workshop_id: str, seq: int) -> list[Committed]:
        self.reads += 1
        return await super().read_since(workshop_id, seq)


def _note(cop: int) -> OpRecord:
    op = {"kind": "note.add", "id": f"n{cop}", "text": f"Constat {cop}"}
    return OpRecord("elsewhere", cop, op, "Ana", "participant", 1_700_000_000_000)


async def _until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not check():
            await asyncio.sleep(0.001)


async def _room(tmp_path: Path) -> tuple[_CountingStore, RoomHub, list[Committed]]:
    """A hub on a room whose log holds two ops committed by another process."""
    store = _CountingStore(tmp_path / "data")
    await store.start()
    await store.create_workshop(WorkshopMeta("w", "Atelier", "", 1, {}))
    results = await store.commit_many("w", [_note(1), _note(2)])
    committed = [Committed(r.seq, _note(n + 1)) for n, r in enumerate(results)]
    hub = RoomHub("w", store, MemoryBus(), "node-1")
    await hub.open()
    await hub.close()  # its load read both: start again from an empty replica
    hub = RoomHub("w", store, MemoryBus(), "node-1")
    return store, hub, committed


async def test_a_gap_closed_by_the_late_doorbell_reads_nothing(tmp_path: Path) -> None:
    """Op 2's doorbell, then op 1's: both applied in order, and the log is not read."""
    store, hub, (first, second) = await _room(tmp_path)
    try:
        hub.replica.load(None, [])  # an empty board, as if opened before the two commits
        reads = store.reads
        hub.on_commit(second)
        assert hub.applied == 0 and hub.replica.has_gap
        await _until(lambda: hub._gap_closed is not None)  # the fill waits for the doorbell
        hub.on_commit(first)
        await _until(lambda: hub._filling is None)
        assert hub.applied == 2 and store.reads == reads
    finally:
        await hub.close()
        await store.close()


async def test_a_gap_whose_doorbell_never_comes_reads_the_log(tmp_path: Path) -> None:
    """Op 2's doorbell alone: after the grace the log is read, and op 1 is applied too."""
    store, hub, (_, second) = await _room(tmp_path)
    try:
        hub.replica.load(None, [])
        reads = store.reads
        hub.on_commit(second)
        await _until(lambda: hub.applied == 2)
        assert store.reads == reads + 1
    finally:
        await hub.close()
        await store.close()
