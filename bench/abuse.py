"""Scenario "abuse" (issue 12): one workshop's links hammer the server while a polite
client in another room works; its acks must not suffer, nor the disk fill.

One ``atelier serve`` process runs with the **shipped default limits** (none of the
bench's lifted ones: the QR budget, the snapshot quotas, the per-socket op rate and the
worker pool are what an operator gets). Room A holds a big board, its findings sorted
into orientations (imported from a board's JSON export, as a facilitator would bring an
earlier session's), so that its ODT export is heavy; room B one note. Two phases of
``duration`` seconds each:

- **calm**: the polite client in room B moves and edits its note at ``rate`` ops/s
  (open loop, as in ``bench/load.py``), and each op's ack latency is recorded;
- **abuse**: the same polite load while, in another process (so the load generator does
  not starve the polite client of the GIL), room A's facilitator sends ``snapshot.take``
  in a loop over its websocket, fetches the board's ODT export in ``export_clients``
  loops over HTTP, and ``qr_clients`` HTTP clients ask ``/api/qr`` for a long link in
  loops, each from its own loopback address (127.0.0.2, 127.0.0.3...: ``qr_addresses``
  of them), so the per-address budget is met ``qr_addresses`` times over. Every abuser
  loops closed, as fast as the server answers, and never honours ``Retry-After``.

The facilitator's socket joins before the calm phase, so room A is loaded in both
phases and only the abuse differs. The figures: the polite ack latency in each phase and
the ratio of their p95; what the abusers got (snapshots taken or refused by code,
exports and QR codes served or refused by status); server CPU (its main process and its
worker processes apart); the storage before and after against the configured budgets;
some /metrics counters; and ``others_cores``, what the rest of the machine took.
"""

import asyncio
import contextlib
import http.client
import math
import multiprocessing
import os
import resource
import sqlite3
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson
from atelier.config import Settings
from atelier.exports import Document
from atelier.heavy import export_file
from atelier.op_parse import parse_op
from atelier.rooms.model import Board, Viewer
from atelier.rooms.ops import DEFAULT_LIMITS
from atelier.rooms.reducer import Context, apply

from .load import _machine_busy
from .procs import CLOCK_TICKS, Proc, Workshop, new_workshop, start_server
from .profile import Profiler
from .seed import column_ids, note_id, seed_room
from .stats import percentiles
from .wsclient import WsClient, connect

__all__ = ["ABUSE_MEDIANS", "AbuseSpec", "run_abuse"]

#: How long to wait for a welcome, an ack, an HTTP answer, the abusers' report.
TIMEOUT = 60.0
#: How long the polite client waits for its last acks after a phase.
DRAIN = 5.0
#: The slowest acks of a phase a run lists, with when their ops left ([s, ms]).
SLOWEST = 10
#: The fields the scenario's summary gives the median of (over its runs).
ABUSE_MEDIANS = [
    *(f"{phase}.ack_ms.{p}" for phase in ("calm", "abuse") for p in ("p50", "p95", "p99", "max")),
    "ratio_p95", "calm.window.others_cores", "abuse.window.others_cores",
    "calm.window.server_cpu_s", "abuse.window.server_cpu_s", "abuse.window.workers_cpu_s",
    "abusers.snapshots.taken", "abusers.snapshots.snapshot_too_soon",
    "abusers.export.status.200", "abusers.export.status.429", "abusers.qr.status.200",
    "abusers.qr.status.429", "storage_before.data_dir_bytes", "storage_after.data_dir_bytes",
    "storage_after.a.snapshot_bytes", "storage_after.a.log_ops",
]  # fmt: skip
#: The largest board docs/storage.md counts per workshop (5,000 notes), in bytes.
BOARD_BYTES = 6 * 10**6
#: The /metrics counters a run reports (their lines, labels included).
COUNTERS = ("atelier_rate_limited_total", "atelier_worker_refusals_total",
            "atelier_ops_rejected_total", "atelier_storage_bytes ")  # fmt: skip


