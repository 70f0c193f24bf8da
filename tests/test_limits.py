"""The limit bookkeeping, with time passed in."""

from atelier.limits import AddressCounter, SlidingWindow, TokenBucket


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
