"""Trust on a live server: links that can be replaced, data that can be erased or moved,
limits that hold, and a slow or flooding client that never slows the others."""

import asyncio
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets
from atelier.backends.base import WorkshopMeta
from atelier.backends.sqlite import SqliteStore
from atelier.capabilities import ROLES, hash_secret, new_secret
from atelier.retention import DAY_MS, stale_workshops

from .support import ROOT, Client, ServerProcess, wait_until
from .test_room_live import client, server_state


def bearer(workshop: dict[str, Any], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {workshop['secrets'][role]}"}


def rotate(server: ServerProcess, workshop: dict[str, Any], target: str, as_role: str) -> Any:
    return httpx.post(f"{server.base}/api/workshops/{workshop['id']}/links/{target}/rotate",
                      headers=bearer(workshop, as_role), timeout=5)  # fmt: skip


async def test_a_rotated_link_stops_working_at_once(server: ServerProcess) -> None:
    """Replacing the participant link closes its sockets and refuses the old secret."""
    workshop = server.create_workshop()
    old = client(server, workshop)
    await old.connect()
    facilitator = client(server, workshop, role="facilitator")
    await facilitator.connect()
    response = rotate(server, workshop, "participant", "facilitator")
    assert response.status_code == 200
    new_secret_ = response.json()["link"].split("#k=")[1]
    await asyncio.wait_for(old._reader, 10)
    assert old.frames[-1]["code"] == "link_revoked" and old.closed.rcvd.code == 1008
    assert facilitator.closed is None  # other roles keep their sockets
    again = client(server, workshop)
    with pytest.raises(ConnectionError):
        await again.connect()
    assert again.frames[-1]["code"] == "bad_link"
    fresh = Client(server.ws_base, workshop["id"], new_secret_)
    await fresh.connect()
    assert (await fresh.op({"kind": "note.add", "id": "n", "text": "ok"}))["type"] == "ack"
    await fresh.close()
    await facilitator.close()


@pytest.mark.parametrize("role", ["participant", "observer"])
async def test_only_the_facilitator_replaces_links_or_deletes(
    server: ServerProcess, role: str
) -> None:
    """Participants and observers get 403 and change nothing."""
    workshop = server.create_workshop()
    for target in ROLES:
        assert rotate(server, workshop, target, role).status_code == 403
    url = f"{server.base}/api/workshops/{workshop['id']}"
    assert httpx.delete(url, headers=bearer(workshop, role), timeout=5).status_code == 403
    for r in ROLES:  # every original link still opens the workshop
        assert httpx.get(url, headers=bearer(workshop, r), timeout=5).status_code == 200


async def test_deleting_a_workshop_erases_it(server: ServerProcess) -> None:
    """A deleted workshop closes its sockets and leaves nothing behind in the database."""
    workshop = server.create_workshop()
    c = client(server, workshop)
    await c.connect()
    await c.op({"kind": "note.add", "id": "n", "text": "à effacer"})
    url = f"{server.base}/api/workshops/{workshop['id']}"
    assert httpx.delete(url, headers=bearer(workshop, "facilitator"), timeout=5).status_code == 204
    await asyncio.wait_for(c._reader, 10)
    assert c.frames[-1]["code"] == "workshop_deleted" and c.closed.rcvd.code == 1008
    assert httpx.get(url, headers=bearer(workshop, "facilitator"), timeout=5).status_code == 404
    db = server.data_dir / "atelier.sqlite3"
    wid = workshop["id"]
    out = subprocess.run(  # the server holds the file open; read it as another process would
        [sys.executable, "-c", "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); print(sum("
         "d.execute(f'SELECT COUNT(*) FROM {t} WHERE {k}=?', (sys.argv[2],)).fetchone()[0] for "
         "t, k in [('ops','workshop'),('checkpoints','workshop'),('snapshots','workshop'),"
         "('workshops','id')]))", str(db), wid],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "0"


def atelier(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "atelier", *args], cwd=ROOT,
                          capture_output=True, timeout=60, check=False)  # fmt: skip


async def test_export_delete_import_gives_back_the_same_workshop(server: ServerProcess) -> None:
    """export, delete, import: same board, snapshots, record and links; same JSON bytes."""
    await _export_delete_import(server, ["--data", str(server.data_dir)])


@pytest.mark.redis
async def test_export_delete_import_on_redis(tmp_path: Path, redis_server: Any) -> None:
    """The same round trip through the Redis backend."""
    server = ServerProcess(tmp_path / "data", redis_url=redis_server.url).start()
    try:
        await _export_delete_import(server, ["--redis", redis_server.url])
    finally:
        server.stop()


async def _export_delete_import(server: ServerProcess, backend: list[str]) -> None:
    workshop = server.create_workshop()
    facilitator = client(server, workshop, role="facilitator")
    await facilitator.connect()
    for op in [
        {"kind": "column.add", "id": "c1", "title": "Coopérer"},
        {"kind": "note.add", "id": "n1", "text": "Peu de lieux de rencontre", "column": "c1"},
        {"kind": "snapshot.take", "label": "avant le débat"},
        {"kind": "note.add", "id": "n2", "text": "Commerces fermés"},
        {"kind": "note.delete", "id": "n2"},
        {"kind": "phase.next"},
        {"kind": "column.state", "id": "c1", "statement": "Faire se rencontrer les acteurs"},
        {"kind": "freeze"},
    ]:
        assert (await facilitator.op(op))["type"] == "ack", op
    await facilitator.close()
    first = atelier("export", workshop["id"], *backend)
    assert first.returncode == 0, first.stderr
    document = orjson.loads(first.stdout)
    assert document["seq"] == 8 and document["board"]["frozen"] is not None
    assert len(document["snapshots"]) == 3  # two snapshots and the official record
    assert [body["id"] for body in document["snapshots"]][-1] == "record"
    url = f"{server.base}/api/workshops/{workshop['id']}"
    before = server_state(server, workshop)
    assert httpx.delete(url, headers=bearer(workshop, "facilitator"), timeout=5).status_code == 204
    assert atelier("export", workshop["id"], *backend).returncode != 0
    export_file = server.data_dir.parent / "export.json"
    export_file.write_bytes(first.stdout)
    restored = atelier("import", str(export_file), *backend)
    assert restored.returncode == 0, restored.stderr
    assert atelier("import", str(export_file), *backend).returncode != 0  # id taken
    second = atelier("export", workshop["id"], *backend)
    assert second.stdout == first.stdout
    assert server_state(server, workshop) == before  # the old links open it again
    c = client(server, workshop)
    await c.connect()
    late = await c.op({"kind": "note.add", "id": "n3", "text": "après"})
    assert late["code"] == "frozen" and late["seq"] == 9  # still frozen; the log goes on
    await c.close()


async def test_retention_deletes_untouched_workshops(tmp_path: Path) -> None:
    """A server with a retention of N days deletes what nobody touched for longer."""
    backend = SqliteStore(tmp_path / "data")
    await backend.start()
    now = int(time.time() * 1000)
    secrets_ = {role: new_secret() for role in ROLES}
    for wid, age_days in (("old", 40), ("recent", 2)):
        await backend.create_workshop(WorkshopMeta(
            id=wid, title=wid, territory="", created_at=now - age_days * DAY_MS,
            token_hashes={r: hash_secret(s) for r, s in secrets_.items()},
        ))  # fmt: skip
    assert await stale_workshops(backend, 30, now) == ["old"]
    await backend.close()
    server = ServerProcess(tmp_path / "data", args=["--retention-days", "30"]).start()
    try:
        headers = {"Authorization": f"Bearer {secrets_['observer']}"}

        def status(wid: str) -> int:
            return httpx.get(f"{server.base}/api/workshops/{wid}", headers=headers).status_code

        wait_until(lambda: status("old") == 404, 10, "the purge of the old workshop")
        assert status("recent") == 200
    finally:
        server.stop()


def test_http_responses_carry_security_headers(server: ServerProcess) -> None:
    """Every page and API answer has the CSP and friends; no listing, no traceback."""
    for path in ("/", "/api/workshops/nope", "/style.css", "/web/", "/nope/"):
        response = httpx.get(f"{server.base}{path}", timeout=5)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "Traceback" not in response.text and "Index of" not in response.text
    bad = httpx.post(
        f"{server.base}/api/workshops",
        content=b"\xff\xfe{",
        headers={"content-type": "application/json"},
        timeout=5,
    )
    assert bad.status_code == 400 and "Traceback" not in bad.text


def test_workshop_creation_is_rate_limited_per_address(tmp_path: Path) -> None:
    """Past the hourly allowance, creating a workshop answers 429."""
    server = ServerProcess(tmp_path / "data", env={"ATELIER_WORKSHOPS_PER_HOUR": "3"}).start()
    try:
        codes = [httpx.post(f"{server.base}/api/workshops", json={}).status_code
                 for _ in range(5)]  # fmt: skip
        assert codes == [201, 201, 201, 429, 429]
    finally:
        server.stop()


async def test_connections_per_address_are_capped(tmp_path: Path) -> None:
    """Past the cap, a new socket from the same address is told why and closed."""
    server = ServerProcess(tmp_path / "data",
                           env={"ATELIER_MAX_CONNECTIONS_PER_ADDRESS": "3"}).start()  # fmt: skip
    try:
        workshop = server.create_workshop()
        held = [client(server, workshop) for _ in range(3)]
        for c in held:
            await c.connect()
        extra = await websockets.connect(f"{server.ws_base}/ws/{workshop['id']}")
        refusal = orjson.loads(await asyncio.wait_for(extra.recv(), 5))
        assert refusal["code"] == "too_many_connections"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(extra.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
        await held[0].close()
        again = client(server, workshop)
        await again.connect()  # a freed slot can be used again
        for c in [*held[1:], again]:
            await c.close()
    finally:
        server.stop()


async def test_a_flooding_socket_is_throttled_without_slowing_others(tmp_path: Path) -> None:
    """One socket sending ops as fast as it can is held to its rate; others are still
    served (how fast they are served under abuse is measured in bench/, not here)."""
    env = {"ATELIER_OPS_PER_SECOND": "20", "ATELIER_OPS_BURST": "40"}
    server = ServerProcess(tmp_path / "data", env=env).start()
    try:
        workshop = server.create_workshop()
        # no schema checks on the flooder: they would cost this test process more CPU
        # than the flood costs the server
        flooder, polite = client(server, workshop, validate=False), client(server, workshop)
        await flooder.connect()
        await polite.connect()

        async def flood() -> None:
            for n in range(2000):
                await flooder.send_op({"kind": "note.add", "id": f"f{n}", "text": "spam"})
                await asyncio.sleep(0)  # share this test's own event loop with the polite one

        flooding = asyncio.create_task(flood())
        started = time.monotonic()
        latencies = []
        while time.monotonic() - started < 3:
            sent = time.monotonic()
            answer = await polite.op({"kind": "note.add", "id": f"p{len(latencies)}", "text": "ok"})
            assert answer["type"] == "ack"
            latencies.append(time.monotonic() - sent)
            await asyncio.sleep(0.1)  # polite: 10 ops a second, under its own rate
        elapsed = time.monotonic() - started
        answered = len(flooder.acks)
        flooding.cancel()
        median, worst = statistics.median(latencies) * 1000, max(latencies) * 1000
        print(f"flooder: {answered} ops answered in {elapsed:.1f}s; polite: {len(latencies)} "
              f"ops, ack median {median:.1f} ms, max {worst:.1f} ms")  # fmt: skip
        assert 40 <= answered <= 40 + 20 * elapsed + 5  # the burst, then the rate
        assert len(latencies) >= 5  # the polite client was answered all along
        await polite.close()
        flooder.ws.transport.abort()  # its backlog would take the server minutes to drain
        await flooder._reader
    finally:
        server.stop()


async def _fan_out_latencies(
    prefix: str, receivers: list[Client], writer: Client, ops: int
) -> list[float]:
    """Send ``ops`` notes at ~200/s; return every receiver's delay from send to event."""
    sent: dict[str, float] = {}
    got: list[float] = []
    seen = {id(r): len(r.frames) for r in receivers}
    for n in range(ops):
        note = f"{prefix}{n}"
        sent[note] = time.monotonic()
        await writer.send_op({"kind": "note.add", "id": note, "text": "x" * 15_000})
        await asyncio.sleep(0.005)
    last = f"{prefix}{ops - 1}"
    for r in receivers:
        await r.wait_for(lambda r=r: last in r.board["notes"], 30, "the last event")
    for r in receivers:
        for frame, at in zip(r.frames[seen[id(r)] :], r.arrivals[seen[id(r)] :], strict=True):
            if frame["type"] == "event" and frame["op"]["id"].startswith(prefix):
                got.append(at - sent[frame["op"]["id"]])
    return got


async def test_a_client_that_stops_reading_is_cut_off_and_slows_nobody(tmp_path: Path) -> None:
    """A socket that stops reading in a busy room is closed; every other socket still gets
    every event (their latency with and without it is printed; bench/ measures it)."""
    env = {
        "ATELIER_SEND_QUEUE": "64",
        "ATELIER_OPS_PER_SECOND": "1000",
        "ATELIER_OPS_BURST": "1000",
        # big notes, so that the kernel's socket buffers (megabytes on loopback) fill quickly
        "ATELIER_MAX_NOTE_TEXT": "16000",
    }
    server = ServerProcess(tmp_path / "data", env=env).start()
    try:
        workshop = server.create_workshop()
        secret = workshop["secrets"]["participant"]
        writer = Client(server.ws_base, workshop["id"], secret, validate=False)
        receivers = [Client(server.ws_base, workshop["id"], secret, validate=False,
                            record_arrivals=True) for _ in range(8)]  # fmt: skip
        for c in [writer, *receivers]:
            await c.connect()
        before = await _fan_out_latencies("a", receivers, writer, 400)
        # the stuck client: a tiny receive buffer and a library queue of 1, never read
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", server.port))
        stuck = await websockets.connect(
            f"{server.ws_base}/ws/{workshop['id']}", sock=raw, max_size=None, max_queue=1
        )
        await stuck.send(orjson.dumps({"type": "join", "v": 1, "token": secret,
                                       "client": "stuck", "name": "Lent"}).decode())  # fmt: skip
        # it reads its welcome (the whole board, one frame), then nothing: ~4 MB more fill
        # the kernel's buffers on loopback, then its queue of 64 frames, then it is cut
        with_stuck = await _fan_out_latencies("b", receivers, writer, 400)
        wait_until(lambda: "too slow" in server.log(), 10, "the slow socket to be cut off")
        # the same load again without it: "without" is both runs, so drift cancels out
        after = await _fan_out_latencies("c", receivers, writer, 400)
        baseline = before + after
        base_p50, stuck_p50 = statistics.median(baseline), statistics.median(with_stuck)
        base_p95 = statistics.quantiles(baseline, n=20)[-1]
        stuck_p95 = statistics.quantiles(with_stuck, n=20)[-1]
        print(f"fan-out p50 {base_p50 * 1000:.2f} ms without / {stuck_p50 * 1000:.2f} ms with "
              f"the stuck client; p95 {base_p95 * 1000:.2f} / "
              f"{stuck_p95 * 1000:.2f} ms")  # fmt: skip
        assert len(with_stuck) == len(before) == len(after) == 400 * len(receivers)
        stuck.transport.abort()  # it never read its close frame: drop it
        raw.close()
        for c in [writer, *receivers]:
            await c.close()
    finally:
        server.stop()


@pytest.mark.redis
async def test_a_rotated_link_stops_working_on_every_process(
    tmp_path: Path, redis_server: Any
) -> None:
    """Two processes on one Redis: rotating on one closes old-link sockets on the other."""
    one = ServerProcess(tmp_path / "one", redis_url=redis_server.url).start()
    two = ServerProcess(tmp_path / "two", redis_url=redis_server.url).start()
    try:
        workshop = one.create_workshop()
        on_two = client(two, workshop)
        await on_two.connect()
        response = rotate(one, workshop, "participant", "facilitator")
        assert response.status_code == 200
        await asyncio.wait_for(on_two._reader, 10)
        assert on_two.frames[-1]["code"] == "link_revoked" and on_two.closed.rcvd.code == 1008
        for server in (one, two):
            stale = client(server, workshop)
            with pytest.raises(ConnectionError):
                await stale.connect()
            assert stale.frames[-1]["code"] == "bad_link"
        fresh = Client(two.ws_base, workshop["id"], response.json()["link"].split("#k=")[1])
        await fresh.connect()
        await fresh.close()
    finally:
        one.stop()
        two.stop()


async def test_link_secrets_never_reach_the_log(server: ServerProcess) -> None:
    """Joining, reading, rotating and failing: no secret appears in the server's log."""
    workshop = server.create_workshop()
    c = client(server, workshop, role="facilitator")
    await c.connect()
    await c.op({"kind": "note.add", "id": "n", "text": "x"})
    server_state(server, workshop)
    rotated = rotate(server, workshop, "observer", "facilitator").json()["link"]
    wrong = Client(server.ws_base, workshop["id"], "guess-" + workshop["secrets"]["participant"])
    with pytest.raises(ConnectionError):
        await wrong.connect()
    await c.close()
    log = server.log()
    assert "WebSocket /ws/" in log  # the log does record the requests
    for secret in [*workshop["secrets"].values(), rotated.split("#k=")[1]]:
        assert secret not in log


async def test_board_limits_are_configurable(tmp_path: Path) -> None:
    """ATELIER_MAX_NOTES and ATELIER_MAX_COLUMNS cap a board, with a clear reason."""
    env = {"ATELIER_MAX_NOTES": "3", "ATELIER_MAX_COLUMNS": "2"}
    server = ServerProcess(tmp_path / "data", env=env).start()
    try:
        workshop = server.create_workshop(shaping=True)
        c = client(server, workshop)
        await c.connect()
        answers = [await c.op({"kind": "note.add", "id": f"n{n}", "text": "x"}) for n in range(4)]
        assert [a["type"] for a in answers] == ["ack", "ack", "ack", "reject"]
        assert answers[-1]["code"] == "too_many_notes" and "3 notes" in answers[-1]["message"]
        answers = [
            await c.op({"kind": "column.add", "id": f"c{n}", "title": "O"}) for n in range(3)
        ]
        assert answers[-1]["code"] == "too_many_columns"
        assert len(server_state(server, workshop)["notes"]) == 3
        await c.close()
    finally:
        server.stop()


async def test_connections_per_room_are_capped_and_zero_means_no_limit(tmp_path: Path) -> None:
    """Past the room's ceiling a join is told the room is full; 0 lifts the ceiling."""
    for ceiling, expected in (("2", "room_full"), ("0", None)):
        env = {"ATELIER_MAX_CONNECTIONS_PER_ROOM": ceiling}
        server = ServerProcess(tmp_path / f"data{ceiling}", env=env).start()
        try:
            workshop = server.create_workshop()
            held = [client(server, workshop) for _ in range(2)]
            for c in held:
                await c.connect()
            third = client(server, workshop)
            if expected is None:
                await third.connect()
                held.append(third)
            else:
                with pytest.raises(ConnectionError):
                    await third.connect()
                assert third.frames[-1]["code"] == expected and third.closed.rcvd.code == 1013
            for c in held:
                await c.close()
        finally:
            server.stop()


async def _erase_ana(server: ServerProcess) -> dict[str, Any]:
    """Ana writes, a snapshot is taken, then the facilitator erases her pseudonym."""
    workshop = server.create_workshop()
    ana = client(server, workshop, name="Ana")
    facilitator = client(server, workshop, role="facilitator", name="Fanny")
    await ana.connect()
    await facilitator.connect()
    assert (await ana.op({"kind": "note.add", "id": "a1", "text": "Peu de bus"}))["type"] == "ack"
    assert (await facilitator.op({"kind": "snapshot.take", "label": "avant"}))["type"] == "ack"
    erase = await facilitator.op({"kind": "participant.erase", "name": "Ana"})
    assert erase["type"] == "ack"
    await ana.close()
    await facilitator.close()
    return workshop


async def test_an_erased_pseudonym_leaves_the_database(server: ServerProcess) -> None:
    """After the erasure, no stored log record, checkpoint or snapshot holds the name."""
    workshop = await _erase_ana(server)
    export = atelier("export", workshop["id"], "--data", str(server.data_dir))
    assert export.returncode == 0 and b'"Ana"' not in export.stdout
    out = subprocess.run(
        [sys.executable, "-c", "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); print(sum("
         "d.execute(f'SELECT COUNT(*) FROM {t} WHERE workshop=? AND CAST({c} AS TEXT) LIKE ?',"
         " (sys.argv[2], '%\"Ana\"%')).fetchone()[0] for t, c in [('ops','record'),"
         "('checkpoints','state'),('snapshots','body')]))",
         str(server.data_dir / "atelier.sqlite3"), workshop["id"]],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "0"
    assert [n["author"] for n in server_state(server, workshop)["notes"]] == [
        "Participant·e anonyme"
    ]


@pytest.mark.redis
async def test_an_erased_pseudonym_leaves_redis(tmp_path: Path, redis_server: Any) -> None:
    """The same on Redis: the log stream is rebuilt, snapshots rewritten."""
    import redis

    server = ServerProcess(tmp_path / "data", redis_url=redis_server.url).start()
    try:
        workshop = await _erase_ana(server)
        r = redis.Redis.from_url(redis_server.url)
        keys = r.keys(f"atelier:{{{workshop['id']}}}:*")
        stored = b""
        for key in keys:
            kind = r.type(key)
            if kind == b"stream":
                stored += b"".join(f[b"c"] for _, f in r.xrange(key))
            elif kind == b"string":
                stored += r.get(key) or b""
            elif kind == b"hash":
                stored += b"".join(r.hvals(key))
        r.close()
        assert b'"seq"' in stored and b'"Ana"' not in stored
    finally:
        server.stop()


def test_oversized_request_bodies_are_refused(server: ServerProcess) -> None:
    """A body past its limit gets 413 and creates nothing."""
    big = b'{"title": "' + b"x" * 20_000 + b'"}'
    for path in ("/api/workshops", "/api/qr"):
        response = httpx.post(
            f"{server.base}{path}",
            content=big,
            headers={"content-type": "application/json"},
            timeout=5,
        )
        assert response.status_code == 413 and response.json()["error"] == "too_large"
    assert httpx.post(f"{server.base}/api/workshops", json={}, timeout=5).status_code == 201
