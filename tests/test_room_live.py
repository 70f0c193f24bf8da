"""A live room on one real server process: convergence, durability, catch-up, retries."""

import asyncio
import random
import signal
from pathlib import Path
from typing import Any

import httpx

from .support import Client, ServerProcess, canonical, server_state, wait_until


def client(server: ServerProcess, workshop: dict[str, Any], role: str = "participant",
           **kwargs: Any) -> Client:  # fmt: skip
    return Client(server.ws_base, workshop["id"], workshop["secrets"][role], **kwargs)


def random_op(rng: random.Random, board: dict[str, Any], prefix: str, n: int) -> dict[str, Any]:
    """A plausible op on the board as this client sees it (it may be stale: that is the point)."""
    notes, columns = list(board["notes"]), list(board["columns"])
    col = rng.choice([None, *columns]) if columns else None
    roll = rng.random()
    if roll < 0.08 or not columns:
        return {"kind": "column.add", "id": f"{prefix}c{n}", "title": f"Orientation {n}"}
    if roll < 0.35 or not notes:
        return {"kind": "note.add", "id": f"{prefix}n{n}", "text": f"constat {n}", "column": col,
                "index": rng.randint(0, 5)}  # fmt: skip
    note = rng.choice(notes)
    if roll < 0.65:
        return {"kind": "note.move", "id": note, "column": col, "index": rng.randint(0, 6)}
    if roll < 0.80:
        return {"kind": "note.edit", "id": note, "text": f"{prefix} édité {n}"}
    if roll < 0.88:
        return {"kind": "note.delete", "id": note}
    if roll < 0.94:
        return {"kind": "column.rename", "id": rng.choice(columns), "title": f"Renommée {n}"}
    if roll < 0.97:
        return {"kind": "column.move", "id": rng.choice(columns), "index": rng.randint(0, 3)}
    return {"kind": "column.delete", "id": rng.choice(columns)}


async def run_random_ops(c: Client, count: int, seed: int, prefix: str) -> None:
    """Send ``count`` random ops, a few in flight at a time, and wait for every answer."""
    rng = random.Random(seed)
    cops = []
    for n in range(count):
        cops.append(await c.send_op(random_op(rng, c.board, prefix, n)))
        if n % 4 == 3:
            await c.wait_for(lambda: all(k in c.acks for k in cops), what="acks")
            await asyncio.sleep(rng.random() * 0.002)  # let the other client interleave
    await c.wait_for(lambda: all(k in c.acks for k in cops), what="all acks")


async def test_two_clients_converge_on_the_servers_board(server: ServerProcess) -> None:
    """Two clients, 200 random interleaved ops each: both end with the server's board."""
    workshop = server.create_workshop(shaping=True)
    a, b = client(server, workshop, name="Ana"), client(server, workshop, name="Bruno")
    await a.connect()
    await b.connect()
    await asyncio.gather(run_random_ops(a, 200, 1, "a"), run_random_ops(b, 200, 2, "b"))
    head = max(f["seq"] for c in (a, b) for f in c.acks.values() if "seq" in f)
    assert head == 400  # every op got a seq, applied or refused
    # a refused op sends no event: the boards end at the last op that applied
    applied = max(f["seq"] for c in (a, b) for f in c.acks.values() if f["type"] == "ack")
    for c in (a, b):
        await c.wait_for(lambda c=c: c.board["seq"] == applied, what="the last event")
    state = server_state(server, workshop)
    assert state["seq"] == head
    assert canonical(a.board) == canonical(b.board) == canonical(state)
    assert len(state["notes"]) > 20 and len(state["columns"]) > 1  # the ops did build a board
    await a.close()
    await b.close()


async def test_restart_keeps_every_acknowledged_op(server: ServerProcess) -> None:
    """Killed with SIGKILL and started again on its data: the board is the same, op for op."""
    workshop = server.create_workshop(shaping=True)
    a = client(server, workshop)
    await a.connect()
    await run_random_ops(a, 120, 3, "a")
    before = canonical(a.board)
    await a.close()
    server.stop(signal.SIGKILL)
    server.start()
    assert canonical(server_state(server, workshop)) == before
    b = client(server, workshop)
    welcome = await b.connect()
    assert welcome["seq"] == 120 and canonical(b.board) == before
    ack = await b.op({"kind": "note.add", "id": "after", "text": "après redémarrage"})
    assert ack["type"] == "ack" and ack["seq"] == 121
    await b.close()


