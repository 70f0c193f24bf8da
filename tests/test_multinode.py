"""Many processes, one board: real server processes sharing a real redis-server.

Every test ends the same way (:func:`settle`): each client's outbox drained, the log
holding each (client, cop) exactly once and every op any client sent, every ack
carrying the seq the log gave that op, and every client's board, every process's
board and a fresh replay of the log all equal.
"""

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis
from atelier.backends.base import Committed
from atelier.rooms.errors import RoomError
from atelier.rooms.model import Board
from atelier.rooms.reducer import Context, apply

from .resilient import ResilientClient, drive
from .support import Client, RedisProcess, ServerProcess, canonical

pytestmark = pytest.mark.redis

CLIENTS = 30


@pytest.fixture
def cluster(redis_server: RedisProcess, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    """Three Atelier processes on one redis-server."""
    args = ["--log-level", "warning"]
    procs = [ServerProcess(tmp_path / f"data{i}", redis_url=redis_server.url, args=args)
             for i in range(3)]  # fmt: skip
    try:
        for proc in procs:  # started inside the try: one that fails to start is stopped too
            proc.start()
        yield procs
    finally:
        for proc in procs:
            proc.stop()


async def open_clients(
    procs: list[ServerProcess], count: int = CLIENTS
) -> tuple[str, str, list[ResilientClient]]:
    """A new workshop and ``count`` participants spread evenly over the processes."""
    workshop = procs[0].create_workshop("Multi-process", shaping=True)
    secret = workshop["secrets"]["participant"]
    bases = [p.ws_base for p in procs]
    clients = [ResilientClient(bases, workshop["id"], secret, name=f"P{i}", first=i % len(procs))
               for i in range(count)]  # fmt: skip
    await asyncio.gather(*(c.start() for c in clients))
    return workshop["id"], secret, clients


def read_log(redis_url: str, workshop_id: str) -> list[Committed]:
    """The whole log of a room, straight from Redis."""
    with redis.Redis.from_url(redis_url) as raw:
        entries = raw.xrange(f"atelier:{{{workshop_id}}}:log")
    return [Committed.from_bytes(fields[b"c"]) for _, fields in entries]


def replay(log: list[Committed]) -> tuple[dict[str, Any], int]:
    """The board a fresh replica builds from the log, and the seq of its last applied event."""
    board, last_event = Board.new(shaping=True), 0  # as open_clients creates it
    for committed in log:
        rec = committed.record
        try:  # exactly as a room hub applies it
            apply(board, rec.op, Context(rec.author, rec.role, rec.client, rec.at, committed.seq))
            last_event = committed.seq
        except RoomError:
            pass  # a rejected op changes nothing, on every replica alike
        board.seq = committed.seq
    return canonical(board.to_dict()), last_event


async def settle(clients: list[ResilientClient], procs: list[ServerProcess], redis_url: str,
                 workshop_id: str, secret: str) -> dict[str, int]:  # fmt: skip
    """Check that nothing was lost, doubled or left diverging; return a few figures."""
    await asyncio.gather(*(c.drain(120) for c in clients))
    log = read_log(redis_url, workshop_id)
    assert [c.seq for c in log] == list(range(1, len(log) + 1)), "the log has a hole"
    logged = {(c.record.client, c.record.cop): c.seq for c in log}
    assert len(logged) == len(log), "an op was committed twice"
    sent = {(c.client_id, cop) for c in clients for cop in range(1, c.next_cop)}
    assert set(logged) == sent, "an op sent was never committed"
    at = {(c.record.client, c.record.cop): c.record.at for c in log}
    landed_before = 0  # re-sent ops that had been committed already: acked with their seq
    for client in clients:
        assert client.errors == []
        for answer in client.answers:
            assert answer["seq"] == logged[(client.client_id, answer["cop"])]
        for cop, when in client.resent.items():
            landed_before += at[(client.client_id, cop)] < when * 1000
    expected, last_event = replay(log)
    await asyncio.gather(*(c.wait_until(lambda c=c: c.board["seq"] >= last_event, 30)
                           for c in clients))  # fmt: skip
    for client in clients:
        assert canonical(client.board) == expected
    async with httpx.AsyncClient(timeout=10) as http:
        for proc in procs:
            if proc.proc is None:
                continue
            url = f"{proc.base}/api/workshops/{workshop_id}"
            deadline = time.monotonic() + 20
            while True:
                answer = await http.get(url, headers={"authorization": f"Bearer {secret}"})
                state = answer.json()["state"]
                if state["seq"] == len(log) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)  # the process's replica catches up on its own
            assert state["seq"] == len(log)
            assert canonical(state) == expected
    return {"ops": len(log), "resent": sum(len(c.resent) for c in clients),
            "resent_already_committed": landed_before,
            "reconnects": sum(c.connections - 1 for c in clients)}  # fmt: skip