@dataclass(frozen=True)
class AbuseSpec:
    """The shape of one abuse run."""

    duration: float = 20.0  # seconds of each phase
    notes: int = 3000  # room A's board, so that its exports and snapshots are heavy
    note_chars: int = 200  # each note's text
    rate: float = 20.0  # the polite client's ops per second in room B
    qr_clients: int = 8
    qr_addresses: int = 8  # loopback addresses the QR clients come from
    qr_link_chars: int = 900  # the link each QR code is asked for
    export_clients: int = 12  # room A's facilitator's export loops (its line holds 9)
    export_format: str = "odt"
    snapshots: bool = True  # room A's facilitator takes snapshots in a loop
    orientations: int = 6  # room A's columns, its notes spread over them
    columns: int = 4  # room B's columns (its note moves between them)

    def scaled(self, scale: float) -> "AbuseSpec":
        """A smaller run (``--scale 0.1``: a dry run of a few seconds)."""
        if scale == 1.0:
            return self
        return replace(
            self,
            duration=max(2.0, self.duration * scale),
            notes=max(50, int(self.notes * scale)),
            qr_clients=max(2, math.ceil(self.qr_clients * scale)),
            qr_addresses=max(2, math.ceil(self.qr_addresses * scale)),
            export_clients=max(2, math.ceil(self.export_clients * scale)),
        )

    def check(self) -> None:
        """Refuse shapes that cannot run."""
        if self.duration <= 0 or self.rate <= 0 or self.notes < 0 or self.columns < 2:
            raise ValueError("Expected a positive duration and rate, and 2 columns or more")
        if not 1 <= self.qr_addresses <= 250:
            raise ValueError("Expected 1 to 250 QR client addresses (127.0.0.2 onwards)")


# -- the server's usage, and the machine's -----------------------------------------------


def _tree_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of ``pid`` and of each of its children (the worker pool), by pid."""
    found: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(entry) == pid or int(fields[1]) == pid:
            found[int(entry)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return found


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Window:
    """CPU used between two instants: the server (main process and workers apart), the
    load generator, and the whole machine; :meth:`end` closes it, :meth:`figures` says it
    once the abusers' process has reported its own CPU."""

    def __init__(self, server: Proc) -> None:
        self.server = server
        self.tree = _tree_cpu(server.pid)
        self.own = _own_cpu()
        self.busy = _machine_busy()
        self.at = time.monotonic()
        self.used: tuple[float, float, float, float, float] | None = None

    def end(self) -> None:
        tree = _tree_cpu(self.server.pid)
        main = tree.get(self.server.pid, 0.0) - self.tree.get(self.server.pid, 0.0)
        workers = sum(cpu - self.tree.get(pid, 0.0) for pid, cpu in tree.items()
                      if pid != self.server.pid)  # fmt: skip
        self.used = (main, workers, _own_cpu() - self.own, _machine_busy() - self.busy,
                     time.monotonic() - self.at)  # fmt: skip

    def figures(self, abusers_cpu: float = 0.0) -> dict[str, Any]:
        assert self.used is not None
        main, workers, own, busy, seconds = self.used
        loadgen = own + abusers_cpu
        return {
            "seconds": round(seconds, 2),
            "server_cpu_s": round(main, 3),
            "workers_cpu_s": round(workers, 3),
            "loadgen_cpu_s": round(loadgen, 3),
            # what else ran meanwhile, in cores: above ~0.3 the tails measure neighbours
            "others_cores": round(max(0.0, busy - main - workers - loadgen) / seconds, 2),
        }


def _data_bytes(directory: Path) -> int:
    """Bytes the data directory's files take on disk (allocated blocks)."""
    return sum(p.stat().st_blocks * 512 for p in directory.rglob("*") if p.is_file())


def _stored(directory: Path, workshops: dict[str, str]) -> dict[str, Any]:
    """What the SQLite store holds per workshop (read once the server stopped)."""
    db = sqlite3.connect(f"file:{directory / 'atelier.sqlite3'}?mode=ro", uri=True)

    def sizes(table: str, column: str, wid: str) -> tuple[int, int]:
        query = f"SELECT count(*), coalesce(sum(length({column})), 0) FROM {table} "
        query += "WHERE workshop = ?"
        count, size = db.execute(query, (wid,)).fetchone()
        return int(count), int(size)

    try:
        found: dict[str, Any] = {}
        for name, wid in workshops.items():
            snapshots, snapshot_bytes = sizes("snapshots", "body", wid)
            ops, log_bytes = sizes("ops", "record", wid)
            found[name] = {"snapshots": snapshots, "snapshot_bytes": snapshot_bytes,
                           "log_ops": ops, "log_bytes": log_bytes,
                           "checkpoint_bytes": sizes("checkpoints", "state", wid)[1]}  # fmt: skip
        return found
    finally:
        db.close()


