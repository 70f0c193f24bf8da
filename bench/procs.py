"""The processes a benchmark runs against: Atelier servers, the raw relay, redis-server.

Each one is a real subprocess on a free loopback port, started and stopped by the
benchmark itself. Their CPU time and memory are read from ``/proc``, so the figures
are the kernel's, with no agent inside the measured process.
"""

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BENCH_LIMITS",
    "ROOT",
    "Proc",
    "ProcUsage",
    "Workshop",
    "create_workshop",
    "free_port",
    "new_workshop",
    "raise_nofile",
    "start_redis",
    "start_relay",
    "start_server",
    "start_yjs",
    "yjs_ready",
]

ROOT = Path(__file__).resolve().parent.parent
#: The Node.js y-websocket server's folder: package.json here, node_modules installed on
#: first use (git-ignored).
YJS = ROOT / "bench" / "yjs"
# Every bench client comes from 127.0.0.1, and the seeding client sends thousands of
# ops in a burst: the per-address and per-socket limits meant for a town hall's Wi-Fi
# would refuse the load itself, so the bench lifts them (the checks still run).
BENCH_LIMITS = {
    "ATELIER_MAX_CONNECTIONS_PER_ADDRESS": "0",
    "ATELIER_MAX_CONNECTIONS_PER_ROOM": "0",
    "ATELIER_WORKSHOPS_PER_HOUR": "0",
    "ATELIER_OPS_PER_SECOND": "1000000",
    "ATELIER_OPS_BURST": "1000000",
}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_nofile(wanted: int) -> int:
    """Raise this process's soft limit of open files (children inherit it); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(soft, wanted), hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


@dataclass(frozen=True)
class ProcUsage:
    """CPU seconds (user + system) and resident memory of one process at one instant."""

    cpu: float
    rss: int  # bytes
    peak_rss: int  # bytes (VmHWM)


class Proc:
    """A subprocess we started, with its port, and how to read its usage."""

    def __init__(self, kind: str, popen: "subprocess.Popen[bytes]", port: int, log: Path) -> None:
        self.kind = kind
        self.popen = popen
        self.port = port
        self.log = log

    @property
    def pid(self) -> int:
        return self.popen.pid

    def usage(self) -> ProcUsage:
        """Read utime + stime and RSS from /proc."""
        with open(f"/proc/{self.pid}/stat") as f:
            # the command name may hold spaces: the fields start after its closing ')'
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        rss = peak = 0
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) * 1024
        return ProcUsage(cpu=cpu, rss=rss, peak_rss=peak)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM, then SIGKILL if it lingers; only this process, by pid."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


def _wait(check: Any, proc: Proc, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if proc.popen.poll() is not None:
            log_tail = "\n" + proc.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{what} exited early with code {proc.popen.returncode}{log_tail}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _tcp_ok(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _spawn(
    kind: str, cmd: list[str], port: int, workdir: Path, env: dict[str, str] | None = None
) -> Proc:
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{kind}-{port}.log"
    with log.open("ab") as out:
        popen = subprocess.Popen(
            cmd, cwd=ROOT, stdout=out, stderr=out, env={**os.environ, **(env or {})}
        )
    return Proc(kind, popen, port, log)


def start_server(
    workdir: Path, redis_url: str | None = None, *, limits: Mapping[str, str] = BENCH_LIMITS
) -> Proc:
    """One ``atelier serve`` process, exactly as a user starts it; ``limits`` are the
    ``ATELIER_*`` variables it gets on top of this process's environment (the bench's
    lifted limits by default; ``{}`` for the shipped defaults)."""
    port = free_port()
    cmd = [sys.executable, "-m", "atelier", "serve", "--port", str(port),
           "--data", str(workdir / f"data-{port}"), "--log-level", "warning"]  # fmt: skip
    if redis_url:
        cmd += ["--redis", redis_url]
    proc = _spawn("atelier", cmd, port, workdir, dict(limits))
    _wait(lambda: _http_ok(f"http://127.0.0.1:{port}/readyz"), proc, 30, "atelier serve")
    return proc


def start_relay(workdir: Path, redis_url: str | None = None) -> Proc:
    """The raw relay baseline (bench/relay.py) in its own process, over Redis if given."""
    port = free_port()
    cmd = [sys.executable, "-m", "bench.relay", "--port", str(port)]
    proc = _spawn("relay", [*cmd, "--redis", redis_url] if redis_url else cmd, port, workdir)
    _wait(lambda: _tcp_ok(port), proc, 20, "the raw relay")
    return proc


def yjs_ready() -> Path:
    """Install the y-websocket server and yjs into bench/yjs/node_modules on first use
    (``npm install``, versions pinned by package-lock.json); return the server's script."""
    script = YJS / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"
    if script.exists():
        return script
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        raise RuntimeError("Node.js and npm are needed for the y-websocket baseline "
                           "(apt-get install nodejs npm)")  # fmt: skip
    done = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=YJS,
                          capture_output=True, timeout=600, check=False)  # fmt: skip
    if done.returncode != 0 or not script.exists():
        raise RuntimeError(f"npm install in {YJS} failed: {done.stderr.decode()[-2000:]}")
    return script


def start_yjs(workdir: Path) -> Proc:
    """The Node.js y-websocket server (@y/websocket-server), as its README starts it."""
    script = yjs_ready()
    port = free_port()
    env = {"HOST": "127.0.0.1", "PORT": str(port)}
    proc = _spawn("yjs", [shutil.which("node") or "node", str(script)], port, workdir, env)
    _wait(lambda: _tcp_ok(port), proc, 20, "the y-websocket server")
    return proc


def start_redis(workdir: Path) -> Proc:
    """A redis-server of the benchmark's own, AOF everysec (Atelier's documented default)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    port = free_port()
    directory = workdir / f"redis-{port}"
    directory.mkdir(parents=True, exist_ok=True)
    cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(directory)]  # fmt: skip
    proc = _spawn("redis", cmd, port, workdir)
    _wait(lambda: _tcp_ok(port), proc, 20, "redis-server")
    return proc


@dataclass(frozen=True)
class Workshop:
    """A workshop the bench created, and the secrets of its links."""

    id: str
    participant: str
    facilitator: str


def new_workshop(port: int, title: str) -> Workshop:
    """Create a workshop over HTTP; return its id and its links' secrets."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/workshops",
        # participants seed orientations and move them, as in an open workshop
        data=json.dumps({"title": title, "territory": "Banc d'essai", "shaping": True}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.loads(response.read())
    secret = {role: str(body["links"][role]).split("#k=", 1)[1]
              for role in ("participant", "facilitator")}  # fmt: skip
    return Workshop(str(body["id"]), secret["participant"], secret["facilitator"])


def create_workshop(port: int, title: str) -> tuple[str, str]:
    """Create a workshop over HTTP; return its id and the participant link's secret."""
    workshop = new_workshop(port, title)
    return workshop.id, workshop.participant
