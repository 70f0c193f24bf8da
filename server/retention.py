"""Deleting workshops nobody has touched for a while (the operator's retention setting)."""

import logging
import time

from .backends.base import Store

__all__ = ["stale_workshops"]

log = logging.getLogger(__name__)

DAY_MS = 24 * 3600 * 1000


async def stale_workshops(backend: Store, days: int, now_ms: int | None = None) -> list[str]:
    """The workshops whose last activity is more than ``days`` days before ``now_ms``."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    cutoff = now_ms - days * DAY_MS
    return [
        workshop_id for workshop_id, touched in await backend.list_workshops() if touched < cutoff
    ]
