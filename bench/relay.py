"""The raw relay: the floor a fan-out server cannot go below on this stack.

A websocket server on the websockets library that answers a join with a bare welcome
and forwards every later frame, unchanged, to the room's other sockets with
``broadcast()``: no parsing, no validation, no state, no storage, no ack. Rooms are
URL paths. Run: ``python -m bench.relay --port 8765``.

With ``--redis URL`` it is the bare relay over Redis, the floor of a room served by
several processes: each frame also goes out on Redis pub/sub (``PUBLISH``, one channel
per room), and each process relays what the others published to its own sockets of
that room, as a relay written with redis-py's ``PubSub`` would.
"""

import argparse
import asyncio
import os
import signal
from typing import Any

import redis.asyncio as aioredis
from websockets.asyncio.server import ServerConnection, broadcast, serve

__all__ = ["main", "relay"]

WELCOME = b'{"type":"welcome"}'
rooms: dict[str, set[ServerConnection]] = {}
#: Where this process's own frames come back from Redis: skipped, already relayed.
ORIGIN = os.getpid().to_bytes(4, "big")
CHANNELS = "relay:"
publisher: aioredis.Redis | None = None


async def relay(ws: ServerConnection) -> None:
    """Serve one socket: a welcome for its first frame, then forward everything."""
    path = ws.request.path if ws.request is not None else "/"
    await ws.recv()  # the join: a real server checks it; the floor does not
    await ws.send(WELCOME)
    room = rooms.setdefault(path, set())
    room.add(ws)
    try:
        async for message in ws:
            broadcast([peer for peer in room if peer is not ws], message)
            if publisher is not None:
                if isinstance(message, str):
                    kind, data = b"t", message.encode()
                else:
                    kind, data = b"b", message
                await publisher.publish(CHANNELS + path, ORIGIN + kind + data)
    finally:
        room.discard(ws)
        if not room:
            rooms.pop(path, None)


async def _from_redis(url: str) -> None:
    """Relay what the other processes published to this process's sockets of each room."""
    subscriber: Any = aioredis.Redis.from_url(url).pubsub()
    await subscriber.psubscribe(CHANNELS + "*")
    async for message in subscriber.listen():
        data = message["data"]
        if message["type"] != "pmessage" or data[:4] == ORIGIN:
            continue
        room = rooms.get(message["channel"][len(CHANNELS) :].decode())
        if room:
            broadcast(room, data[5:].decode() if data[4:5] == b"t" else data[5:])


async def _serve(port: int, redis_url: str | None) -> None:
    global publisher
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    listening = None
    if redis_url:
        publisher = aioredis.Redis.from_url(redis_url)
        listening = asyncio.create_task(_from_redis(redis_url))
    # the same settings as Atelier's: no compression, 64 KiB frames, pings every 20 s
    async with serve(relay, "127.0.0.1", port, compression=None, max_size=64 * 1024,
                     ping_interval=20, ping_timeout=20):  # fmt: skip
        await stop
    if listening is not None:
        listening.cancel()


def main() -> None:
    """Run the relay until SIGINT or SIGTERM (on uvloop, as uvicorn runs Atelier)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--redis", help="relay over this Redis too (redis://host:port/db)")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve(args.port, args.redis))
    else:
        uvloop.run(_serve(args.port, args.redis))


if __name__ == "__main__":
    main()
