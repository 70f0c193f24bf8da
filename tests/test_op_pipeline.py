"""A socket reads on while its last op commits (server/op_pipeline.py): the ops it
sends meanwhile go to the store together, in the order they were sent, and are
answered in that order; a socket told to go commits nothing it had not handed over.

The server is real (uvicorn on a free port, in this process) over the real SQLite
store, with one thing injected: while a gate is shut, a commit waits before it
writes, as it would behind a slow disk."""

import asyncio
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import httpx
import pytest
from atelier.app import create_app
from atelier.backends import Backends
from atelier.backends.memory import MemoryBus
from atelier.backends.sqlite import SqliteStore
from atelier.config import Settings
from atelier.records import CommitResult, OpRecord

from .support import Client, free_port, served_here


class GatedStore(SqliteStore):
    """The real SQLite store; a commit waits while the gate is shut. It notes how many
    ops each commit carried."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.gate = asyncio.Event()
        self.gate.set()
        self.held = asyncio.Event()  # a commit waits at the gate
        self.batches: list[int] = []

    def submit(self, workshop_id: str, records: list[OpRecord]) -> Awaitable[list[CommitResult]]:
        self.batches.append(len(records))
        if self.gate.is_set():
            return super().submit(workshop_id, records)
        return self._after_the_gate(workshop_id, records)

    async def _after_the_gate(
        self, workshop_id: str, records: list[OpRecord]
    ) -> list[CommitResult]:
        self.held.set()
        await self.gate.wait()
        return await super().submit(workshop_id, records)


@pytest.fixture
async def gated(tmp_path: Path) -> AsyncIterator[tuple[str, GatedStore]]:
    """A real uvicorn server on a free port, in this process, over the gated store."""
    port = free_port()
    store = GatedStore(tmp_path)
    app = create_app(Settings(port=port, data=tmp_path), Backends(store, MemoryBus()))
    async with served_here(app, port) as address:
        yield address, store
        store.gate.set()  # a failed test must not leave a commit waiting


async def _workshop(address: str) -> tuple[str, dict[str, str]]:
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        workshop = (await http.post("/api/workshops", json={})).json()
    return workshop["id"], {r: link.split("#k=")[1] for r, link in workshop["links"].items()}


async def _all_read(client: Client) -> None:
    """Send a frame that is no op, and wait for its error: the socket has read every
    frame sent before it (a socket's frames are handled in order)."""
    errors = len([f for f in client.frames if f["type"] == "error"])
    await client.send_raw('{"type": "hello"}')
    await client.wait_for(
        lambda: len([f for f in client.frames if f["type"] == "error"]) > errors,
        what="the error that says every earlier frame was read",
    )


def _present(client: Client, name: str) -> bool:
    """Whether the last roster ``client`` received lists ``name``."""
    rosters = [f["users"] for f in client.frames if f["type"] == "presence"]
    return bool(rosters) and any(user["name"] == name for user in rosters[-1])


async def test_ops_sent_while_a_commit_waits_are_committed_together_in_order(
    gated: tuple[str, GatedStore],
) -> None:
    """A phone back on the Wi-Fi sends its outbox at once: the first op's commit is
    slow, the 29 ops read meanwhile go to the store in one commit, each after the one
    before it (edits of a note its first op adds, a move of it), and are acked in order
    with increasing seqs. A bad frame after them gets its error and changes nothing."""
    address, store = gated
    workshop_id, secrets = await _workshop(address)
    lea = Client(f"ws://{address}", workshop_id, secrets["facilitator"], validate=False)
    await lea.connect()
    column = await lea.op({"kind": "column.add", "id": "c1", "title": "Orientation 1"})
    assert column["type"] == "ack"
    await lea.close()
    ana = Client(f"ws://{address}", workshop_id, secrets["participant"], validate=False)
    await ana.connect()
    store.batches.clear()
    store.gate.clear()
    cops = [await ana.send_op({"kind": "note.add", "id": "n1", "text": "Constat 0"})]
    await asyncio.wait_for(store.held.wait(), 10)
    for n in range(1, 28):
        cops.append(await ana.send_op({"kind": "note.edit", "id": "n1", "text": f"Constat {n}"}))
    cops.append(await ana.send_op({"kind": "note.move", "id": "n1", "column": "c1"}))
    cops.append(await ana.send_op({"kind": "note.add", "id": "n2", "text": "Un autre"}))
    await _all_read(ana)  # every op above waits in the socket's pipeline
    assert store.batches == [1], "the ops read meanwhile went to the store before their turn"
    assert not [f for f in ana.frames if f["type"] == "ack" and f["cop"] in cops], (
        "an op was acked before the store committed it"
    )
    store.gate.set()
    await ana.wait_for(lambda: all(cop in ana.acks for cop in cops), what="every answer")
    assert store.batches == [1, 29]
    answers = [ana.acks[cop] for cop in cops]
    assert [a["type"] for a in answers] == ["ack"] * 30
    assert [a["seq"] for a in answers] == list(range(2, 32))
    order = [f["cop"] for f in ana.frames if f["type"] == "ack" and f["cop"] in cops]
    assert order == cops, "answered out of order"
    observer = Client(f"ws://{address}", workshop_id, secrets["observer"], validate=False)
    await observer.connect()
    notes: dict[str, Any] = observer.board["notes"]
    assert notes["n1"]["text"] == "Constat 27" and notes["n1"]["column"] == "c1"
    assert set(notes) == {"n1", "n2"}
    await observer.close()
    await ana.close()


async def test_a_socket_told_to_go_commits_none_of_its_waiting_ops(
    gated: tuple[str, GatedStore],
) -> None:
    """The participant link is replaced while a commit of its socket waits and more of
    its ops wait behind it: the socket is closed with link_revoked, and none of the ops
    behind is committed (the one already handed to the store is, unanswered)."""
    address, store = gated
    workshop_id, secrets = await _workshop(address)
    observer = Client(f"ws://{address}", workshop_id, secrets["observer"], name="Obs",
                      validate=False)  # fmt: skip
    await observer.connect()
    ana = Client(f"ws://{address}", workshop_id, secrets["participant"], name="Ana",
                 validate=False)  # fmt: skip
    await ana.connect()
    await observer.wait_for(lambda: _present(observer, "Ana"), what="Ana in the room")
    store.batches.clear()
    store.gate.clear()
    await ana.send_op({"kind": "note.add", "id": "n1", "text": "Avant"})
    await asyncio.wait_for(store.held.wait(), 10)
    for n in range(2, 6):
        await ana.send_op({"kind": "note.add", "id": f"n{n}", "text": "Après"})
    await _all_read(ana)
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        facilitator = {"authorization": f"Bearer {secrets['facilitator']}"}
        path = f"/api/workshops/{workshop_id}/links/participant/rotate"
        assert (await http.post(path, headers=facilitator)).status_code == 200
    await ana.wait_for(lambda: ana.closed is not None, what="the socket to be closed")
    assert ana.closed.rcvd.code == 1008
    assert [f["code"] for f in ana.frames if f["type"] == "error"][-1] == "link_revoked"
    store.gate.set()

    # she leaves the room once her op in the store's hands was applied and answered
    await observer.wait_for(lambda: not _present(observer, "Ana"), what="Ana to leave")
    assert set(observer.board["notes"]) == {"n1"}
    assert store.batches == [1]
    assert not [a for a in ana.acks.values() if a["type"] == "ack"]
    await observer.close()


async def test_a_retry_within_a_burst_keeps_its_first_seq(gated: tuple[str, GatedStore]) -> None:
    """An op sent again in the same burst (same cop) is answered twice with its one seq,
    and applied once."""
    address, store = gated
    workshop_id, secrets = await _workshop(address)
    ana = Client(f"ws://{address}", workshop_id, secrets["participant"], validate=False)
    await ana.connect()
    store.gate.clear()
    await ana.send_op({"kind": "note.add", "id": "n1", "text": "Une fois"}, cop=7)
    await asyncio.wait_for(store.held.wait(), 10)
    await ana.send_op({"kind": "note.add", "id": "n2", "text": "Puis"}, cop=8)
    await ana.send_op({"kind": "note.add", "id": "n1", "text": "Une fois"}, cop=7)
    await _all_read(ana)
    store.gate.set()

    def answered() -> list[dict[str, Any]]:
        return [f for f in ana.frames if f["type"] in ("ack", "reject")]

    await ana.wait_for(lambda: len(answered()) == 3, what="three answers")
    assert [(f["type"], f["cop"], f["seq"]) for f in answered()] == [
        ("ack", 7, 1), ("ack", 8, 2), ("ack", 7, 1)]  # fmt: skip
    assert [f["seq"] for f in ana.frames if f["type"] == "event"] == [1, 2]
    await ana.close()
