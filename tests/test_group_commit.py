"""The SQLite store's group commit: faster commits share transactions (hence fsyncs),
and an op is answered only once its transaction is committed."""

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from atelier.backends.base import BackendError, WorkshopMeta
from atelier.backends.sqlite import SqliteStore
from atelier.records import OpRecord

from bench.commits import commit_paced


def _op(client: str, cop: int) -> OpRecord:
    return OpRecord(client, cop, {"kind": "note.edit", "id": "n1", "text": f"Constat {cop}"},
                    "Ana", "participant", 1_700_000_000_000 + cop)  # fmt: skip


async def test_commits_at_a_high_rate_share_transactions(tmp_path: Path) -> None:
    """At 1,000 ops a second, ops share transactions (fewer fsyncs than ops), each gets
    its own seq in order of arrival, and every one is in the log."""
    store = SqliteStore(tmp_path / "data")
    await store.start()
    try:
        await store.create_workshop(WorkshopMeta("w", "T", "Ici", 0, {}))
        seqs = [seq for seq, _ in await commit_paced(store, 1000, 400, "c")]
        assert seqs == list(range(1, 401))
        assert store.transactions <= 400 // 2
        assert [c.seq for c in await store.read_since("w", 0)] == seqs
    finally:
        await store.close()


async def test_a_full_batch_is_written_while_the_loop_runs_what_it_already_held(
    tmp_path: Path,
) -> None:
    """Under load, the commit that fills a waiting batch starts its transaction there and
    then: the SQLite thread writes it while the loop runs what it was already holding
    (in a server, the fan-out of the last batch's events), not after."""
    store = SqliteStore(tmp_path / "data")
    await store.start()
    try:
        await store.create_workshop(WorkshopMeta("w", "T", "Ici", 0, {}))
        loop, cop = asyncio.get_running_loop(), 0
        while cop < 200:  # three clients commit fast, until a batch waits for each of them
            cop += 1
            await asyncio.gather(*(store.commit("w", _op(c, cop)) for c in "abc"))
            if cop >= 20 and store._linger.enough(loop.time()) == 3:
                break
        assert store._linger.enough(loop.time()) == 3, "no batch waited: commits came too slowly"
        cop += 1
        before = store.transactions
        written_meanwhile: list[int] = []

        def fan_out() -> None:
            """Hold the loop until the thread has written (or 2 s have passed)."""
            deadline = time.monotonic() + 2
            while store.transactions == before and time.monotonic() < deadline:
                time.sleep(0.001)
            written_meanwhile.append(store.transactions - before)

        async def queue_the_fan_out() -> None:
            asyncio.get_running_loop().call_soon(fan_out)  # ahead of the commits below

        await asyncio.gather(queue_the_fan_out(), *(store.commit("w", _op(c, cop)) for c in "abc"))
        assert written_meanwhile == [1]
    finally:
        await store.close()


async def test_a_commit_after_close_is_refused_not_left_waiting(tmp_path: Path) -> None:
    """Once the store is closed its SQLite thread is gone: a late commit gets a
    BackendError at once."""
    store = SqliteStore(tmp_path / "data")
    await store.start()
    await store.create_workshop(WorkshopMeta("w", "T", "Ici", 0, {}))
    await store.close()
    with pytest.raises(BackendError):
        await asyncio.wait_for(store.commit("w", _op("late", 1)), 5)


async def test_an_answered_commit_is_already_committed(tmp_path: Path) -> None:
    """When commit() returns, another connection to the database file sees the op: the
    answer follows the COMMIT (and its fsync), never precedes it."""
    store = SqliteStore(tmp_path / "data")
    await store.start()
    other = sqlite3.connect(tmp_path / "data" / "atelier.sqlite3")
    try:
        await store.create_workshop(WorkshopMeta("w", "T", "Ici", 0, {}))
        for n in range(1, 30):  # in flurries, so that some wait for a batch and some not
            results = await asyncio.gather(*(store.commit("w", _op(f"k{n}", c))
                                             for c in range(n % 4 + 1)))  # fmt: skip
            top = max(r.seq for r in results)
            found = other.execute("SELECT MAX(seq) FROM ops WHERE workshop = 'w'").fetchone()
            assert found[0] >= top
    finally:
        other.close()
        await store.close()


async def test_activity_is_recorded_for_retention(tmp_path: Path) -> None:
    """A room's activity time is written with its first op, and again once a minute at
    most (retention counts in days), always inside the commit's transaction."""
    store = SqliteStore(tmp_path / "data")
    await store.start()
    try:
        await store.create_workshop(WorkshopMeta("w", "T", "Ici", 5, {}))
        first = _op("a", 1)
        await store.commit("w", first)
        assert await store.list_workshops() == [("w", first.at)]
        soon = OpRecord("a", 2, first.op, "Ana", "participant", first.at + 1000)
        await store.commit("w", soon)
        assert await store.list_workshops() == [("w", first.at)]  # not rewritten per op
        later = OpRecord("a", 3, first.op, "Ana", "participant", first.at + 61_000)
        await store.commit("w", later)
        assert await store.list_workshops() == [("w", later.at)]
    finally:
        await store.close()
