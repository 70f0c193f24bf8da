"""The audit's HTTP findings, each against a real server process: forged cross-origin
writes, reopen and QR rate limits, forwarded headers, links from the Host header, the
half-open connections, public metrics, 500s on a storage outage; and the logs."""

import re
import socket
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from .support import ROOT, Client, RedisProcess, ServerProcess, free_port, wait_until

JSON = {"content-type": "application/json"}


def start(tmp_path: Path, *args: str, **env: str) -> ServerProcess:
    """A server with these options and ``ATELIER_*`` variables."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    return ServerProcess(tmp_path / "data", args=list(args), env=env).start()


@pytest.fixture
def limited(tmp_path: Path) -> Any:
    """A server allowing 2 new workshops and 3 QR codes per address."""
    proc = start(tmp_path, ATELIER_WORKSHOPS_PER_HOUR="2", ATELIER_QR_PER_MINUTE="3")
    yield proc
    proc.stop()


def test_a_cross_origin_simple_post_creates_nothing(server: ServerProcess) -> None:
    """A foreign page's text/plain or form POST (no preflight) is refused; so is any
    write whose Origin is not ours; the same-origin JSON call still works."""
    body = b'{"title": "Forged"}'
    forged = [{"content-type": "text/plain"}, {"content-type": "application/x-www-form-urlencoded"},
              {}]  # fmt: skip
    for headers in forged:
        refused = httpx.post(f"{server.base}/api/workshops", content=body, headers=headers)
        assert refused.status_code == 415, headers
        assert refused.json()["error"] == "json_required"
    for kind in ("text/plain", "application/json"):
        headers = {"content-type": kind, "origin": "https://evil.example"}
        foreign = httpx.post(f"{server.base}/api/workshops", content=body, headers=headers)
        assert foreign.status_code == 403 and foreign.json()["error"] == "bad_origin"
    for path in ("/api/qr", "/api/workshops/import"):
        assert httpx.post(f"{server.base}{path}", content=b"{}").status_code == 415
    ours = httpx.post(f"{server.base}/api/workshops", content=body,
                      headers={**JSON, "origin": server.base})  # fmt: skip
    assert ours.status_code == 201


async def test_reopening_counts_as_creating(limited: ServerProcess) -> None:
    """Reopen, like import, draws on the per-address budget of new workshops."""
    workshop = limited.create_workshop()  # 1 of 2
    secrets_ = workshop["secrets"]
    fac = Client(limited.ws_base, workshop["id"], secrets_["facilitator"], name="Anim")
    await fac.connect()
    try:
        assert (await fac.op({"kind": "freeze"}))["type"] == "ack"
    finally:
        await fac.close()
    reopen = f"{limited.base}/api/workshops/{workshop['id']}/reopen"
    auth = {"authorization": f"Bearer {secrets_['facilitator']}"}
    assert httpx.post(reopen, headers=auth).status_code == 201  # 2 of 2
    again = httpx.post(reopen, headers=auth)
    assert again.status_code == 429 and again.json()["error"] == "rate_limited"
    assert again.headers["retry-after"]
    assert httpx.post(f"{limited.base}/api/workshops", json={}).status_code == 429
    assert httpx.post(f"{limited.base}/api/workshops/import", json={}).status_code == 429


def test_qr_codes_are_rate_limited_per_address(limited: ServerProcess) -> None:
    """/api/qr needs no link, so it has a budget per address (3 a minute here)."""
    link = {"link": f"{limited.base}/w/abc#k=" + "x" * 32}
    answers = [httpx.post(f"{limited.base}/api/qr", json=link, timeout=10) for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert answers[3].json()["error"] == "rate_limited" and answers[3].headers["retry-after"]
    samples = metrics(limited)
    assert samples['atelier_rate_limited_total{limit="qr"}'] == 2
    assert samples['atelier_http_requests_total{method="POST",route="/api/qr",status="429"}'] == 2


def test_forwarded_headers_are_believed_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    """By default a client cannot pick its address with X-Forwarded-For (it used to be
    believed from loopback); from a --trusted-proxy it is the client's address."""
    plain = start(tmp_path / "a", ATELIER_WORKSHOPS_PER_HOUR="2")
    try:
        codes = [httpx.post(f"{plain.base}/api/workshops", json={},
                            headers={"x-forwarded-for": f"203.0.113.{i}"}).status_code
                 for i in range(4)]  # fmt: skip
        assert codes == [201, 201, 429, 429]
        proto = httpx.post(f"{plain.base}/api/workshops", json={},
                           headers={"x-forwarded-proto": "https"})  # fmt: skip
        assert proto.status_code == 429  # still the same address
    finally:
        plain.stop()
    proxied = start(tmp_path / "b", "--trusted-proxy", "127.0.0.1",
                    ATELIER_WORKSHOPS_PER_HOUR="2")  # fmt: skip
    try:
        codes = [httpx.post(f"{proxied.base}/api/workshops", json={},
                            headers={"x-forwarded-for": f"203.0.113.{i}",
                                     "x-forwarded-proto": "https"}).status_code
                 for i in range(4)]  # fmt: skip
        assert codes == [201] * 4  # four clients behind the proxy
        behind = httpx.post(f"{proxied.base}/api/workshops", json={},
                            headers={"x-forwarded-for": "203.0.113.9",
                                     "x-forwarded-proto": "https"}).json()  # fmt: skip
        assert behind["links"]["facilitator"].startswith("https://")  # the proxy's scheme
    finally:
        proxied.stop()