async def close_all(clients: list[ResilientClient]) -> None:
    await asyncio.gather(*(c.stop() for c in clients))


async def test_three_processes_thirty_clients_converge(
    cluster: list[ServerProcess], redis_server: RedisProcess
) -> None:
    """2,000 random ops from 30 clients over 3 processes: all boards equal a replay of the log."""
    workshop_id, secret, clients = await open_clients(cluster)
    started = time.monotonic()
    try:
        await drive(clients, 2000)
        figures = await settle(clients, cluster, redis_server.url, workshop_id, secret)
    finally:
        await close_all(clients)
    assert figures["ops"] == 2000 and figures["reconnects"] == 0
    print(f"2000 ops, 30 clients, 3 processes: {time.monotonic() - started:.1f}s")


async def test_retry_on_another_process_is_acked_with_its_seq(
    cluster: list[ServerProcess], redis_server: RedisProcess
) -> None:
    """An op re-sent through another process after its ack was lost gets the same seq, once."""
    workshop = cluster[0].create_workshop()
    secret = workshop["secrets"]["participant"]
    first = Client(cluster[0].ws_base, workshop["id"], secret, client_id="tab-1")
    await first.connect()
    op = {"kind": "note.add", "id": "n1", "text": "Friches industrielles"}
    acked = await first.op(op)
    await first.close()
    again = Client(cluster[1].ws_base, workshop["id"], secret, client_id="tab-1")
    await again.connect(since=0)
    try:
        again.next_cop = 2  # this tab's next op id; 1 is the one whose ack it lost
        await again.send_op(op, cop=1)
        await again.wait_for(lambda: 1 in again.acks, what="ack of the re-sent op")
        assert again.acks[1] == {"type": "ack", "cop": 1, "seq": acked["seq"]}
        fresh = await again.op({"kind": "note.edit", "id": "n1", "text": "Friches"})
        assert fresh["seq"] == acked["seq"] + 1
    finally:
        await again.close()
    assert len(read_log(redis_server.url, workshop["id"])) == 2


async def test_presence_and_drags_cross_processes(cluster: list[ServerProcess]) -> None:
    """Who is here, and who drags which note, reaches the clients of every process."""
    workshop = cluster[0].create_workshop()
    secret = workshop["secrets"]["participant"]
    ana = Client(cluster[0].ws_base, workshop["id"], secret, name="Ana")
    ben = Client(cluster[1].ws_base, workshop["id"], secret, name="Ben")

    def roster(client: Client) -> set[str]:
        frames = [f for f in client.frames if f["type"] == "presence"]
        return {u["name"] for u in frames[-1]["users"]} if frames else set()

    await ana.connect()
    await ben.connect()
    try:
        # well under the 10 s heartbeat: a process answers a newcomer's roster with its own
        await ana.wait_for(lambda: roster(ana) == {"Ana", "Ben"}, 4, "Ben in Ana's roster")
        await ben.wait_for(lambda: roster(ben) == {"Ana", "Ben"}, 4, "Ana in Ben's roster")
        await ana.op({"kind": "note.add", "id": "n1", "text": "Mobilités douces"})
        await ana.send_raw(orjson.dumps({"type": "drag", "note": "n1"}).decode())
        await ben.wait_for(
            lambda: any(f["type"] == "drag" and f["name"] == "Ana" and f["note"] == "n1"
                        for f in ben.frames),
            what="Ana's drag",
        )  # fmt: skip
        await ben.close()
        await ana.wait_for(lambda: roster(ana) == {"Ana"}, what="Ben gone from Ana's roster")
    finally:
        await ana.close()


async def test_sigkilled_process_loses_nothing(
    cluster: list[ServerProcess], redis_server: RedisProcess
) -> None:
    """A process killed under load: its clients move to the others, re-send, lose nothing."""
    workshop_id, secret, clients = await open_clients(cluster)
    half_way = asyncio.Event()
    try:
        load = asyncio.create_task(drive(clients, 1000, seed=5, sent=half_way, sent_at=300))
        await asyncio.wait_for(half_way.wait(), 60)
        cluster[0].stop(signal.SIGKILL)
        await load
        figures = await settle(clients, cluster, redis_server.url, workshop_id, secret)
    finally:
        await close_all(clients)
    moved = [c for i, c in enumerate(clients) if i % 3 == 0]
    assert all(c.connections >= 2 for c in moved)
    print(f"SIGKILL under load: {figures}")