async def test_graceful_restart_keeps_the_board(server: ServerProcess) -> None:
    """Stopped with SIGTERM and started again: the board is identical."""
    workshop = server.create_workshop(shaping=True)
    a = client(server, workshop)
    await a.connect()
    await run_random_ops(a, 60, 4, "a")
    before = canonical(a.board)
    await a.close()
    server.stop(signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down cleanly
    assert "Application shutdown complete" in server.log()
    server.start()
    assert canonical(server_state(server, workshop)) == before


async def test_reconnect_receives_exactly_what_it_missed(server: ServerProcess) -> None:
    """A client away while others make 50 ops gets exactly those 50, in order, on return."""
    workshop = server.create_workshop(shaping=True)
    a, b = client(server, workshop, name="Ana"), client(server, workshop, name="Bruno")
    await a.connect()
    await b.connect()
    await run_random_ops(a, 10, 5, "a")
    await b.wait_for(lambda: b.board["seq"] == 10)
    last_seen = b.board["seq"]
    await b.close()
    acks = []
    for n in range(50):
        acks.append(await a.op({"kind": "note.add", "id": f"m{n}", "text": f"pendant {n}"}))
    assert all(x["type"] == "ack" for x in acks)
    back = Client(server.ws_base, workshop["id"], workshop["secrets"]["participant"],
                  client_id=b.client_id)  # fmt: skip
    back.board = b.board
    welcome = await back.connect(since=last_seen)
    assert "state" not in welcome
    assert [e["seq"] for e in welcome["events"]] == list(range(11, 61))
    assert [e["op"]["id"] for e in welcome["events"]] == [f"m{n}" for n in range(50)]
    assert canonical(back.board) == canonical(a.board)
    await a.close()
    await back.close()


async def test_far_behind_or_new_clients_get_the_full_state(server: ServerProcess) -> None:
    """A join without a seq, or with one the server cannot know, gets the whole board."""
    workshop = server.create_workshop(shaping=True)
    a = client(server, workshop)
    await a.connect()
    await a.op({"kind": "note.add", "id": "n1", "text": "x"})
    for since in (None, 10_000):
        b = client(server, workshop)
        welcome = await b.connect(since=since)
        assert "events" not in welcome and welcome["state"]["notes"][0]["id"] == "n1"
        await b.close()
    await a.close()


async def test_retried_op_after_a_dropped_connection_is_applied_once(
    server: ServerProcess,
) -> None:
    """An op re-sent with the same client op id after a drop gets its first seq, once."""
    workshop = server.create_workshop(shaping=True)
    a = client(server, workshop, name="Ana")
    await a.connect()
    op = {"kind": "note.add", "id": "once", "text": "une seule fois"}
    await a.send_op(op, cop=1)
    await a.ws.close()  # dropped before the ack could be read
    await a._reader
    again = Client(server.ws_base, workshop["id"], workshop["secrets"]["participant"],
                   client_id=a.client_id)  # fmt: skip
    await again.connect(since=0)
    first = await asyncio.wait_for(_resend(again, op, 1), 10)
    second = await asyncio.wait_for(_resend(again, op, 1), 10)
    assert first["type"] == second["type"] == "ack"
    assert first["seq"] == second["seq"] == 1
    state = server_state(server, workshop)
    assert state["seq"] == 1 and [n["id"] for n in state["notes"]] == ["once"]
    assert sum(1 for f in again.frames if f["type"] == "event") <= 1
    await again.close()


async def _resend(c: Client, op: dict[str, Any], cop: int) -> dict[str, Any]:
    c.acks.pop(cop, None)
    await c.send_op(op, cop=cop)
    await c.wait_for(lambda: cop in c.acks, what="ack of the retry")
    return c.acks[cop]


async def test_two_rooms_never_see_each_others_ops(server: ServerProcess) -> None:
    """Ops in one workshop never reach a socket of another."""
    one, two = server.create_workshop("Un"), server.create_workshop("Deux")
    a, b = client(server, one), client(server, two)
    await a.connect()
    await b.connect()
    for n in range(20):
        await a.op({"kind": "note.add", "id": f"n{n}", "text": "secret"})
    await b.op({"kind": "note.add", "id": "mine", "text": "à moi"})
    assert [f["op"]["id"] for f in b.frames if f["type"] == "event"] == ["mine"]
    assert [n["id"] for n in server_state(server, two)["notes"]] == ["mine"]
    await a.close()
    await b.close()


async def test_a_refused_op_retried_after_its_room_reloaded_is_refused_again(
    tmp_path: Path,
) -> None:
    """Reject, the room closes (checkpoint), the same client resends the op: it gets the
    same reject with the same seq, never an ack (the outcome survives the reload)."""
    server = ServerProcess(tmp_path / "data", env={"ATELIER_ROOM_IDLE_SECONDS": "0.1"}).start()
    try:
        workshop = server.create_workshop(shaping=True)
        secret = workshop["secrets"]["participant"]
        first = Client(server.ws_base, workshop["id"], secret, client_id="tab-refused")
        await first.connect()
        await first.op({"kind": "note.add", "id": "n1", "text": "constat"})
        refused = await first.op({"kind": "note.move", "id": "nope", "column": None})
        assert refused["type"] == "reject" and refused["code"] == "unknown_note"
        await first.close()
        for restart in (False, True):
            # the room closes once idle (0.1 s), leaving a checkpoint; then, a new process
            await asyncio.to_thread(wait_until, lambda: open_rooms(server) == 0, 10, "room closed")
            if restart:
                server.stop()
                server.start()
            again = Client(server.ws_base, workshop["id"], secret, client_id="tab-refused")
            await again.connect(since=refused["seq"])
            await again.send_op({"kind": "note.move", "id": "nope", "column": None},
                                cop=refused["cop"])  # fmt: skip
            await again.wait_for(lambda a=again: refused["cop"] in a.acks, what="the answer")
            retry = again.acks[refused["cop"]]
            assert (retry["type"], retry["seq"], retry["code"]) == (
                "reject", refused["seq"], "unknown_note"), restart  # fmt: skip
            await again.close()
    finally:
        server.stop()


def open_rooms(server: ServerProcess) -> float:
    """How many rooms the server holds open now, from its /metrics."""
    text = httpx.get(f"{server.base}/metrics", timeout=5).text
    line = next(x for x in text.splitlines() if x.startswith("atelier_rooms "))
    return float(line.split()[1])
