"""Errors raised by the pure room model.

Exception tree::

    RoomError            an op cannot apply to the board as it is now
"""

__all__ = ["RoomError"]


class RoomError(Exception):
    """An op that cannot apply to the board in its current state.

    ``code`` is a short stable word the web client translates; ``message`` is
    a sentence a person can read (English, the client shows its own French).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
