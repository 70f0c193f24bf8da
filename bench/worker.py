"""One load-generator worker process: its share of the clients, their ops, their clocks.

The parent hands each worker a plan (which clients, on which server, in which room,
which of them send ops and when). The worker connects them, reports ready, waits for
the common start time, sends ops on an open-loop schedule (a late op is sent at once,
never skipped, so a slow server cannot hide its delay) and records, for every frame
that matters, what arrived and when. Times are ``time.monotonic()``, one clock for
every process on the machine, so a send time in one worker and a receive time in
another can be subtracted.
"""

import asyncio
import base64
import resource
import time
from array import array
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from .wsclient import WsClient, connect

__all__ = ["REDIS_RELAY", "RELAYS", "ClientPlan", "WorkerPlan", "key_owner", "worker_main"]

#: The bare relay over Redis (``bench/relay.py --redis``), a baseline of several processes.
REDIS_RELAY = "relay-redis"
#: The raw relay, on one process or over Redis: each frame goes to the sender's peers only.
RELAYS = ("relay", REDIS_RELAY)

KEY_SPAN = 10_000_000  # relay op keys are owner * KEY_SPAN + cop, unique in the run
EVENT_PREFIX = b'{"type":"event","seq":'
RELAY_PREFIX = b'{"type":"op","k":'
YJS_UPDATE = b"\x00\x02"  # y-websocket: messageSync, then messageYjsUpdate
YJS_KEY = b"#op="  # where bench/yjs/updates.mjs wrote the op's key in its update
CONNECT_TIMEOUT = 60.0
DRAIN_QUIET = 1.0  # the run is over once no frame arrived for this long...
DRAIN_MAX = 20.0  # ...or after this long anyway


def key_owner(key: int) -> int:
    """The client (global index) that sent the relay op with this key."""
    return key // KEY_SPAN


#: Frames a client receives that this benchmark does not measure.
UNMEASURED = (b'{"type":"presence"', b'{"type":"drag"', b'{"type":"vigilance"')


@dataclass(frozen=True)
class ClientPlan:
    """One simulated participant."""

    gidx: int  # global index in the run
    room: int
    port: int
    path: str
    token: str
    note: str | None  # the note it moves and edits; None for a watcher
    interval: float = 0.0  # seconds between two of its ops
    phase: float = 0.0  # offset of its first op after the start


@dataclass(frozen=True)
class WorkerPlan:
    """Everything one worker process does."""

    target: str  # "atelier", "relay", "relay-redis" or "yjs"
    clients: list[ClientPlan]
    columns: list[str]
    duration: float
    concurrency: int = 64
    extra: dict[str, Any] = field(default_factory=dict)


