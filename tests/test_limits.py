"""The limit bookkeeping, with time passed in."""

import pytest
from atelier.limits import AddressCounter, Guards, SlidingWindow, TokenBucket

pytestmark = pytest.mark.pure  # no server, no I/O: the fast layer


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    """A full bucket lets a burst through at once, then asks to wait 1/rate per event."""
    bucket = TokenBucket(rate=10, burst=3)
    assert [bucket.take(100.0) for _ in range(3)] == [0, 0, 0]
    assert bucket.take(100.0) == 0.1
    assert bucket.take(100.0) == 0.2
    assert bucket.take(101.0) == 0  # a second later, refilled (capped at the burst)


def test_address_counter_has_a_ceiling_per_key() -> None:
    """Each key has its own ceiling; releasing makes room again; 0 means unlimited."""
    counter = AddressCounter(2)
    assert counter.acquire("a") and counter.acquire("a") and not counter.acquire("a")
    assert counter.acquire("b")
    counter.release("a")
    assert counter.acquire("a")
    unlimited = AddressCounter(0)
    assert all(unlimited.acquire("a") for _ in range(1000))


def test_sliding_window_forgets_old_events() -> None:
    """Only events within the window count."""
    window = SlidingWindow(2, 3600)
    assert window.allow("a", 0) and window.allow("a", 10) and not window.allow("a", 20)
    assert window.allow("b", 20)
    assert window.allow("a", 3600.5)


def test_sliding_window_forgets_addresses_that_went_quiet() -> None:
    """Many addresses passing once leave no trace once their window is over (a long-lived
    process would otherwise keep one entry per address it ever saw)."""
    window = SlidingWindow(5, 60)
    for i in range(3000):
        assert window.allow(f"198.51.100.{i}", float(i // 10))
    assert len(window) < 3000  # swept as it went
    for i in range(1024):
        window.allow("203.0.113.1", 10_000.0 + i / 1000)
    assert len(window) == 1


def test_guards_count_qr_codes_apart_from_workshops() -> None:
    """Creating workshops does not spend the QR budget, nor the other way round."""
    guards = Guards.from_limits(10, workshops_per_hour=1, qr_per_minute=2)
    assert guards.workshops.allow("a", 0) and not guards.workshops.allow("a", 1)
    assert guards.qr.allow("a", 1) and guards.qr.allow("a", 2) and not guards.qr.allow("a", 3)
    assert guards.qr.allow("a", 62)