def test_links_come_from_the_public_url_never_from_the_host_header(tmp_path: Path) -> None:
    """With --public-url, a forged Host changes no link (without it, links follow Host)."""
    proc = start(tmp_path, "--public-url", "https://atelier.example.fr/")
    try:
        made = httpx.post(f"{proc.base}/api/workshops", json={},
                          headers={"host": "evil.example"}).json()  # fmt: skip
        for link in made["links"].values():
            assert link.startswith(f"https://atelier.example.fr/w/{made['id']}#k=")
        secret = made["links"]["facilitator"].split("#k=")[1]
        rotated = httpx.post(
            f"{proc.base}/api/workshops/{made['id']}/links/observer/rotate",
            headers={"host": "evil.example", "authorization": f"Bearer {secret}"},
        )
        assert rotated.json()["link"].startswith("https://atelier.example.fr/w/")
        # the public URL's origin is the one browsers may write from
        ok = httpx.post(f"{proc.base}/api/workshops", json={},
                        headers={"origin": "https://atelier.example.fr"})  # fmt: skip
        assert ok.status_code == 201
    finally:
        proc.stop()
    bad = ServerProcess(tmp_path / "bad", args=["--public-url", "atelier.example.fr"])
    with pytest.raises(RuntimeError, match="public-url must be an http"):
        bad.start()


def test_half_open_and_oversized_heads_are_cut_and_connections_capped(tmp_path: Path) -> None:
    """A connection that never finishes its request head is closed after the header
    timeout (uvicorn kept it for ever); a 100 kB head gets 431; past the connection
    cap, 503."""
    proc = start(tmp_path, ATELIER_HEADER_TIMEOUT="1", ATELIER_MAX_CONNECTIONS="6")
    try:
        slow = socket.create_connection(("127.0.0.1", proc.port), timeout=10)
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        assert slow.recv(100) == b""  # closed by the server, well before 10 s
        slow.close()
        silent = socket.create_connection(("127.0.0.1", proc.port), timeout=10)
        assert silent.recv(100) == b""
        silent.close()
        big = socket.create_connection(("127.0.0.1", proc.port), timeout=10)
        big.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 70_000)
        assert big.recv(100).startswith(b"HTTP/1.1 431")
        big.close()
    finally:
        proc.stop()
    capped = start(tmp_path / "capped", ATELIER_MAX_CONNECTIONS="6")
    try:
        idle = [socket.create_connection(("127.0.0.1", capped.port)) for _ in range(6)]
        try:
            over = httpx.get(f"{capped.base}/healthz", timeout=5)
            assert over.status_code == 503
        finally:
            for s in idle:
                s.close()
        wait_until(lambda: httpx.get(f"{capped.base}/healthz").status_code == 200, 10, "room")
    finally:
        capped.stop()