class _Client:
    """A connected participant and what it saw."""

    def __init__(
        self, plan: ClientPlan, target: str, last_frame: list[float], yjs: dict[str, Any]
    ) -> None:
        self.plan = plan
        self.relay = target in RELAYS
        self.yjs = target == "yjs"
        # the y-websocket client's own frames (bench/yjs/updates.mjs): its note, its ops
        self.seed = base64.b64decode(yjs["seed"]) if yjs else b""
        self.updates = [base64.b64decode(u) for u in yjs["ops"]] if yjs else []
        self.ws: WsClient | None = None
        self.welcomed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.keys: array[int] = array("q")
        self.times: array[float] = array("d")
        self.sent: dict[int, float] = {}  # cop -> send time, until acked
        self.acked: dict[int, float] = {}  # seq (atelier) or key (relay) -> send time
        self.ack_latencies: list[float] = []
        self.rejects = 0
        self.errors = 0
        self.cop = 0
        self._last_frame = last_frame

    def on_message(self, data: bytes, now: float) -> None:
        self._last_frame[0] = now
        if self.yjs:
            self._on_yjs(data, now)
        elif data.startswith(EVENT_PREFIX):
            self.keys.append(int(data[len(EVENT_PREFIX) : data.index(b",", len(EVENT_PREFIX))]))
            self.times.append(now)
        elif data.startswith(RELAY_PREFIX):
            self.keys.append(int(data[len(RELAY_PREFIX) : data.index(b",", len(RELAY_PREFIX))]))
            self.times.append(now)
        elif data.startswith(b'{"type":"ack"'):
            message = orjson.loads(data)
            sent = self.sent.pop(message["cop"], None)
            if sent is not None:
                self.ack_latencies.append(now - sent)
                self.acked[message["seq"]] = sent
        elif data.startswith(UNMEASURED):
            pass  # presence, drags and the facilitator's vigilance: not what is measured
        elif data.startswith(b'{"type":"welcome"'):
            if not self.welcomed.done():
                self.welcomed.set_result(None)
        elif data.startswith(b'{"type":"reject"'):
            self.rejects += 1
            self.sent.pop(orjson.loads(data)["cop"], None)
        else:
            self.errors += 1

    def _on_yjs(self, data: bytes, now: float) -> None:
        """A y-websocket message: an update carries its op's key; the first message (the
        server's sync step 1) is the welcome; awareness and sync replies are ignored."""
        if data.startswith(YJS_UPDATE):
            at = data.find(YJS_KEY)
            if at < 0:
                return  # a note's creation (the seeding), not an op of the run
            start = at + len(YJS_KEY)
            self.keys.append(int(data[start : data.index(b";", start)]))
            self.times.append(now)
        elif not self.welcomed.done():
            self.welcomed.set_result(None)

    async def connect(self, host: str) -> None:
        self.ws = await connect(host, self.plan.port, self.plan.path, self.on_message)
        if self.yjs:  # y-websocket has no join: the server speaks first
            await self.welcomed
            if self.seed:
                self.ws.send(self.seed, binary=True)
            return
        join = {"type": "join", "v": 1, "token": self.plan.token,
                "client": f"bench-{self.plan.gidx}", "name": f"b{self.plan.gidx}",
                "since": None}  # fmt: skip
        self.ws.send(orjson.dumps(join))
        await self.welcomed

    def send_op(self, columns: list[str], now: float) -> None:
        assert self.ws is not None and self.plan.note is not None
        self.cop += 1
        cop = self.cop
        if cop % 2:  # moves and edits in turn: the two ops a workshop is made of
            column = columns[(cop // 2 + 1) % len(columns)]
            op: dict[str, Any] = {"kind": "note.move", "id": self.plan.note, "column": column}
        else:
            op = {"kind": "note.edit", "id": self.plan.note, "text": f"Constat revu {cop}"}
        if self.yjs:
            self.acked[self.plan.gidx * KEY_SPAN + cop] = now  # no ack here either
            self.ws.send(self.updates[cop - 1], binary=True)
            return
        if self.relay:
            key = self.plan.gidx * KEY_SPAN + cop
            self.acked[key] = now  # the relay has no ack: the send time is all there is
            frame = orjson.dumps({"type": "op", "k": key, "cop": cop, "op": op})
        else:
            self.sent[cop] = now
            frame = orjson.dumps({"type": "op", "cop": cop, "op": op})
        self.ws.send(frame)


def worker_main(plan: WorkerPlan, conn: Connection) -> None:
    """Entry point of a worker process (spawned by the parent)."""
    from .procs import raise_nofile

    raise_nofile(len(plan.clients) + 256)
    updates: dict[str, Any] = {}  # the y-websocket clients' own frames (target "yjs")
    if plan.extra.get("updates"):
        updates = orjson.loads(Path(plan.extra["updates"]).read_bytes())
    try:
        import uvloop
    except ImportError:
        asyncio.run(_work(plan, conn, updates))
    else:
        uvloop.run(_work(plan, conn, updates))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _work(plan: WorkerPlan, conn: Connection, updates: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    last_frame = [time.monotonic()]
    clients = [_Client(p, plan.target, last_frame, updates.get(str(p.gidx), {}))
               for p in plan.clients]  # fmt: skip
    gate = asyncio.Semaphore(plan.concurrency)
    failures: dict[str, int] = {}

    async def open_one(client: _Client) -> bool:
        async with gate:
            try:
                await asyncio.wait_for(client.connect("127.0.0.1"), CONNECT_TIMEOUT)
                return True
            except Exception as exc:  # counted and reported: a failed join is a result
                failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                if client.ws is not None:
                    client.ws.abort()
                client.ws = None
                return False

    started = time.monotonic()
    opened = await asyncio.gather(*(open_one(c) for c in clients))
    connect_seconds = time.monotonic() - started
    live = [c for c, ok in zip(clients, opened, strict=True) if ok]
    conn.send(("ready", len(live), len(clients) - len(live), connect_seconds, failures))
    message = await loop.run_in_executor(None, conn.recv)
    t0: float = message[1]
    cpu0 = _cpu()

    schedule: list[tuple[float, int]] = []
    for i, client in enumerate(live):
        if client.plan.note is None or client.plan.interval <= 0:
            continue
        at = client.plan.phase
        while at < plan.duration:
            schedule.append((at, i))
            at += client.plan.interval
    schedule.sort()
    lags: list[float] = []  # how late each op left, against its schedule
    for offset, i in schedule:
        delay = t0 + offset - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.monotonic()
        lags.append(now - t0 - offset)
        live[i].send_op(plan.columns, now)
    late = time.monotonic() - (t0 + plan.duration)
    conn.send(("sent", len(schedule), late))

    await loop.run_in_executor(None, conn.recv)  # every worker has sent: drain now
    drain_start = time.monotonic()
    while time.monotonic() - drain_start < DRAIN_MAX:
        # quiet since the drain began, too: the last op may still be on its way here
        if time.monotonic() - max(last_frame[0], drain_start) >= DRAIN_QUIET:
            break
        await asyncio.sleep(0.1)
    dropped = sum(1 for c in live if c.ws is not None and c.ws.lost.done())
    result = {
        "cpu": _cpu() - cpu0,
        "lags": lags,
        "connect_seconds": connect_seconds,
        "dropped": dropped,
        "clients": [
            {
                "gidx": c.plan.gidx,
                "room": c.plan.room,
                "keys": c.keys,
                "times": c.times,
                "acked": c.acked,
                "unacked": len(c.sent),
                "acks": c.ack_latencies,
                "rejects": c.rejects,
                "errors": c.errors,
            }
            for c in live
        ],
    }
    conn.send(("result", result))
    await loop.run_in_executor(None, conn.recv)  # the parent has read the usage: close
    for client in live:
        if client.ws is not None:
            client.ws.close()
    lost = [c.ws.lost for c in live if c.ws is not None]
    if lost:
        await asyncio.wait(lost, timeout=10)
    for client in live:
        if client.ws is not None:
            client.ws.abort()
