"""deploy/: the loopback cluster script brings up a cluster a test can drive; the Compose
file and the configs it mounts hang together (no Docker engine runs here)."""

import asyncio
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets
import yaml

from .resilient import ResilientClient, drive
from .support import ROOT, canonical, free_port

DEPLOY = ROOT / "deploy"


def test_compose_parses_and_every_file_it_references_exists() -> None:
    """compose.yaml: Redis with AOF, three Atelier processes on Redis, nginx; files exist."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"redis", "atelier1", "atelier2", "atelier3", "nginx"}
    for name in ("atelier1", "atelier2", "atelier3"):
        service = services[name]
        assert service["environment"]["ATELIER_REDIS_URL"] == "redis://redis:6379/0"
        context = (DEPLOY / service["build"]["context"]).resolve()
        assert context == ROOT and (context / service["build"]["dockerfile"]).is_file()
    mounted = [v.split(":")[0] for s in services.values() for v in s.get("volumes", [])]
    local = [m for m in mounted if m.startswith(".")]
    assert local and all((DEPLOY / m).exists() for m in local)
    assert "/usr/local/etc/redis/redis.conf" in services["redis"]["command"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (.+) \S+$", dockerfile, re.M):
        assert all((ROOT / s).exists() for s in source.split()), source


def test_configs_say_what_the_docs_promise() -> None:
    """redis.conf turns AOF on; nginx upgrades websockets and names the compose services."""
    redis_conf = (DEPLOY / "redis.conf").read_text()
    assert re.search(r"^appendonly yes$", redis_conf, re.M)
    assert re.search(r"^appendfsync everysec$", redis_conf, re.M)
    assert re.search(r"^maxmemory-policy noeviction$", redis_conf, re.M)
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_set_header Upgrade $http_upgrade;" in nginx
    assert "proxy_set_header Connection $connection_upgrade;" in nginx
    assert re.findall(r"server (atelier\d):8000", nginx) == ["atelier1", "atelier2", "atelier3"]
    unit = (DEPLOY / "atelier.service").read_text()
    assert "ExecStart=/opt/atelier/.venv/bin/atelier serve" in unit
    assert "KillSignal=SIGTERM" in unit


class Cluster:
    """deploy/cluster.sh driven as an operator would, on free ports in a temp dir."""

    def __init__(self, directory: Path) -> None:
        self.ports = [free_port() for _ in range(3)]
        self.env = {
            **os.environ,
            "CLUSTER_DIR": str(directory),
            "CLUSTER_PORTS": " ".join(map(str, self.ports)),
            "CLUSTER_REDIS_PORT": str(free_port()),
            "CLUSTER_NGINX_PORT": str(free_port()),
        }
        self.directory = directory
        self.output = ""

    def run(self, command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(DEPLOY / "cluster.sh"), command],
            env=self.env, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip

    def pid(self, name: str) -> int:
        return int((self.directory / f"{name}.pid").read_text())


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A cluster started by deploy/cluster.sh, stopped by it afterwards."""
    made = Cluster(tmp_path / "cluster")
    started = made.run("start")
    assert started.returncode == 0, started.stderr + started.stdout
    made.output = started.stdout
    try:
        yield made
    finally:
        made.run("stop")


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed but not yet reaped by init, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.mark.redis
async def test_cluster_script_serves_one_board_and_survives_a_kill(cluster: Cluster) -> None:
    """Via the front URL: 12 clients, a process SIGKILLed, one board; stop cleans up."""
    front = re.search(r"open:\s+(http://\S+)", cluster.output)
    uses_nginx = shutil.which("nginx") is not None
    assert (front is not None) == uses_nginx, cluster.output
    bases = [f"http://127.0.0.1:{p}" for p in cluster.ports]
    http_base = front.group(1) if front else bases[0]
    async with httpx.AsyncClient(timeout=10) as http:
        created = (await http.post(f"{http_base}/api/workshops", json={"title": "Drôme"})).json()
        assert created["links"]["participant"].startswith(f"{http_base}/w/")
    secret = created["links"]["participant"].split("#k=")[1]
    ws_front = [http_base.replace("http", "ws", 1)] if front else []
    ws_direct = [b.replace("http", "ws", 1) for b in bases]
    # Behind nginx every client uses the one front URL; nginx picks the process.
    urls = ws_front or ws_direct
    clients = [ResilientClient(urls, created["id"], secret, name=f"E{i}", first=i)
               for i in range(12)]  # fmt: skip
    await asyncio.gather(*(c.start() for c in clients))
    if front:  # a browser's Origin must be accepted through the proxy
        async with websockets.connect(f"{ws_front[0]}/ws/{created['id']}",
                                      origin=http_base) as browser:  # fmt: skip
            join = {"type": "join", "v": 1, "token": secret, "client": "browser1",
                    "name": "Navigateur", "since": None}  # fmt: skip
            await browser.send(orjson.dumps(join).decode())
            assert orjson.loads(await browser.recv())["type"] == "welcome"
    victim = cluster.pid(f"atelier-{cluster.ports[0]}")
    try:
        half = asyncio.Event()
        load = asyncio.create_task(drive(clients, 400, seed=17, sent=half, sent_at=150))
        await asyncio.wait_for(half.wait(), 60)
        os.kill(victim, signal.SIGKILL)
        await load
        await asyncio.gather(*(c.drain(60) for c in clients))
        state = await board_from(bases[1], created["id"], secret, min_seq=400)
        for client in clients:
            await client.wait_until(lambda c=client: canonical(c.board) == state, 30)
            assert client.errors == []
    finally:
        await asyncio.gather(*(c.stop() for c in clients))
    status = cluster.run("status")
    assert status.returncode == 1 and f"atelier-{cluster.ports[0]}: dead" in status.stdout
    pids = [cluster.pid(n) for n in ["redis", *(f"atelier-{p}" for p in cluster.ports[1:])]]
    stopped = cluster.run("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not any(alive(pid) for pid in pids)
    assert not list(cluster.directory.glob("*.pid"))


async def board_from(base: str, workshop_id: str, secret: str, min_seq: int) -> dict[str, Any]:
    """A process's board once it has applied ``min_seq`` ops."""
    async with httpx.AsyncClient(timeout=10) as http:
        for _ in range(200):
            answer = await http.get(f"{base}/api/workshops/{workshop_id}",
                                    headers={"authorization": f"Bearer {secret}"})  # fmt: skip
            state = answer.json()["state"]
            if state["seq"] >= min_seq:
                return canonical(state)
            await asyncio.sleep(0.1)
    raise TimeoutError(f"the board of {base} stayed behind seq {min_seq}")
