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
from .support import ROOT, canonical, free_port, wait_until

DEPLOY = ROOT / "deploy"


def test_compose_parses_and_every_file_it_references_exists() -> None:
    """compose.yaml: Redis with AOF, three Atelier processes on Redis, nginx; files exist."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"redis", "atelier1", "atelier2", "atelier3", "nginx"}
    for name in ("atelier1", "atelier2", "atelier3"):
        service = services[name]
        assert service["environment"]["ATELIER_REDIS_URL"].startswith("redis://:${REDIS_PASSWORD")
        assert service["environment"]["ATELIER_REDIS_URL"].endswith("@redis:6379/0")
        context = (DEPLOY / service["build"]["context"]).resolve()
        assert context == ROOT and (context / service["build"]["dockerfile"]).is_file()
    mounted = [v.split(":")[0] for s in services.values() for v in s.get("volumes", [])]
    local = [m for m in mounted if m.startswith(".") and m != "./tls"]  # tls: the operator's
    assert local and all((DEPLOY / m).exists() for m in local)
    assert "/usr/local/etc/redis/redis.conf" in " ".join(services["redis"]["command"])
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.M):
        assert all((ROOT / s).exists() for s in source.split()), source


def test_compose_is_safe_by_default() -> None:
    """Read-only, no capabilities, no privilege gain, limits and log rotation everywhere;
    Redis with a password, maxmemory and its data on a volume; nginx the only trusted
    proxy (no FORWARDED_ALLOW_IPS="*"), and the only published ports."""
    text = (DEPLOY / "compose.yaml").read_text()
    assert "FORWARDED_ALLOW_IPS" not in text and "protected-mode" not in text
    compose = yaml.safe_load(text)
    services = compose["services"]
    for name, service in services.items():
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        limits = service["deploy"]["resources"]["limits"]
        assert limits["memory"] and limits["cpus"], name
        assert service["logging"]["options"]["max-size"], name
        assert service.get("pids_limit"), name
        assert name == "nginx" or "ports" not in service, name
    assert set(services["nginx"]["cap_add"]) <= {"CHOWN", "SETUID", "SETGID", "NET_BIND_SERVICE"}
    redis = " ".join(services["redis"]["command"])
    assert '--requirepass "$$REDIS_PASSWORD"' in redis and "--maxmemory" in redis
    assert "redis-data:/data" in services["redis"]["volumes"]
    assert "REDIS_PASSWORD" in " ".join(services["redis"]["healthcheck"]["test"])
    nginx_ip = services["nginx"]["networks"]["atelier"]["ipv4_address"]
    atelier = services["atelier1"]["environment"]
    assert atelier["ATELIER_TRUSTED_PROXIES"] == nginx_ip
    assert atelier["ATELIER_PUBLIC_URL"].startswith("${ATELIER_PUBLIC_URL:?")
    assert atelier["ATELIER_METRICS_ADDRESS"]
    for image in (services["redis"]["image"], services["nginx"]["image"]):
        assert re.fullmatch(r"[a-z]+:\d+\.\d+\.\d+-alpine", image), image  # an exact release


def test_dockerfile_runs_the_installed_package_as_nobody_with_data_on_a_volume() -> None:
    """Pinned base, pinned dependencies, non-root, a volume, /healthz, a .dockerignore."""
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.M)
    assert base and re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?",
                                 base.group(1))  # fmt: skip
    assert dockerfile.count("--constraint deploy/constraints.txt") == 2  # setuptools, the wheel
    assert re.search(r"^USER 10001:10001$", dockerfile, re.M)
    assert re.search(r"^VOLUME \[\"/var/lib/atelier\"\]$", dockerfile, re.M)
    assert "ATELIER_DATA=/var/lib/atelier" in dockerfile and "/tmp/atelier-data" not in dockerfile
    health = re.search(r"^HEALTHCHECK .*$\n.*$", dockerfile, re.M)
    assert health and "/healthz" in health.group(0) and "/readyz" not in health.group(0)
    assert re.search(r'^CMD \["atelier", "serve"\]$', dockerfile, re.M)
    final = dockerfile.rsplit("FROM ", 1)[1]
    assert "COPY server" not in final and "COPY web" not in final  # the wheel, not a checkout
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignore and "!server/" in ignore and "!.venv" not in ignore
    pins = [x for x in (DEPLOY / "constraints.txt").read_text().splitlines()
            if x and not x.startswith("#")]  # fmt: skip
    assert pins and all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[\w.]+", x) for x in pins), pins
    required = ("starlette", "uvicorn", "websockets", "redis", "orjson", "segno", "odfpy")
    names = {x.split("==")[0].lower() for x in pins}
    assert all(r in names for r in required)


def test_configs_say_what_the_docs_promise() -> None:
    """redis.conf: AOF, noeviction under a ceiling, protected mode; nginx: websockets,
    the client address set (not appended), /metrics kept out, 503s not failures."""
    redis_conf = (DEPLOY / "redis.conf").read_text()
    assert re.search(r"^appendonly yes$", redis_conf, re.M)
    assert re.search(r"^appendfsync everysec$", redis_conf, re.M)
    assert re.search(r"^maxmemory-policy noeviction$", redis_conf, re.M)
    assert re.search(r"^maxmemory \d+[mg]b$", redis_conf, re.M)
    assert re.search(r"^protected-mode yes$", redis_conf, re.M)
    proxy = (DEPLOY / "nginx-proxy.conf").read_text()
    assert proxy.count("proxy_set_header Upgrade $http_upgrade;") == 1
    assert "proxy_set_header Connection $connection_upgrade;" in proxy
    assert "$proxy_add_x_forwarded_for" not in proxy
    assert proxy.count("proxy_set_header X-Forwarded-For $remote_addr;") == 2
    assert proxy.count("proxy_set_header X-Forwarded-Proto $forwarded_proto;") == 2
    assert re.search(r"location = /metrics \{\s*return 404;", proxy)
    next_upstream = re.findall(r"proxy_next_upstream ([^;]+);", proxy)
    assert next_upstream == ["error timeout"]  # a 503 is passed on, never counted
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert re.findall(r"server (atelier\d):8000", nginx) == ["atelier1", "atelier2", "atelier3"]
    assert "max_fails=1" not in nginx
    assert 'add_header Strict-Transport-Security "max-age=63072000" always;' in nginx
    assert "listen 443 ssl;" in nginx and "ssl_reject_handshake on;" in nginx
    assert "return 301 https://$server_name$request_uri;" in nginx
    assert "include atelier-proxy.conf;" in nginx


def test_systemd_units_are_confined() -> None:
    """The unit runs the installed package with UMask 0077 and scores 2.5 or better in
    `systemd-analyze security` (the directives are checked where systemd is absent); the
    template takes its port from the instance name, which no env file can override."""
    unit = (DEPLOY / "atelier.service").read_text()
    template = (DEPLOY / "atelier@.service").read_text()
    for text in (unit, template):
        directives = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
        assert directives["UMask"] == "0077" and directives["StateDirectoryMode"] == "0700"
        assert directives["ExecStart"].startswith("/opt/atelier/bin/atelier serve")
        assert directives["KillSignal"] == "SIGTERM"
        for name, value in {
            "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
            "PrivateTmp": "yes", "PrivateDevices": "yes", "PrivateUsers": "yes",
            "CapabilityBoundingSet": "", "MemoryDenyWriteExecute": "yes",
            "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "LockPersonality": "yes",
            "ProtectKernelTunables": "yes", "ProtectControlGroups": "yes", "DynamicUser": "yes",
            "SystemCallArchitectures": "native", "RestrictNamespaces": "yes",
        }.items():  # fmt: skip
            assert directives[name] == value, name
        assert "SystemCallFilter=@system-service" in text
    assert "--port %i" in template and "ATELIER_PORT" not in template
    assert "EnvironmentFile=-/etc/atelier/atelier.env" in template
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return  # the directives above are what the score is made of
    for path in (DEPLOY / "atelier.service", DEPLOY / "atelier@.service"):
        done = subprocess.run([analyze, "security", "--offline=yes", str(path)],
                              capture_output=True, text=True, check=False)  # fmt: skip
        score = re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout + done.stderr)
        assert score, done.stdout + done.stderr
        assert float(score.group(1)) <= 2.5, done.stdout


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

    def run(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(DEPLOY / "cluster.sh"), *command],
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
        status = cluster.run("status")
        assert status.returncode == 1 and f"atelier-{cluster.ports[0]}: dead" in status.stdout
        # one process restarted alone, while the others keep serving the same clients
        others = [cluster.pid(f"atelier-{p}") for p in cluster.ports[1:]]
        more = asyncio.create_task(drive(clients, 100, seed=18))
        restarted = await asyncio.to_thread(cluster.run, "restart", f"atelier-{cluster.ports[0]}")
        assert restarted.returncode == 0, restarted.stderr + restarted.stdout
        await more
        await asyncio.gather(*(c.drain(60) for c in clients))
        assert [cluster.pid(f"atelier-{p}") for p in cluster.ports[1:]] == others
        assert cluster.pid(f"atelier-{cluster.ports[0]}") != victim
        state = await board_from(bases[0], created["id"], secret, min_seq=500)
        for client in clients:
            await client.wait_until(lambda c=client: canonical(c.board) == state, 30)
            assert client.errors == []
    finally:
        await asyncio.gather(*(c.stop() for c in clients))
    assert cluster.run("status").returncode == 0
    pids = [cluster.pid(n) for n in ["redis", *(f"atelier-{p}" for p in cluster.ports)]]
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


@pytest.mark.redis
def test_a_redis_blip_behind_nginx_answers_503_and_benches_no_process(cluster: Cluster) -> None:
    """Redis stopped: through nginx every write answers Atelier's 503 with Retry-After,
    never nginx's 502 "no live upstreams"; Redis back, the next request succeeds at once.
    The script stops and starts Redis alone; /metrics is not served through nginx."""
    if shutil.which("nginx") is None:
        pytest.fail("nginx is missing: apt-get install nginx-light")
    front = f"http://127.0.0.1:{cluster.env['CLUSTER_NGINX_PORT']}"
    assert httpx.get(f"{front}/metrics").status_code == 404
    atelier_pids = [cluster.pid(f"atelier-{p}") for p in cluster.ports]
    stopped = cluster.run("stop", "redis")
    assert stopped.returncode == 0 and "redis stopped" in stopped.stdout, stopped.stderr
    for _ in range(12):
        answer = httpx.post(f"{front}/api/workshops", json={}, timeout=30)
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"] == "unavailable" and answer.headers["retry-after"]
    started = cluster.run("restart", "redis")
    assert started.returncode == 0, started.stderr + started.stdout
    for port in cluster.ports:  # each process notices Redis again
        wait_until(lambda p=port: httpx.get(f"http://127.0.0.1:{p}/readyz").status_code == 200,
                   30, f"process {port} ready")  # fmt: skip
    codes = [httpx.post(f"{front}/api/workshops", json={}, timeout=10).status_code
             for _ in range(6)]  # fmt: skip
    assert codes == [201] * 6
    assert [cluster.pid(f"atelier-{p}") for p in cluster.ports] == atelier_pids


def test_cluster_script_checks_its_needs_and_leaves_foreign_pids_alone(tmp_path: Path) -> None:
    """Without curl on PATH it says what is missing; a pid file naming a process it did
    not start (a reused pid) is never signalled."""
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("bash", "redis-server", "redis-cli", "awk", "sed", "cat", "mkdir", "tr"):
        found = shutil.which(tool)
        if found:
            (bare / tool).symlink_to(found)
    made = Cluster(tmp_path / "cluster")
    made.env["PATH"] = str(bare)
    made.env["ATELIER"] = str(ROOT / ".venv" / "bin" / "atelier")
    done = made.run("start")
    assert done.returncode != 0 and "missing: curl" in done.stderr
    made.directory.mkdir()
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        (made.directory / "redis.pid").write_text(str(stranger.pid))
        made.env["PATH"] = os.environ["PATH"]
        stopped = made.run("stop", "redis")
        assert "not the process this script started" in stopped.stdout, stopped.stdout
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


class TlsFront:
    """deploy/nginx.conf as shipped, on loopback ports, with a throwaway certificate, in
    front of one Atelier process that trusts it."""

    NAME = "atelier.example.fr"

    def __init__(self, directory: Path, upstream: int) -> None:
        self.directory = directory
        self.http, self.https = free_port(), free_port()
        directory.mkdir(parents=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "1", "-subj", f"/CN={self.NAME}",
             "-addext", f"subjectAltName=DNS:{self.NAME}",
             "-keyout", str(directory / "privkey.pem"), "-out", str(directory / "fullchain.pem")],
            check=True, capture_output=True,
        )  # fmt: skip
        conf = (DEPLOY / "nginx.conf").read_text()
        conf = re.sub(r"(\s*server atelier1:8000 )", rf"\n        server 127.0.0.1:{upstream} ",
                      conf, count=1)  # fmt: skip
        conf = re.sub(r"\n\s*server atelier[23]:8000 [^\n]*", "", conf)
        conf = conf.replace(
            "listen 80 default_server;", f"listen 127.0.0.1:{self.http} default_server;"
        )
        conf = conf.replace("listen 443 ssl", f"listen 127.0.0.1:{self.https} ssl")
        conf = conf.replace("/etc/nginx/tls", str(directory))
        conf = conf.replace(
            "include atelier-proxy.conf;", f"include {DEPLOY / 'nginx-proxy.conf'};"
        )
        kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        temp = "".join(f"    {kind}_temp_path {directory}/{kind};\n" for kind in kinds)
        conf = conf.replace(
            "http {\n", f"http {{\n    access_log {directory}/access.log;\n{temp}", 1
        )
        (directory / "nginx.conf").write_text(conf)
        globals_ = f"daemon off; pid {directory}/nginx.pid; error_log {directory}/error.log;"
        self.args = ["-p", str(directory), "-c", str(directory / "nginx.conf"),
                     "-e", str(directory / "error.log"), "-g", globals_]  # fmt: skip
        tested = subprocess.run(["nginx", "-t", *self.args], capture_output=True, text=True)
        assert tested.returncode == 0, tested.stderr
        self.proc = subprocess.Popen(["nginx", *self.args], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)  # fmt: skip

    def curl(self, path: str, *args: str, name: str = NAME) -> subprocess.CompletedProcess[str]:
        """curl over TLS with SNI and Host ``name``, headers and body included in stdout."""
        return subprocess.run(
            ["curl", "-sS", "-k", "-i", "--max-time", "10", "--resolve",
             f"{name}:{self.https}:127.0.0.1", f"https://{name}:{self.https}{path}", *args],
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def test_tls_front_sets_the_client_address_the_scheme_and_hsts(tmp_path: Path) -> None:
    """Through the shipped TLS server block: links come out https (a forged
    X-Forwarded-Proto is ignored), HSTS is sent, a spoofed X-Forwarded-For does not
    buy a new rate-limit budget, /metrics is not served, an unknown name is refused at
    the handshake and plain HTTP redirects to the configured name, never to Host."""
    for tool in ("nginx", "openssl", "curl"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing (tests/run installs it)")
    from .support import ServerProcess

    (tmp_path / "srv").mkdir()
    server = ServerProcess(tmp_path / "srv" / "data", args=["--trusted-proxy", "127.0.0.1"],
                           env={"ATELIER_WORKSHOPS_PER_HOUR": "2"}).start()  # fmt: skip
    front = TlsFront(tmp_path / "nginx", server.port)
    try:
        wait_until(lambda: front.curl("/healthz").stdout.startswith("HTTP/1.1 200"), 20, "nginx")
        json_post = ["-X", "POST", "-H", "content-type: application/json", "-d", "{}"]
        codes, bodies = [], []
        for i in range(3):
            done = front.curl("/api/workshops", *json_post, "-H", f"X-Forwarded-For: 203.0.113.{i}",
                              "-H", "X-Forwarded-Proto: http")  # fmt: skip
            head, _, body = done.stdout.partition("\n\n")  # curl -i, newlines translated
            assert head, done.stdout + done.stderr
            codes.append(int(head.split()[1]))
            bodies.append(body)
            assert "strict-transport-security: max-age=63072000" in head.lower()
        assert codes == [201, 201, 429]  # one real client, whatever it claims
        link = orjson.loads(bodies[0])["links"]["participant"]
        assert link.startswith(f"https://{TlsFront.NAME}:{front.https}/w/")
        assert front.curl("/metrics").stdout.startswith("HTTP/1.1 404")
        refused = front.curl("/healthz", name="evil.example")
        assert refused.returncode != 0 and not refused.stdout  # no handshake, no answer
        plain = subprocess.run(
            ["curl", "-sS", "-i", "-H", "Host: evil.example",
             f"http://127.0.0.1:{front.http}/w/abc"], capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert plain.stdout.startswith("HTTP/1.1 301")
        assert f"location: https://{TlsFront.NAME}/w/abc" in plain.stdout.lower()
    finally:
        front.stop()
        server.stop()