def test_metrics_need_a_token_or_a_direct_local_request(tmp_path: Path) -> None:
    """/metrics was public; now: the token's bearer, the metrics address, or a loopback
    request that no proxy relayed. Scrapes and probes are logged at DEBUG only."""
    proc = start(tmp_path / "a", ATELIER_METRICS_TOKEN="s3cret-scrape")
    try:
        assert httpx.get(f"{proc.base}/metrics").status_code == 403
        assert httpx.get(f"{proc.base}/metrics", headers={"authorization": "Bearer nope"}
                         ).status_code == 403  # fmt: skip
        good = httpx.get(f"{proc.base}/metrics", headers={"authorization": "Bearer s3cret-scrape"})
        assert good.status_code == 200 and "atelier_build_info{" in good.text
    finally:
        proc.stop()
    port = free_port()
    proc = start(tmp_path / "b", "--metrics-address", f"127.0.0.1:{port}")
    try:
        assert httpx.get(f"{proc.base}/metrics").status_code == 403
        separate = httpx.get(f"http://127.0.0.1:{port}/metrics")
        assert separate.status_code == 200 and "process_resident_memory_bytes" in separate.text
    finally:
        proc.stop()
    proc = start(tmp_path / "c")
    try:
        assert httpx.get(f"{proc.base}/metrics").status_code == 200
        relayed = httpx.get(f"{proc.base}/metrics", headers={"x-forwarded-for": "203.0.113.1"})
        assert relayed.status_code == 403
        samples = metrics(proc)
        assert samples["process_resident_memory_bytes"] > 0
        build = [k for k in samples if k.startswith("atelier_build_info{")]
        assert build and 'version="' in build[0] and samples[build[0]] == 1
        assert "/metrics" not in proc.log() and "/healthz" not in proc.log()
    finally:
        proc.stop()


@pytest.mark.redis
def test_a_redis_outage_answers_503_with_retry_after_on_every_route(
    tmp_path: Path, redis_server: RedisProcess
) -> None:
    """Redis stopped: creating a workshop answered 500 with a traceback; now every route
    that needs storage answers 503 with Retry-After and a JSON body, /readyz says so and
    /healthz still answers; once Redis is back, all works again."""
    proc = ServerProcess(tmp_path / "data", redis_url=redis_server.url).start()
    try:
        made = proc.create_workshop()
        auth = {"authorization": f"Bearer {made['secrets']['facilitator']}"}
        redis_server.stop()
        calls = [
            ("POST", "/api/workshops", {"json": {}}),
            ("GET", f"/api/workshops/{made['id']}", {"headers": auth}),
            ("POST", f"/api/workshops/{made['id']}/links/observer/rotate", {"headers": auth}),
            ("GET", f"/api/workshops/{made['id']}/snapshots", {"headers": auth}),
            ("GET", f"/api/workshops/{made['id']}/export.json", {"headers": auth}),
            ("DELETE", f"/api/workshops/{made['id']}", {"headers": auth}),
        ]
        for method, path, extra in calls:
            answer = httpx.request(method, f"{proc.base}{path}", timeout=30, **extra)
            assert answer.status_code == 503, (method, path, answer.text)
            assert answer.json()["error"] == "unavailable" and answer.headers["retry-after"]
            assert "Traceback" not in answer.text
        assert httpx.get(f"{proc.base}/readyz").status_code == 503
        assert httpx.get(f"{proc.base}/healthz").status_code == 200
        assert "Traceback" not in proc.log()
        assert metrics(proc)['atelier_http_requests_total{method="POST",route="/api/workshops",'
                             'status="503"}'] == 1  # fmt: skip
        redis_server.start()
        wait_until(lambda: httpx.get(f"{proc.base}/readyz").status_code == 200, 20, "redis")
        assert httpx.post(f"{proc.base}/api/workshops", json={}).status_code == 201
    finally:
        proc.stop()


