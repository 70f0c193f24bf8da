"""The freeze across processes: 20 participants on 3 processes keep editing while the
facilitator freezes; the log's order alone decides what made it in."""

import asyncio
import itertools
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from atelier.backends.redis_store import RedisStore
from atelier.rooms.errors import RoomError
from atelier.rooms.model import ANONYMOUS, Board, content_hash
from atelier.rooms.reducer import Context, apply

from .flowclient import FlowClient, api, flow_client, state
from .support import RedisProcess, ServerProcess, canonical, wait_until

pytestmark = pytest.mark.redis

PARTICIPANTS = 20


@pytest.fixture
def cluster(redis_server: RedisProcess, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    """Three Atelier processes on one redis-server of this test's own."""
    procs: list[ServerProcess] = []
    try:
        for i in range(3):
            procs.append(
                ServerProcess(
                    tmp_path / f"data{i}",
                    redis_url=redis_server.url,
                    args=["--log-level", "warning"],
                ).start()
            )
        yield procs
    finally:
        for proc in procs:
            proc.stop()


async def keep_editing(c: FlowClient, seed: int, acked: list[int]) -> None:
    """Edit the board, one op in flight, until an op is refused because the board froze."""
    rng = random.Random(seed)
    for n in itertools.count():
        mine = [i for i, note in c.board["notes"].items() if note["author"] == c.name]
        columns = list(c.board["columns"])
        roll = rng.random()
        op: dict[str, Any]
        if roll < 0.5 or not mine:
            op = {"kind": "note.add", "id": f"{c.name}-{n}", "text": f"constat {n}",
                  "column": rng.choice([None, *columns])}  # fmt: skip
        elif roll < 0.8:
            op = {"kind": "note.move", "id": rng.choice(mine), "column": rng.choice(columns)}
        else:
            op = {"kind": "note.edit", "id": rng.choice(mine), "text": f"revu {n}"}
        answer = await c.op(op, timeout=30)
        if answer["type"] == "ack":
            acked.append(answer["seq"])
        elif answer["code"] == "frozen":
            return


async def test_freeze_while_twenty_clients_edit_on_three_processes(
    cluster: list[ServerProcess], redis_server: RedisProcess
) -> None:
    """Every op ordered after the freeze is refused as frozen, every process holds the same
    frozen board, and the stored record's hash is that board's."""
    ws = cluster[0].create_workshop("Gel")
    fac = flow_client(cluster[0], ws, "facilitator", name="Fanny")
    await fac.connect()
    for i in range(4):
        await fac.op({"kind": "column.add", "id": f"c{i}", "title": f"Orientation {i}"})
    clients = [flow_client(cluster[i % 3], ws, name=f"P{i}") for i in range(PARTICIPANTS)]
    await asyncio.gather(*(c.connect() for c in clients))
    acked: list[int] = []
    editing = [asyncio.create_task(keep_editing(c, i, acked)) for i, c in enumerate(clients)]
    try:
        await fac.wait_for(lambda: len(acked) >= 120, timeout=60, what="120 edits")
        freeze = await fac.op({"kind": "freeze"})
        assert freeze["type"] == "ack"
        await asyncio.wait_for(asyncio.gather(*editing), 60)
    finally:
        for task in editing:
            task.cancel()
    frozen_at = freeze["seq"]

    backend = RedisStore(redis_server.url)
    await backend.start()
    try:
        log = await backend.read_since(ws["id"], 0)
        record = await backend.get_snapshot(ws["id"], "record")
    finally:
        await backend.close()
    assert [c.seq for c in log] == list(range(1, len(log) + 1))
    after = [c for c in log if c.seq > frozen_at]
    assert len(after) >= PARTICIPANTS  # every client's last op came after the freeze
    # a fresh replica of the log (from the board a new workshop starts with): everything
    # after the freeze is refused as frozen
    board = Board.new()
    for committed in log:
        r = committed.record
        try:
            apply(board, r.op, Context(r.author, r.role, r.client, r.at, committed.seq))
            assert committed.seq <= frozen_at, "an op after the freeze applied"
        except RoomError as error:
            if committed.seq > frozen_at:
                assert error.code == "frozen"
        board.seq = committed.seq
    # each client was told so for every op of its own after the freeze
    for c in clients:
        late = [a for a in c.acks.values() if a.get("seq", 0) > frozen_at]
        assert late and all(a["type"] == "reject" and a["code"] == "frozen" for a in late)
    # every process: the same frozen board, whose hash is the record's
    head = log[-1].seq
    views = []
    for proc in cluster:
        wait_until(lambda p=proc: state(p, ws)["seq"] == head, 20, "every process caught up")
        views.append(state(proc, ws))
    assert views[0] == views[1] == views[2]
    assert views[0]["frozen"]["seq"] == frozen_at
    expected = board.to_dict(viewer=ANONYMOUS)
    assert views[0] == expected
    assert record is not None and record["seq"] == frozen_at
    assert record["hash"] == content_hash(expected) == fac.flow[-1]["op"]["hash"]
    assert record["state"] == {**expected, "seq": record["state"]["seq"]}
    for proc in cluster:
        assert (
            api(proc, ws, "observer", "GET", "/snapshots/record").json()["hash"] == record["hash"]
        )
    # and every client's mirror ends on that board
    for c in [fac, *clients]:
        assert canonical(c.board) == canonical(expected)
    await asyncio.gather(*(c.close() for c in [fac, *clients]))