async def test_redis_restart_loses_no_acknowledged_op(
    cluster: list[ServerProcess], redis_server: RedisProcess
) -> None:
    """Redis killed and restarted (AOF) under load: processes resync, no acked op is lost."""
    workshop_id, secret, clients = await open_clients(cluster)
    half_way = asyncio.Event()
    try:
        load = asyncio.create_task(drive(clients, 1000, seed=7, sent=half_way, sent_at=300))
        await asyncio.wait_for(half_way.wait(), 60)
        acked_before = {(c.client_id, a["cop"]): a["seq"] for c in clients for a in c.answers}
        redis_server.stop(signal.SIGKILL)
        await asyncio.sleep(1.0)  # Redis is away for a while: clients must ride it out
        await asyncio.to_thread(redis_server.start)
        await load
        figures = await settle(clients, cluster, redis_server.url, workshop_id, secret)
        log = read_log(redis_server.url, workshop_id)
        logged = {(c.record.client, c.record.cop): c.seq for c in log}
        assert all(logged[key] == seq for key, seq in acked_before.items())
        with redis.Redis.from_url(redis_server.url) as raw:
            subscribers = {c["name"] for c in raw.client_list(_type="pubsub")}
    finally:
        await close_all(clients)
    # Every process subscribed again to the restarted Redis by itself. Its clients may or
    # may not have seen a failed commit (1013): a short outage is ridden out by retries.
    assert subscribers >= {f"atelier-sub-{p.proc.pid}" for p in cluster if p.proc}
    assert len(acked_before) >= 200
    print(f"Redis restart under load: {figures}, {len(acked_before)} acked before")


async def test_killed_subscription_recovers_missed_ops(
    cluster: list[ServerProcess], redis_server: RedisProcess
) -> None:
    """A process whose pub/sub connection is killed resubscribes and reads what it missed."""
    workshop_id, secret, clients = await open_clients(cluster)
    name = f"atelier-sub-{cluster[1].proc.pid if cluster[1].proc else 0}"
    killed: list[int] = []

    def subscriber(raw: redis.Redis) -> int | None:
        ids = [int(c["id"]) for c in raw.client_list(_type="pubsub") if c["name"] == name]
        return ids[0] if ids else None

    try:
        with redis.Redis.from_url(redis_server.url) as raw:
            for round_ in range(4):  # 4 x 250 ops, the subscriber killed mid-way each time
                mid_way = asyncio.Event()
                ops = drive(clients, 250, seed=11 + round_, first=250 * round_,
                            sent=mid_way, sent_at=100)  # fmt: skip
                load = asyncio.create_task(ops)
                await asyncio.wait_for(mid_way.wait(), 60)
                victim = subscriber(raw)
                assert victim is not None and victim not in killed
                raw.client_kill_filter(_id=victim)
                killed.append(victim)
                await load
                for _ in range(100):  # it comes back by itself, on a new connection
                    if subscriber(raw) not in (None, victim):
                        break
                    await asyncio.sleep(0.05)
                assert subscriber(raw) not in (None, victim)
            # Last, with no traffic after it: ops from the other processes' clients land
            # while this process has no subscription at all (each new one is killed at
            # once). Only the resync on resubscribing can bring them to its clients.
            others = [c for i, c in enumerate(clients) if i % 3 != 1]
            keep_killing = True

            async def kill_every_subscription() -> None:
                while keep_killing:
                    if (victim := subscriber(raw)) is not None:
                        raw.client_kill_filter(_id=victim)
                        killed.append(victim)
                    await asyncio.sleep(0.005)

            kills = len(killed)
            killer = asyncio.create_task(kill_every_subscription())
            for _ in range(200):  # until the process has resubscribed and been cut again
                if len(killed) > kills + 1:
                    break
                await asyncio.sleep(0.01)
            assert len(killed) > kills + 1
            await drive(others, 40, seed=99, first=5000)
            await asyncio.gather(*(c.drain(30) for c in others))
            keep_killing = False
            await killer
        figures = await settle(clients, cluster, redis_server.url, workshop_id, secret)
    finally:
        await close_all(clients)
    assert figures["reconnects"] == 0  # the process's own clients never noticed
    print(f"subscriber killed {len(killed)} times: {figures}")


async def test_sigterm_hands_clients_over_with_1012(
    cluster: list[ServerProcess], redis_server: RedisProcess
) -> None:
    """SIGTERM under load: the process closes its sockets with 1012 and exits within 10 s."""
    workshop_id, secret, clients = await open_clients(cluster)
    half_way = asyncio.Event()
    try:
        load = asyncio.create_task(drive(clients, 1000, seed=13, sent=half_way, sent_at=300))
        await asyncio.wait_for(half_way.wait(), 60)
        started = time.monotonic()
        code = await asyncio.to_thread(cluster[0].stop, signal.SIGTERM, 10)
        took = time.monotonic() - started
        await load
        figures = await settle(clients, cluster, redis_server.url, workshop_id, secret)
    finally:
        await close_all(clients)
    # uvicorn re-raises the SIGTERM it handled once shut down, so the status says SIGTERM
    assert code == -signal.SIGTERM  # it exited by itself (stop() kills it after 10 s)
    moved = [c for i, c in enumerate(clients) if i % 3 == 0]
    assert all(1012 in c.close_codes for c in moved)
    print(f"SIGTERM: exited in {took:.2f}s; {figures}")
