"""Real parts for the tests: redis-server and Atelier server processes on free ports,
and a websocket client that keeps its own mirror of the board from the frames it gets."""

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import orjson
import websockets

ROOT = Path(__file__).resolve().parent.parent

_SCHEMA = orjson.loads((ROOT / "docs" / "protocol.schema.json").read_bytes())
_SERVER_FRAME = jsonschema.Draft202012Validator({**_SCHEMA, "oneOf": [{"$ref": "#/$defs/server"}]})
_CLIENT_FRAME = jsonschema.Draft202012Validator({**_SCHEMA, "oneOf": [{"$ref": "#/$defs/client"}]})


def check_server_frame(frame: dict[str, Any]) -> None:
    """Fail unless ``frame`` is a server frame as docs/protocol.schema.json describes it."""
    _SERVER_FRAME.validate(frame)


def check_client_frame(frame: dict[str, Any]) -> None:
    """Fail unless ``frame`` is a client frame as docs/protocol.schema.json describes it."""
    _CLIENT_FRAME.validate(frame)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def served_here(app: Any, port: int) -> AsyncIterator[str]:
    """Serve ``app`` with a real uvicorn server on ``port``, in this process (for a test
    that injects something into the app's store); yields its ``host:port``."""
    import uvicorn  # only the tests that serve in process need it

    config = uvicorn.Config(app, port=port, ws="websockets-sansio", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check`` until it holds, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


class RedisProcess:
    """A redis-server of the test's own, with AOF on, in a temporary directory."""

    def __init__(
        self,
        directory: Path,
        port: int | None = None,
        *,
        load_rdb: bool = False,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.extra = extra  # more redis-server options: a password, a unix socket, TLS
        # AOF on ignores a dump.rdb (it starts from an empty AOF): off to load one
        self.load_rdb = load_rdb
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisProcess":
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no" if self.load_rdb else "yes", "--appendfsync", "always",
             "--dir", str(self.directory), *self.extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self._answers, 10, "redis-server to answer")
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith((b"+PONG", b"-NOAUTH"))  # up, maybe locked
        except OSError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)
        self.proc = None


class ServerProcess:
    """One ``atelier serve`` process on a free port, as a user starts it."""

    def __init__(
        self,
        data_dir: Path,
        *,
        redis_url: str | None = None,
        port: int | None = None,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.redis_url = redis_url
        self.port = port or free_port()
        self.env = env or {}
        self.args = args or []
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"server-{self.port}.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> "ServerProcess":
        cmd = [sys.executable, "-m", "atelier", "serve", "--port", str(self.port),
               "--data", str(self.data_dir), *self.args]  # fmt: skip
        if self.redis_url:
            cmd += ["--redis", self.redis_url]
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the fd
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log)
        wait_until(self._ready, 20, f"server on port {self.port}")
        return self

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{self.log()}")
        try:
            return httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        """Stop the process with ``sig`` and return its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        code = self.proc.returncode
        self.proc = None
        return code

    def create_workshop(
        self, title: str = "Atelier test", *, shaping: bool = False
    ) -> dict[str, Any]:
        """A new workshop; ``shaping``: participants shape orientations from the start."""
        body = {"title": title, "shaping": shaping}
        response = httpx.post(f"{self.base}/api/workshops", json=body, timeout=5)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        data["secrets"] = {r: link.split("#k=")[1] for r, link in data["links"].items()}
        return data


def server_state(
    server: ServerProcess, workshop: dict[str, Any], role: str = "observer"
) -> dict[str, Any]:
    """The board as the server holds it, read over HTTP with ``role``'s link."""
    response = httpx.get(
        f"{server.base}/api/workshops/{workshop['id']}",
        headers={"Authorization": f"Bearer {workshop['secrets'][role]}"},
        timeout=5,
    )
    response.raise_for_status()
    state: dict[str, Any] = response.json()["state"]
    return state


def apply_event(board: dict[str, Any], event: dict[str, Any]) -> None:
    """Apply a resolved event to a plain-dict board, as a browser does: no decisions."""
    notes, columns = board["notes"], board["columns"]
    kind = event["kind"]
    if kind in ("note.add", "note.restore"):
        fields = ("id", "text", "author", "colour", "ambitions", "column", "pos")
        note = {k: event[k] for k in fields}
        # the diagnostic's fields and the import mark, carried only when set
        note.update({k: event[k] for k in (*FINDING_FIELDS, "imported") if event.get(k)})
        if event.get("private"):  # the server says when only this client sees it
            note["private"] = True
        notes[event["id"]] = note
    elif kind == "note.edit":
        for key, value in event.items():
            if key in FINDING_FIELDS and value == "":
                notes[event["id"]].pop(key, None)  # '' clears it
            elif key not in ("kind", "id"):
                notes[event["id"]][key] = value
    elif kind == "note.move":
        notes[event["id"]].update(column=event["column"], pos=event["pos"])
    elif kind == "note.delete":
        del notes[event["id"]]
    elif kind == "column.add":
        columns[event["id"]] = {"id": event["id"], "title": event["title"], "pos": event["pos"]}
    elif kind == "column.rename":
        columns[event["id"]]["title"] = event["title"]
    elif kind == "column.move":
        columns[event["id"]]["pos"] = event["pos"]
    elif kind == "column.delete":
        del columns[event["id"]]
        for moved in event["notes"]:
            notes[moved["id"]].update(column=None, pos=moved["pos"])
    elif kind in ("reveal", "freeze", "notes.reveal", "tools.set"):
        # silent notes become everyone's: a reveal of them (freeze reveals too), or silent
        # writing turned off (tools.set lists what it hid); each as a public note.add
        for shown in event.get("notes", []):
            apply_event(board, shown)
    elif kind == "participant.erase":
        for note_id in event["notes"]:
            if note_id in notes:
                notes[note_id]["author"] = event["replacement"]
    elif kind not in FLOW_KINDS:
        raise AssertionError(f"unknown event kind {kind}")


