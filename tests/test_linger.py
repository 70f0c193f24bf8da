"""The group commit's wait (server/backends/linger.py): a batch waits only when commits
come fast from two clients or more, and no longer than it takes for each of them to
have one commit queued."""

import asyncio

import pytest
from atelier.backends.linger import ACTIVE_FOR, LINGER, LINGER_ENOUGH, Linger

pytestmark = pytest.mark.pure


def _busy(linger: Linger, clients: list[str], now: float, gap: float = 0.002) -> float:
    """Feed 50 commits ``gap`` apart from ``clients`` in turn; return the last time."""
    for n in range(50):
        now += gap
        linger.arrived(now, [clients[n % len(clients)]], 0)
    return now


async def test_a_lone_client_never_waits() -> None:
    """An outbox replayed after a reconnect: every wait would only slow it down."""
    linger = Linger()
    now = _busy(linger, ["replay"], asyncio.get_running_loop().time())
    assert linger.enough(now) == 0


async def test_slow_commits_never_wait() -> None:
    linger = Linger()
    now = _busy(linger, ["a", "b", "c"], asyncio.get_running_loop().time(), gap=0.05)
    assert linger.enough(now) == 0


async def test_fast_commits_wait_for_one_commit_per_active_client() -> None:
    linger = Linger()
    now = _busy(linger, ["a", "b", "c"], asyncio.get_running_loop().time())
    assert linger.enough(now) == 3
    many = [f"c{n}" for n in range(100)]
    now = _busy(linger, many, now)
    assert linger.enough(now) == LINGER_ENOUGH


async def test_clients_gone_quiet_are_not_waited_for() -> None:
    linger = Linger()
    now = _busy(linger, ["a", "b", "c"], asyncio.get_running_loop().time())
    now = _busy(linger, ["a", "b"], now + ACTIVE_FOR)
    assert linger.enough(now + 0.001) == 2


@pytest.fixture
async def busy() -> Linger:
    """A linger that saw fast commits from three clients, a, b and c, just now."""
    linger = Linger()
    _busy(linger, ["a", "b", "c"], asyncio.get_running_loop().time())
    return linger


async def test_a_full_queue_does_not_wait(busy: Linger) -> None:
    linger = busy
    waiting = asyncio.create_task(linger.wait(queued=3))
    await asyncio.sleep(0)
    assert waiting.done()


async def test_a_wait_ends_when_every_active_client_has_a_commit_queued(busy: Linger) -> None:
    loop, linger = asyncio.get_running_loop(), busy
    waiting = asyncio.create_task(linger.wait(queued=1))
    for _ in range(3):
        await asyncio.sleep(0)
    assert not waiting.done()
    linger.arrived(loop.time(), ["b"], 2)
    await asyncio.sleep(0)
    assert not waiting.done()
    linger.arrived(loop.time(), ["c"], 3)
    for _ in range(3):
        await asyncio.sleep(0)
    assert waiting.done()


async def test_a_wait_lasts_at_most_the_linger(busy: Linger) -> None:
    loop, linger = asyncio.get_running_loop(), busy
    started = loop.time()
    await asyncio.wait_for(linger.wait(queued=1), 5)
    assert loop.time() - started >= LINGER * 0.5  # it did wait, then gave up by itself


async def test_a_quiet_server_forgets_its_clients() -> None:
    """Below the rate where batches wait, the clients seen are still let go of."""
    linger = Linger()
    now = 0.0
    for n in range(1000):
        now += 0.0625  # exact in binary, so the bound below does not hang on rounding
        linger.arrived(now, [f"tab{n}"], 0)
        linger.enough(now)
    # a prune every 0.125 s keeps the 2 clients of the last 0.1 s; one more may arrive
    assert len(linger._active) <= 3