async def test_json_logs_carry_time_and_request_or_socket_ids_and_no_secret(
    tmp_path: Path,
) -> None:
    """--log-format json: every line is a JSON object with an ISO timestamp; a request's
    line carries the id sent back in X-Request-Id; a socket's lines carry its id; no
    link secret appears anywhere, though every call carried one."""
    proc = start(tmp_path, "--log-format", "json", "--log-level", "debug")
    try:
        made = proc.create_workshop()
        secret = made["secrets"]["facilitator"]
        read = httpx.get(f"{proc.base}/api/workshops/{made['id']}",
                         headers={"authorization": f"Bearer {secret}"})  # fmt: skip
        client = Client(proc.ws_base, made["id"], secret, name="Anim")
        await client.connect()
        assert (await client.op({"kind": "note.add", "id": "n1", "text": "x"}))["type"] == "ack"
        await client.close()
        httpx.get(f"{proc.base}/healthz")
        request_id = read.headers["x-request-id"]

        def lines() -> list[dict[str, Any]]:
            return [orjson.loads(line) for line in proc.log().splitlines() if line.strip()]

        # a line is written after its answer went out: wait for the last two to be there
        wait_until(lambda: any("websocket" in x["msg"] and "ended" in x["msg"] for x in lines())
                   and any(x.get("path") == "/healthz" for x in lines()),
                   10, "the socket's last line and the probe's")  # fmt: skip
        parsed = lines()
        for line in parsed:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["ts"]), line
            assert line["level"] and line["logger"]
        mine = [x for x in parsed if x.get("request_id") == request_id]
        assert (
            mine
            and mine[-1]["status"] == 200
            and mine[-1]["route"] == ("/api/workshops/{workshop_id}")
        )
        sockets = [x for x in parsed if x.get("socket_id") and "websocket" in x["msg"]]
        assert len({x["socket_id"] for x in sockets}) == 1 and len(sockets) >= 2
        health = [x for x in parsed if x.get("path") == "/healthz"]
        assert health and all(x["level"] == "DEBUG" for x in health)
        text = proc.log()
        for value in made["secrets"].values():
            assert value not in text
    finally:
        proc.stop()


def test_text_logs_have_timestamps_and_ids(tmp_path: Path) -> None:
    """The default text format starts each line with a UTC timestamp and names the request."""
    proc = start(tmp_path)
    try:
        answer = httpx.post(f"{proc.base}/api/workshops", json={})
        request_id = answer.headers["x-request-id"]
        wait_until(lambda: f"req={request_id}" in proc.log(), 10, "the access line")
        line = next(x for x in proc.log().splitlines() if f"req={request_id}" in x)
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO atelier\.access ", line)
        assert "POST /api/workshops 201" in line
    finally:
        proc.stop()


def test_a_slow_body_gets_408(tmp_path: Path) -> None:
    """A body that trickles in is cut off after the body timeout."""
    proc = start(tmp_path, ATELIER_BODY_TIMEOUT="1")
    try:
        with socket.create_connection(("127.0.0.1", proc.port), timeout=10) as s:
            s.sendall(b"POST /api/workshops HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      b"application/json\r\nContent-Length: 100\r\n\r\n{")  # fmt: skip
            answer = s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408")
    finally:
        proc.stop()


def metrics(proc: ServerProcess) -> dict[str, float]:
    """The server's metrics, asked from loopback as the operator would."""
    samples = {}
    for line in httpx.get(f"{proc.base}/metrics", timeout=5).text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def test_every_metric_the_dashboard_plots_is_exposed(server: ServerProcess) -> None:
    """deploy/grafana-dashboard.json parses, and each metric its queries name is one the
    server declares (so no panel stays empty for a typo)."""
    dashboard = orjson.loads((ROOT / "deploy" / "grafana-dashboard.json").read_bytes())
    queries = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    named = {m for q in queries for m in re.findall(r"\b((?:atelier|process|python)_\w+)", q)}
    text = httpx.get(f"{server.base}/metrics").text
    declared = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    for name in named:
        base = re.sub(r"_(bucket|total|count|sum|created)$", "", name)
        assert name in declared or base in declared, name
    assert len(dashboard["panels"]) >= 10


def test_privacy_notice_is_served_in_french_and_english(server: ServerProcess) -> None:
    """/privacy.html: the in-app notice, French first, English after, no script."""
    page = httpx.get(f"{server.base}/privacy.html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in page.text and 'lang="en"' in page.text
    assert page.text.index("Vos données") < page.text.index("Your data")
    assert "<script" not in page.text and "style=" not in page.text
    assert "6.1.e" in page.text and "CNIL" in page.text