#: Events of the workshop's flow that change neither notes nor columns.
FLOW_KINDS = frozenset({
    "phase.next", "snapshot.take", "timer.start", "timer.stop", "focus", "column.state",
    "column.lock",
    "column.unlock", "idea.add", "idea.delete", "vote.add", "vote.remove", "vote.round",
    "votes.reveal", "silent.waiting", "idea.move", "column.documents", "cap.set",
    "colleges.set", "member.set", "member.remove", "objection.add", "objection.answer",
    "objection.delete", "decision.set", "vigilance.answer", "meeting.set",
})  # fmt: skip
#: A finding's optional fields from the diagnostic (issue 11).
FINDING_FIELDS = ("type", "theme", "source", "indicator")


def board_from_state(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": state["seq"],
        "notes": {n["id"]: dict(n) for n in state["notes"]},
        "columns": {c["id"]: dict(c) for c in state["columns"]},
    }


def canonical(board: dict[str, Any]) -> dict[str, Any]:
    """A board (mirror or server state) in one comparable form."""
    if isinstance(board["notes"], list):
        board = board_from_state(board)
    return {"notes": board["notes"], "columns": board["columns"]}


class Client:
    """A real websocket client that mirrors the board from the frames it receives."""

    def __init__(self, ws_base: str, workshop_id: str, secret: str, *, name: str = "Test",
                 client_id: str | None = None, validate: bool = True,
                 record_arrivals: bool = False) -> None:  # fmt: skip
        self.validate = validate  # check every frame both ways against the protocol schema
        self.url = f"{ws_base}/ws/{workshop_id}"
        self.secret = secret
        self.name = name
        self.client_id = client_id or os.urandom(8).hex()
        self.ws: Any = None
        self.board: dict[str, Any] = {"seq": 0, "notes": {}, "columns": {}}
        self.frames: list[dict[str, Any]] = []  # every frame received, in order
        self.record_arrivals = record_arrivals
        self.arrivals: list[float] = []  # time.monotonic() of each frame, if recorded
        self.acks: dict[int, dict[str, Any]] = {}
        self.next_cop = 1
        self.welcome: dict[str, Any] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self.closed: Any = None

    async def connect(self, since: int | None = None, **join: Any) -> dict[str, Any]:
        self.welcome, self.closed = None, None  # a reconnect waits for its own welcome
        self.ws = await websockets.connect(self.url, max_size=None, open_timeout=10)
        frame = {"type": "join", "v": 1, "token": self.secret, "client": self.client_id,
                 "name": self.name, "since": since, **join}  # fmt: skip
        await self.send_frame(frame)
        self._reader = asyncio.create_task(self._read())
        await self.wait_for(lambda: self.welcome is not None, what="welcome")
        assert self.welcome is not None
        return self.welcome

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                if self.record_arrivals:
                    self.arrivals.append(time.monotonic())
                frame = orjson.loads(raw)
                if self.validate:
                    check_server_frame(frame)
                self.frames.append(frame)
                self._on_frame(frame)
                self._changed.set()
        except websockets.ConnectionClosed as closed:
            self.closed = closed
        finally:
            if self.closed is None:
                self.closed = self.ws.close_code
            self._changed.set()

    def _on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "welcome":
            if "state" in frame:
                self.board = board_from_state(frame["state"])
            for event in frame.get("events", []):
                apply_event(self.board, event["op"])
            self.board["seq"] = frame["seq"]
            self.welcome = frame
        elif kind == "event":
            assert frame["seq"] > self.board["seq"], "an event arrived twice or out of order"
            apply_event(self.board, frame["op"])
            self.board["seq"] = frame["seq"]
        elif kind == "reset":
            self.board = board_from_state(frame["state"])
        elif kind in ("ack", "reject") and "cop" in frame:
            self.acks[frame["cop"]] = frame

    async def wait_for(
        self, check: Callable[[], bool], timeout: float = 10, what: str = ""
    ) -> None:
        async def loop() -> None:
            while not check():
                if self.closed is not None and not check():
                    raise ConnectionError(f"closed ({self.closed}) while waiting for {what}")
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(loop(), timeout)

    async def send_raw(self, data: str | bytes) -> None:
        """Send anything at all, unchecked (for bad-input tests)."""
        await self.ws.send(data)

    async def send_frame(self, frame: dict[str, Any]) -> None:
        """Send a well-formed client frame (checked against the schema)."""
        if self.validate:
            check_client_frame(frame)
        await self.ws.send(orjson.dumps(frame).decode())

    async def send_op(self, op: dict[str, Any], cop: int | None = None) -> int:
        """Send an op without waiting; returns its client op id."""
        if cop is None:
            cop, self.next_cop = self.next_cop, self.next_cop + 1
        await self.send_frame({"type": "op", "cop": cop, "op": op})
        return cop

    async def op(self, op: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        """Send an op and wait for its ack or reject."""
        cop = await self.send_op(op)
        await self.wait_for(lambda: cop in self.acks, timeout, f"ack of cop {cop}")
        return self.acks[cop]

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await self._reader
