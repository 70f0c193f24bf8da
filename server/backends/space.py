"""A floor of free disk space below which the embedded store refuses new writes.

Refusing cleanly before the disk is full keeps SQLite (and the machine) healthy: a
full disk would fail commits mid-transaction and stop every other service on it.
Checkpoints and deletions are never refused: compacting the log is what frees space.
"""

import shutil
import time
from pathlib import Path

from .base import StorageFullError

__all__ = ["FreeSpace"]

#: Seconds between two looks at the disk (statvfs is cheap, but not per op).
CHECK_EVERY = 1.0


class FreeSpace:
    """Knows, to within a second, whether ``folder``'s disk has ``floor`` bytes free."""

    def __init__(self, folder: Path, floor: int) -> None:
        self._folder = folder
        self._floor = floor  # 0: no floor
        self._checked = 0.0
        self._free = 0

    def require(self) -> None:
        """Raise :class:`StorageFullError` when the free space is under the floor."""
        if not self._floor:
            return
        now = time.monotonic()
        if now - self._checked >= CHECK_EVERY:
            self._free = shutil.disk_usage(self._folder).free
            self._checked = now
        if self._free < self._floor:
            raise StorageFullError(
                f"less than {self._floor // 2**20} MiB free on the data disk "
                f"({self._free // 2**20} MiB): new writes are refused until space is freed"
            )
