"""A client that outlives its server, as the browser's socket.js does, and a random-op driver.

:class:`ResilientClient` keeps an outbox of ops not yet acknowledged. When its socket
closes for any reason (a process killed or shutting down, Redis away), it reconnects to
the next server in its list with the last seq it saw, catches up, and re-sends the
outbox in order. The server answers a re-sent op that had landed with its original seq.
"""

import asyncio
import contextlib
import random
import time
from typing import Any

import orjson
import websockets

from .support import Client

__all__ = ["ResilientClient", "drive", "random_op"]

COLOURS = ("yellow", "pink", "blue", "green", "orange", "purple")
AMBITIONS = ("ancrage", "transition", "travail", "consommation")


class ResilientClient(Client):
    """A :class:`Client` with an outbox that reconnects, round robin, until stopped."""

    def __init__(self, ws_bases: list[str], workshop_id: str, secret: str, *, name: str,
                 first: int = 0, validate: bool = False) -> None:  # fmt: skip
        # Checking every frame against the protocol schema costs about a millisecond a
        # frame: the protocol tests do it; load tests with tens of thousands of frames opt in.
        super().__init__(ws_bases[first % len(ws_bases)], workshop_id, secret, name=name,
                         validate=validate)  # fmt: skip
        self.urls = [f"{base}/ws/{workshop_id}" for base in ws_bases]
        self.current = first % len(ws_bases)
        self.outbox: dict[int, dict[str, Any]] = {}
        self.answers: list[dict[str, Any]] = []  # every ack and reject, re-sends included
        self.errors: list[str] = []  # protocol violations seen (events twice, out of order)
        self.close_codes: list[int | None] = []
        self.resent: dict[int, float] = {}  # cop -> when it was last re-sent (epoch seconds)
        self.connections = 0
        self._stopping = False
        self._online = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self.deleted: set[str] = set()  # notes this client saw deleted, to restore some

    async def start(self) -> None:
        """Connect (retrying other servers as needed) and keep the connection up."""
        self._supervisor = asyncio.create_task(self._keep_connected())
        await asyncio.wait_for(self._online.wait(), 30)

    async def _keep_connected(self) -> None:
        delay = 0.05
        while not self._stopping:
            self.url = self.urls[self.current]
            self.welcome, self.closed = None, None
            since = self.board["seq"] if self.connections else None
            try:
                await self.connect(since=since)
            except (OSError, ConnectionError, TimeoutError, websockets.WebSocketException):
                self._online.clear()
                await self._drop()
                self.current = (self.current + 1) % len(self.urls)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            if self._stopping:  # stopped while connecting: this socket is not wanted
                await self._drop()
                return
            delay = 0.05
            self.connections += 1
            for cop in sorted(self.outbox):  # in order: the server dedupes on (client, cop)
                self.resent[cop] = time.time()
                with contextlib.suppress(websockets.ConnectionClosed):
                    await self._send(cop, self.outbox[cop])
            self._online.set()
            assert self._reader is not None
            await self._reader
            self._online.clear()
            self.close_codes.append(self.ws.close_code)
            if not self._stopping:  # the next server, as a browser's random pick would
                self.current = (self.current + 1) % len(self.urls)

    async def _drop(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader

    async def _send(self, cop: int, op: dict[str, Any]) -> None:
        await self.ws.send(orjson.dumps({"type": "op", "cop": cop, "op": op}).decode())

    def _on_frame(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "event" and frame["op"]["kind"] == "note.delete":
            self.deleted.add(frame["op"]["id"])
        try:
            super()._on_frame(frame)
        except AssertionError as error:
            self.errors.append(str(error))
        if frame["type"] in ("ack", "reject") and "cop" in frame:
            self.answers.append(frame)
            self.outbox.pop(frame["cop"], None)

    async def submit(self, op: dict[str, Any]) -> int:
        """Queue an op in the outbox and send it if connected; returns its cop."""
        cop, self.next_cop = self.next_cop, self.next_cop + 1
        self.outbox[cop] = op
        if self._online.is_set():
            with contextlib.suppress(websockets.ConnectionClosed):
                await self._send(cop, op)
        return cop

    async def drain(self, timeout: float) -> None:
        """Wait until every submitted op has been answered."""
        await self.wait_until(lambda: not self.outbox, timeout)

    async def wait_until(self, check: Any, timeout: float) -> None:
        """Wait for ``check`` across reconnections."""

        async def loop() -> None:
            while not check():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(loop(), timeout)

    async def stop(self) -> None:
        """Close for good."""
        self._stopping = True
        await self._drop()
        if self._supervisor is not None:
            await self._supervisor


def random_op(client: ResilientClient, rng: random.Random, serial: int) -> dict[str, Any]:
    """An op that makes sense on the client's mirror of the board (it may still be rejected)."""
    notes = list(client.board["notes"])
    columns = list(client.board["columns"])
    roll = rng.random()
    new_id = f"{client.client_id[:8]}-{serial}"
    if roll < 0.35 or not notes:
        op: dict[str, Any] = {"kind": "note.add", "id": new_id, "text": f"constat {serial}",
                              "colour": rng.choice(COLOURS)}  # fmt: skip
        if columns and rng.random() < 0.5:
            op["column"] = rng.choice(columns)
            op["index"] = rng.randint(0, 5)
        if rng.random() < 0.3:
            op["ambitions"] = rng.sample(AMBITIONS, rng.randint(1, 2))
        return op
    if roll < 0.55:
        return {"kind": "note.edit", "id": rng.choice(notes), "text": f"révisé {serial}"}
    if roll < 0.75:
        target = rng.choice([None, *columns])
        return {"kind": "note.move", "id": rng.choice(notes), "column": target,
                "index": rng.randint(0, 8)}  # fmt: skip
    if roll < 0.82:
        return {"kind": "note.delete", "id": rng.choice(notes)}
    if roll < 0.84 and client.deleted:
        return {"kind": "note.restore", "id": rng.choice(sorted(client.deleted))}
    if roll < 0.91 and len(columns) < 8:
        return {"kind": "column.add", "id": f"c{new_id}", "title": f"Orientation {serial}"}
    if not columns:
        return {"kind": "note.edit", "id": rng.choice(notes), "colour": rng.choice(COLOURS)}
    if roll < 0.95:
        return {"kind": "column.rename", "id": rng.choice(columns), "title": f"Axe {serial}"}
    if roll < 0.98:
        return {"kind": "column.move", "id": rng.choice(columns), "index": rng.randint(0, 4)}
    return {"kind": "column.delete", "id": rng.choice(columns)}


async def drive(clients: list[ResilientClient], total: int, *, seed: int = 3, window: int = 2,
                pause: float = 0.01, first: int = 0, sent: asyncio.Event | None = None,
                sent_at: int = 0) -> None:  # fmt: skip
    """Send ``total`` random ops spread over the clients, each with at most ``window`` unanswered.

    New ids are numbered from ``first`` (so that several drives make distinct notes).
    ``sent`` is set once ``sent_at`` ops have gone out, for a test to strike mid-load.
    """
    count = 0
    per_client = [total // len(clients) + (i < total % len(clients)) for i in range(len(clients))]

    async def one(i: int, client: ResilientClient) -> None:
        nonlocal count
        rng = random.Random(seed * 1000 + i)
        for serial in range(first, first + per_client[i]):
            await client.wait_until(lambda: len(client.outbox) < window, 120)
            await client.submit(random_op(client, rng, serial))
            count += 1
            if sent is not None and count >= sent_at:
                sent.set()
            await asyncio.sleep(pause * rng.random() * 2)

    await asyncio.gather(*(one(i, c) for i, c in enumerate(clients)))
