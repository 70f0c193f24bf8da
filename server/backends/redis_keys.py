"""Where a room lives in Redis: the key layout shared by the Redis store and bus (and
:func:`keepalive`, how their URL reaches Redis).

Keys of a room share the ``{workshop_id}`` hash tag, so on a Redis Cluster they live in
one slot and the store's Lua scripts may touch them together::

    atelier:{ID}:meta          workshop metadata (string, written once)
    atelier:{ID}:seq           the room's last sequence number (counter)
    atelier:{ID}:log           committed ops (stream, entry id ``SEQ-0``, field ``c``)
    atelier:{ID}:dedupe        "client:cop" -> seq (sorted set scored by seq)
    atelier:{ID}:floors        client -> "cop:seq", the highest op compacted out of dedupe
    atelier:{ID}:trimmed       every op up to this seq is gone from the log
    atelier:{ID}:checkpoint    board state (hash: seq, state)
    atelier:{ID}:snapshot:SID  one immutable snapshot; ``:snapshots`` indexes them
    atelier:{ID}:joincode      the room's latest short join code (expires with it)
    channels atelier:{ID}:ops and atelier:{ID}:presence

Besides, ``atelier:join:CODE`` (a short join code's link, expiring; a code names no room
before it is read) and ``atelier:workshops`` (a sorted set of workshop ids by last
activity, for the retention setting) live outside any room's slot, and every process
subscribes to the ``atelier:hello`` channel so that its subscriber connection is live
even with no room.
"""

__all__ = [
    "HELLO_CHANNEL",
    "ROOM_KEYS",
    "WORKSHOPS",
    "join_key",
    "keepalive",
    "key",
    "ops_channel",
    "presence_channel",
]

#: Every process subscribes to this channel too, so its subscriber is always live.
HELLO_CHANNEL = "atelier:hello"
#: Workshop id -> last activity in ms (for the retention setting); not in a room's slot.
WORKSHOPS = "atelier:workshops"
#: The per-room keys besides the snapshots.
ROOM_KEYS = ("meta", "seq", "log", "dedupe", "floors", "trimmed", "checkpoint", "snapshots",
             "joincode")  # fmt: skip


def key(workshop_id: str, part: str) -> str:
    """The key (or channel) ``part`` of a room."""
    return f"atelier:{{{workshop_id}}}:{part}"


def ops_channel(workshop_id: str) -> str:
    """Where the commit script rings the doorbell of a room."""
    return key(workshop_id, "ops")


def presence_channel(workshop_id: str) -> str:
    """Where a room's presence and revocations travel."""
    return key(workshop_id, "presence")


def join_key(code: str) -> str:
    """Where a short join code's link is kept, until it expires."""
    return f"atelier:join:{code}"


def keepalive(url: str) -> dict[str, bool]:
    """redis-py's TCP keepalive option for ``url``: on over TCP (``redis://``,
    ``rediss://``); a unix socket (``unix://``) refuses the option altogether."""
    return {} if url.startswith("unix:") else {"socket_keepalive": True}
