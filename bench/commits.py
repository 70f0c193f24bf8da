"""The embedded store's group commit alone: CPU per op and transactions at several rates.

A real :class:`~atelier.backends.sqlite.SqliteStore` in a temporary directory, in this
process, with no sockets: ops are committed open-loop at each rate (an op that falls
late is committed at once, never skipped), as concurrent commits from ten clients would
be. For each rate it reports the process's CPU per op (the event loop and the SQLite
thread, fsync included), how many transactions (fsyncs) carried the ops, and the
commit latency seen by the caller. Run: ``python -m bench commits``.
"""

import asyncio
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from atelier.backends.base import WorkshopMeta
from atelier.backends.sqlite import SqliteStore
from atelier.records import OpRecord

from .stats import percentiles

__all__ = ["RATES", "commit_paced", "run_commits"]

RATES = (50.0, 200.0, 800.0, 2000.0, 5000.0)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def commit_paced(
    store: SqliteStore, rate: float, count: int, tag: str
) -> list[tuple[int, float]]:
    """Commit ``count`` ops to room ``w`` at ``rate`` a second, open loop (a late op goes
    at once), from ten clients; return each op's seq and commit latency (seconds)."""

    async def one(n: int) -> tuple[int, float]:
        op = {"kind": "note.edit", "id": "n1", "text": f"Constat revu {n}"}
        record = OpRecord(
            f"{tag}-{n % 10}", n + 1, op, "Ana", "participant", int(time.time() * 1000)
        )
        started = time.monotonic()  # uvloop's loop.time() counts whole milliseconds
        result = await store.commit("w", record)
        return result.seq, time.monotonic() - started

    start = time.monotonic()
    pending = []
    for n in range(count):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(one(n)))
    return list(await asyncio.gather(*pending))


async def _at_rate(store: SqliteStore, rate: float, seconds: float, tag: str) -> dict[str, Any]:
    count = max(1, int(rate * seconds))
    transactions, cpu = store.transactions, _cpu()
    done = await commit_paced(store, rate, count, tag)
    used = _cpu() - cpu
    batches = store.transactions - transactions
    return {
        "rate": rate,
        "ops": count,
        "transactions": batches,
        "ops_per_transaction": round(count / batches, 2) if batches else None,
        "cpu_us_per_op": round(used / count * 1e6, 1),
        "commit_ms": percentiles([latency for _, latency in done]),
    }


async def _all(rates: tuple[float, ...], seconds: float) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="atelier-commits-") as tmp:
        store = SqliteStore(Path(tmp) / "data")
        await store.start()
        try:
            await store.create_workshop(WorkshopMeta("w", "Banc", "Banc d'essai", 0, {}))
            return [await _at_rate(store, rate, seconds, f"r{rate:g}") for rate in rates]
        finally:
            await store.close()


def run_commits(rates: tuple[float, ...] = RATES, seconds: float = 5.0) -> list[dict[str, Any]]:
    """Commit at each rate for ``seconds``; one result per rate."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_all(rates, seconds))
    return uvloop.run(_all(rates, seconds))
