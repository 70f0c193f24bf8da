"""Finding a board's items for an op, or refusing the op with the reason.

Pure: each function returns the item the op is about, or raises :class:`RoomError`
with the code a client translates (``unknown_column``, ``locked``...).
"""

from .errors import RoomError
from .items import Column
from .model import Board

__all__ = ["live_column", "open_column", "require_open_column"]


def live_column(board: Board, column_id: str) -> Column:
    """The column, unless it is unknown or deleted."""
    column = board.columns.get(column_id)
    if column is None or column.deleted:
        raise RoomError("unknown_column", f"There is no column {column_id!r} on this board.")
    return column


def open_column(board: Board, column_id: str) -> Column:
    """The column, unless it is unknown, deleted or locked by the facilitator."""
    column = live_column(board, column_id)
    if column.locked:
        raise RoomError("locked", "The facilitator has locked this orientation.")
    return column


def require_open_column(board: Board, column_id: str | None) -> None:
    """Refuse the op unless ``column_id`` is the pool (None) or an open column."""
    if column_id is not None:
        open_column(board, column_id)