def _counters(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {line.rpartition(" ")[0]: float(line.rpartition(" ")[2])
            for line in text.splitlines() if line.startswith(COUNTERS)}  # fmt: skip


# -- setting the rooms up ----------------------------------------------------------------


def _http(port: int, method: str, path: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, bytes]:  # fmt: skip
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _board_file(notes: int, chars: int, columns: int) -> bytes:
    """A JSON export of a board of ``notes`` findings sorted into ``columns`` orientations,
    written by Atelier's own exporter: what a facilitator brings from an earlier session."""
    board = Board.new(4, shaping=True)
    ops: list[dict[str, Any]] = [{"kind": "column.add", "id": f"o{c}", "title": f"Orientation {c}"}
                                 for c in range(columns)]  # fmt: skip
    for i in range(notes):
        text = (f"Constat {i} : " + "le territoire " * (chars // 14 + 1))[:chars].strip()
        ops.append({"kind": "note.add", "id": f"a{i}", "text": text, "column": f"o{i % columns}"})
    for seq, op in enumerate(ops, 1):
        apply(board, parse_op(op), Context("Animation", "facilitator", "bench", 0, seq,
                                           DEFAULT_LIMITS))  # fmt: skip
    view = board.to_dict(viewer=Viewer("facilitator"))
    return export_file("json", Document("bench", "Salle A (abus)", "Banc d'essai", view))


def _import_board(port: int, board: bytes) -> Workshop:
    """Room A: a new workshop made from a board's JSON export (POST /api/workshops/import)."""
    status, body = _http(port, "POST", "/api/workshops/import", board,
                         {"Content-Type": "application/json"})  # fmt: skip
    if status != 201:
        raise RuntimeError(f"importing room A's board answered {status}: {body[:300]!r}")
    created = orjson.loads(body)
    secret = {role: str(created["links"][role]).split("#k=", 1)[1]
              for role in ("participant", "facilitator")}  # fmt: skip
    return Workshop(str(created["id"]), secret["participant"], secret["facilitator"])


def _warm_workers(port: int) -> None:
    """Start the worker pool (spawned on first use) before anything is measured."""
    link = orjson.dumps({"link": "https://atelier.example.fr/w/warm"})
    status, body = _http(port, "POST", "/api/qr", link, {"Content-Type": "application/json"})
    if status != 200:
        raise RuntimeError(f"/api/qr answered {status}: {body[:300]!r}")


# -- the polite client -------------------------------------------------------------------


class _Polite:
    """One participant of room B: its note moves and edits, open loop, acks timed."""

    def __init__(self, spec: AbuseSpec) -> None:
        self.spec = spec
        self.columns = column_ids(spec.columns)
        self.ws: WsClient | None = None
        self.welcomed = asyncio.Event()
        self.sent: dict[int, float] = {}
        self.latencies: list[float] = []
        self.when: list[float] = []  # each acked op's send time, from the phase's start
        self.t0 = 0.0
        self.rejects: Counter[str] = Counter()
        self.cop = 0
        self.settled = asyncio.Event()  # set when no op waits for its answer

    def _answered(self, cop: int) -> float | None:
        sent = self.sent.pop(cop, None)
        if not self.sent:
            self.settled.set()
        return sent

    def _acked(self, sent: float, now: float) -> None:
        self.latencies.append(now - sent)
        self.when.append(sent - self.t0)

    def on_message(self, data: bytes, now: float) -> None:
        if data.startswith(b'{"type":"ack"'):
            sent = self._answered(orjson.loads(data)["cop"])
            if sent is not None:
                self._acked(sent, now)
        elif data.startswith(b'{"type":"reject"'):
            message = orjson.loads(data)
            self._answered(message["cop"])
            self.rejects[message["code"]] += 1
        elif data.startswith(b'{"type":"welcome"'):
            self.welcomed.set()

    async def join(self, port: int, room: Workshop) -> None:
        self.ws = await connect("127.0.0.1", port, f"/ws/{room.id}", self.on_message)
        self.ws.send(
            orjson.dumps(
                {
                    "type": "join",
                    "v": 1,
                    "token": room.participant,
                    "client": "polite",
                    "name": "polite",
                    "since": None,
                }
            )
        )
        await asyncio.wait_for(self.welcomed.wait(), TIMEOUT)

    async def phase(self, duration: float) -> dict[str, Any]:
        """Send ops for ``duration`` seconds at the spec's rate; their ack latencies."""
        assert self.ws is not None
        self.latencies, self.when, self.rejects, self.sent = [], [], Counter(), {}
        interval, t0, n = 1 / self.spec.rate, time.monotonic(), 0
        self.t0 = t0
        lags: list[float] = []
        while (offset := n * interval) < duration:
            delay = t0 + offset - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.monotonic()
            lags.append(now - t0 - offset)
            self.send(now)
            n += 1
        if self.sent:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.settled.wait(), DRAIN)
        # the slowest acks, and when in the phase their ops left: a burst or all along?
        slowest = sorted(zip(self.latencies, self.when, strict=True), reverse=True)[:SLOWEST]
        return {"ops_sent": n, "ack_ms": percentiles(self.latencies),
                "unacked": len(self.sent), "rejects": dict(self.rejects),
                "send_lag_ms": percentiles(lags),
                "slowest": [[round(at, 2), round(ms * 1000, 1)] for ms, at in slowest]}  # fmt: skip

    def send(self, now: float) -> None:
        assert self.ws is not None
        self.cop += 1
        if self.cop % 2:
            column = self.columns[(self.cop // 2 + 1) % len(self.columns)]
            op: dict[str, Any] = {"kind": "note.move", "id": note_id(0), "column": column}
        else:
            op = {"kind": "note.edit", "id": note_id(0), "text": f"Constat revu {self.cop}"}
        self.sent[self.cop] = now
        self.settled.clear()
        self.ws.send(orjson.dumps({"type": "op", "cop": self.cop, "op": op}))

    async def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            await asyncio.wait([self.ws.lost], timeout=10)
            self.ws.abort()


# -- the abusers, in a process of their own ----------------------------------------------


@dataclass(frozen=True)
class _AbusePlan:
    port: int
    room: str
    facilitator: str
    link: str
    spec: AbuseSpec


def _abuse_main(plan: _AbusePlan, conn: Connection) -> None:
    """Entry point of the abusers' process: join, say ready, wait for go, abuse, report."""
    asyncio.run(_abuse(plan, conn))


async def _abuse(plan: _AbusePlan, conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def on_message(data: bytes, _at: float) -> None:
        if data.startswith((b'{"type":"ack"', b'{"type":"reject"', b'{"type":"welcome"')):
            message = orjson.loads(data)
            replies.put_nowait({"type": message["type"], "code": message.get("code")})

    ws = await connect("127.0.0.1", plan.port, f"/ws/{plan.room}", on_message)
    ws.send(
        orjson.dumps(
            {
                "type": "join",
                "v": 1,
                "token": plan.facilitator,
                "client": "abuser",
                "name": "abuser",
                "since": None,
            }
        )
    )
    welcome = await asyncio.wait_for(replies.get(), TIMEOUT)
    if welcome["type"] != "welcome":
        raise RuntimeError(f"room A's facilitator was not welcomed: {welcome}")
    conn.send(("ready",))
    go = await loop.run_in_executor(None, conn.recv)
    deadline = time.monotonic() + go[1]
    cpu0 = time.process_time()  # every thread of this process
    http_results: list[tuple[str, Counter[str], list[float]]] = []
    threads = [threading.Thread(target=_http_loop, daemon=True,
                                args=("export", plan, i, deadline, http_results))
               for i in range(plan.spec.export_clients)]  # fmt: skip
    threads += [threading.Thread(target=_http_loop, daemon=True,
                                 args=("qr", plan, i, deadline, http_results))
                for i in range(plan.spec.qr_clients)]  # fmt: skip
    for thread in threads:
        thread.start()
    snapshots: Counter[str] = Counter()
    cop = 0
    while plan.spec.snapshots and time.monotonic() < deadline and not ws.lost.done():
        cop += 1
        take = {"kind": "snapshot.take", "label": f"Abus {cop}"}
        ws.send(orjson.dumps({"type": "op", "cop": cop, "op": take}))
        try:
            reply = await asyncio.wait_for(replies.get(), TIMEOUT)
        except TimeoutError:
            snapshots["no_reply"] += 1
            break
        snapshots["taken" if reply["type"] == "ack" else reply["code"]] += 1
    for thread in threads:
        await loop.run_in_executor(None, thread.join, TIMEOUT)
    ws.close()
    await asyncio.wait([ws.lost], timeout=10)
    ws.abort()
    report: dict[str, Any] = {"snapshots": dict(snapshots), "cpu_s": time.process_time() - cpu0}
    for kind in ("export", "qr"):
        statuses: Counter[str] = Counter()
        served: list[float] = []
        for name, counts, times in http_results:
            if name == kind:
                statuses.update(counts)
                served += times
        report[kind] = {"status": dict(statuses), "served_ms": percentiles(served)}
    conn.send(("report", report))


def _http_loop(kind: str, plan: _AbusePlan, i: int, deadline: float,
               out: list[tuple[str, Counter[str], list[float]]]) -> None:  # fmt: skip
    """Ask for an export (or a QR code) again and again until ``deadline``, keeping the
    connection alive, ignoring Retry-After; count the answers by status."""
    if kind == "qr":
        source = (f"127.0.0.{2 + i % plan.spec.qr_addresses}", 0)
        method, path = "POST", "/api/qr"
        body: bytes | None = orjson.dumps({"link": plan.link})
        headers = {"Content-Type": "application/json"}
    else:
        source = ("127.0.0.1", 0)
        method, path = "GET", f"/api/workshops/{plan.room}/export.{plan.spec.export_format}"
        body, headers = None, {"Authorization": f"Bearer {plan.facilitator}"}
    statuses: Counter[str] = Counter()
    served: list[float] = []
    conn: http.client.HTTPConnection | None = None
    while time.monotonic() < deadline:
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", plan.port, timeout=TIMEOUT,
                                              source_address=source)  # fmt: skip
        started = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as error:
            statuses[type(error).__name__] += 1
            conn.close()
            conn = None
            continue
        statuses[str(response.status)] += 1
        if response.status == 200:
            served.append(time.monotonic() - started)
        if response.getheader("connection", "").lower() == "close":
            conn.close()
            conn = None
    if conn is not None:
        conn.close()
    out.append((kind, statuses, served))


# -- one run -----------------------------------------------------------------------------


def _budgets(settings: Settings) -> dict[str, Any]:
    """The configured bounds of one workshop's storage, as docs/storage.md adds them up:
    the board (5,000 notes: ≤ 6 MB), the log (``log_keep`` ops of ≤ ~3 KB), snapshots."""
    snapshot_bytes = settings.max_snapshot_mb * 2**20
    return {
        "max_snapshots": settings.max_snapshots,
        "snapshot_burst": settings.snapshot_burst,
        "snapshot_interval_s": settings.snapshot_interval_seconds,
        "snapshot_bytes": snapshot_bytes,
        "log_keep": settings.log_keep,
        "qr_per_minute": settings.qr_per_minute,
        "ops_per_second": settings.ops_per_second,
        "workers": settings.workers,
        "worker_jobs_per_key": settings.worker_jobs_per_key,
        "worker_waiting_per_key": settings.worker_waiting_per_key,
        "workshop_bytes": BOARD_BYTES + settings.log_keep * 3 * 1024 + snapshot_bytes,
    }


def run_abuse(spec: AbuseSpec, profile: Path | None = None) -> dict[str, Any]:
    """Run the calm phase, then the abuse phase, against one fresh server; the figures.
    With ``profile``, py-spy samples the server's processes during the abuse phase
    (bench/profile.py) into that directory: such a run's latencies are not the figures."""
    spec.check()
    line: dict[str, Any] = {**asdict(spec), "limits": "shipped defaults",
                            "env_overrides": sorted(k for k in os.environ
                                                    if k.startswith("ATELIER_"))}  # fmt: skip
    line["budget"] = _budgets(Settings.from_env())  # what the server reads too
    context = multiprocessing.get_context("spawn")
    board = _board_file(spec.notes, spec.note_chars, spec.orientations)
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as tmp:
        server = start_server(Path(tmp), limits={})
        data = Path(tmp) / f"data-{server.port}"
        abuser = None
        try:
            started = time.monotonic()
            room_a = _import_board(server.port, board)
            room_b = new_workshop(server.port, "Salle B (polie)")
            asyncio.run(seed_room(server.port, room_b.id, room_b.participant,
                                  columns=spec.columns, notes=1))  # fmt: skip
            _warm_workers(server.port)
            line["setup_s"] = round(time.monotonic() - started, 2)
            link = f"https://atelier.example.fr/w/{room_a.id}?"
            link += "x" * max(0, spec.qr_link_chars - len(link) - 40) + f"#k={room_a.participant}"
            parent, child = context.Pipe()
            plan = _AbusePlan(server.port, room_a.id, room_a.facilitator, link, spec)
            process = context.Process(target=_abuse_main, args=(plan, child), daemon=True)
            process.start()
            abuser = process
            if not parent.poll(TIMEOUT):
                raise TimeoutError("the abusers did not join room A in time")
            parent.recv()
            line["storage_before"] = {"data_dir_bytes": _data_bytes(data)}
            counters = _counters(server.port)
            profiler = Profiler(profile) if profile is not None else None
            (calm, calm_cpu), (abuse, abuse_cpu) = asyncio.run(
                _phases(server, spec, room_b, parent, profiler)
            )
            if not parent.poll(TIMEOUT + spec.duration):
                raise TimeoutError("the abusers did not report in time")
            report = parent.recv()[1]
            calm["window"] = calm_cpu.figures()
            abuse["window"] = abuse_cpu.figures(report.pop("cpu_s"))
            # what the phases added to the server's own counters (the storage gauge as is)
            line["counters"] = {
                name: value if name.startswith("atelier_storage") else value - counters.get(name, 0)
                for name, value in _counters(server.port).items()
                if value != counters.get(name, 0) or name.startswith("atelier_storage")
            }
            if profiler is not None:
                line["profile"] = profiler.finish()
        finally:
            try:
                if abuser is not None:
                    abuser.join(TIMEOUT)
                    if abuser.is_alive():
                        abuser.kill()
                        abuser.join(5)
            finally:
                server.stop()  # whatever happened to the abusers
        stored = _stored(data, {"a": room_a.id, "b": room_b.id})
        line["storage_after"] = {"data_dir_bytes": _data_bytes(data), **stored}
    line["calm"], line["abuse"], line["abusers"] = calm, abuse, report
    p95 = {phase: line[phase]["ack_ms"]["p95"] if line[phase]["ack_ms"] else None
           for phase in ("calm", "abuse")}  # fmt: skip
    line["ratio_p95"] = (
        round(p95["abuse"] / p95["calm"], 2) if p95["abuse"] and p95["calm"] else None
    )
    line["storage_within_budget"] = _within(line)
    return line


async def _phases(
    server: Proc, spec: AbuseSpec, room: Workshop, abusers: Connection, profiler: Profiler | None
) -> list[tuple[dict[str, Any], _Window]]:
    """The calm phase, then the abuse phase (the abusers told to go): each one's polite
    figures and CPU window."""
    polite = _Polite(spec)
    await polite.join(server.port, room)
    phases = []
    try:
        for abuse in (False, True):
            if abuse:
                abusers.send(("go", spec.duration))
                if profiler is not None:
                    pids = {f"{'main' if pid == server.pid else 'worker'}-{pid}": pid
                            for pid in _tree_cpu(server.pid)}  # fmt: skip
                    profiler.start(pids, spec.duration)
            window = _Window(server)
            figures = await polite.phase(spec.duration)
            window.end()
            phases.append((figures, window))
    finally:
        await polite.close()
    return phases


def _within(line: dict[str, Any]) -> bool:
    """Room A's snapshots within their bytes and count, each workshop within its bound,
    the data directory within the two workshops' bounds."""
    budget, after = line["budget"], line["storage_after"]
    room = after["a"]
    return bool(
        room["snapshot_bytes"] <= budget["snapshot_bytes"]
        and room["snapshots"] <= budget["max_snapshots"]  # all named: no phase closed here
        and all(after[r]["snapshot_bytes"] + after[r]["log_bytes"] + after[r]["checkpoint_bytes"]
                <= budget["workshop_bytes"] for r in ("a", "b"))
        and after["data_dir_bytes"] <= 2 * budget["workshop_bytes"]
    )  # fmt: skip
