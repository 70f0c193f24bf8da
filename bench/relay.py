"""The raw relay: the floor a fan-out server cannot go below on this stack.

A websocket server on the websockets library that answers a join with a bare welcome
and forwards every later frame, unchanged, to the room's other sockets with
``broadcast()``: no parsing, no validation, no state, no storage, no ack. Rooms are
URL paths. Run: ``python -m bench.relay --port 8765``.
"""

import argparse
import asyncio
import signal

from websockets.asyncio.server import ServerConnection, broadcast, serve

__all__ = ["main", "relay"]

WELCOME = b'{"type":"welcome"}'
rooms: dict[str, set[ServerConnection]] = {}


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
    finally:
        room.discard(ws)
        if not room:
            rooms.pop(path, None)


async def _serve(port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    # the same settings as Atelier's: no compression, 64 KiB frames, pings every 20 s
    async with serve(relay, "127.0.0.1", port, compression=None, max_size=64 * 1024,
                     ping_interval=20, ping_timeout=20):  # fmt: skip
        await stop


def main() -> None:
    """Run the relay until SIGINT or SIGTERM (on uvloop, as uvicorn runs Atelier)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve(args.port))
    else:
        uvloop.run(_serve(args.port))


if __name__ == "__main__":
    main()
