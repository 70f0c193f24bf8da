"""Snapshots on both backends: a phase change stores the board at that seq, immutably, and
the diff of two snapshots lists exactly what changed between them."""

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from atelier.backends.base import Store
from atelier.backends.redis_store import RedisStore
from atelier.backends.sqlite import SqliteStore
from atelier.rooms.errors import RoomError
from atelier.rooms.model import Board, Viewer, content_hash
from atelier.rooms.reducer import Context, apply

from .flowclient import FlowClient, api, create_workshop, flow_client
from .support import RedisProcess, ServerProcess, canonical


@pytest.fixture(params=["embedded", pytest.param("redis", marks=pytest.mark.redis)])
def any_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    """One Atelier process, on the embedded backend or on a redis-server of this test's own."""
    redis_url = None
    if request.param == "redis":
        redis_server = RedisProcess(tmp_path / "redis").start()
        request.addfinalizer(redis_server.stop)
        redis_url = redis_server.url
    proc = ServerProcess(tmp_path / "data", redis_url=redis_url).start()
    yield proc
    proc.stop()


async def open_backend(server: ServerProcess) -> Store:
    """The server's own storage, opened from the test (SQLite after the server stopped)."""
    backend: Store
    if server.redis_url:
        backend = RedisStore(server.redis_url)
    else:
        server.stop()
        backend = SqliteStore(server.data_dir)
    await backend.start()
    return backend


async def replay(backend: Store, workshop_id: str, upto: int, phase: int = 1) -> Board:
    """The board at ``upto``, rebuilt from the log with the pure reducer (the workshop
    was created in ``phase``)."""
    board = Board.new(phase)
    for committed in await backend.read_since(workshop_id, 0):
        if committed.seq > upto:
            break
        r = committed.record
        # a rejected op changes nothing, on every replica alike
        with contextlib.suppress(RoomError):
            apply(board, r.op, Context(r.author, r.role, r.client, r.at, committed.seq))
        board.seq = committed.seq
    return board


async def scripted_session(server: ServerProcess, ws: dict[str, Any]) -> list[FlowClient]:
    fac = flow_client(server, ws, "facilitator", name="Fanny")
    ana, bob = flow_client(server, ws, name="Ana"), flow_client(server, ws, name="Bob")
    for c in (fac, ana, bob):
        await c.connect()
    await fac.op({"kind": "column.add", "id": "c1", "title": "Coopération"})
    await ana.op({"kind": "note.add", "id": "n1", "text": "Peu de liens", "column": "c1"})
    await bob.op({"kind": "note.add", "id": "n2", "text": "Tiers-lieu"})
    await fac.op({"kind": "phase.next"})
    await fac.op({"kind": "tools.set", "silent": True, "voting": True})
    await ana.op({"kind": "note.add", "id": "s1", "text": "en silence", "column": "c1"})
    await ana.op({"kind": "vote.add", "column": "c1"})
    await bob.op({"kind": "note.move", "id": "n2", "column": "c1", "index": 0})
    await fac.op({"kind": "column.state", "id": "c1", "statement": "Coopérer pour durer"})
    await fac.op({"kind": "phase.next"})
    await bob.op({"kind": "note.delete", "id": "n1"})  # after: not in the snapshot
    return [fac, ana, bob]


async def test_phase_change_saves_the_board_at_that_seq(any_server: ServerProcess) -> None:
    """Each phase.next stores a snapshot equal to the log replayed to its seq, with its hash,
    phase, label and author; the facilitator's live mirror at that seq matches it too."""
    server = any_server
    ws = create_workshop(server, phase=1)  # held from the start: two phases to close
    clients = await scripted_session(server, ws)
    fac = clients[0]
    listed = api(server, ws, "participant", "GET", "/snapshots").json()["snapshots"]
    for c in clients:
        await c.close()
    phases = [f["op"] for f in fac.flow if f["op"]["kind"] == "phase.next"]
    assert [s["id"] for s in listed] == [p["snapshot"] for p in phases]
    assert [(s["phase"], s["label"], s["by"]) for s in listed] == [
        (1, "Préparation de la démarche", "Fanny"), (2, "Vision", "Fanny")]  # fmt: skip
    assert all("state" not in s for s in listed)
    for snap in listed:
        view = api(server, ws, "facilitator", "GET", f"/snapshots/{snap['id']}").json()["state"]
        assert canonical(view) == canonical(fac.mirrors[snap["seq"]])
    backend = await open_backend(server)
    try:
        for snap in listed:
            stored = await backend.get_snapshot(ws["id"], snap["id"])
            assert stored is not None
            board = await replay(backend, ws["id"], snap["seq"])
            assert stored["state"] == board.to_dict(tombstones=True)
            assert stored["hash"] == content_hash(stored["state"]) == snap["hash"]
        last = await backend.get_snapshot(ws["id"], listed[-1]["id"])
        assert last is not None
        again = Board.from_dict(last["state"])
        assert again.notes["s1"].private_to is not None and again.votes  # kept, hidden
        assert again.to_dict(viewer=Viewer("participant"))["votes"]["counts"] is None
    finally:
        await backend.close()


async def test_a_snapshot_is_immutable_on_both_backends(any_server: ServerProcess) -> None:
    """Saving over an existing snapshot is refused; the first body stays."""
    server = any_server
    ws = server.create_workshop()
    fac = flow_client(server, ws, "facilitator")
    await fac.connect()
    await fac.op({"kind": "snapshot.take", "label": "Premier"})
    await fac.close()
    sid = fac.flow[0]["op"]["snapshot"]
    backend = await open_backend(server)
    try:
        first = await backend.get_snapshot(ws["id"], sid)
        assert first is not None and first["label"] == "Premier"
        with pytest.raises(Exception, match="immutable"):
            await backend.save_snapshot(ws["id"], sid, {**first, "label": "Changé"})
        assert await backend.get_snapshot(ws["id"], sid) == first
    finally:
        await backend.close()


async def test_diff_of_two_snapshots_lists_exactly_the_changes(server: ServerProcess) -> None:
    """Between two snapshots: notes added, removed, moved, edited; columns added, removed,
    renamed; nothing else, and nothing from before the first."""
    ws = server.create_workshop()
    fac, ana = flow_client(server, ws, "facilitator"), flow_client(server, ws, name="Ana")
    await fac.connect()
    await ana.connect()
    try:
        await fac.op({"kind": "tools.set", "shaping": True})  # Ana shapes them too
        for op in (
            {"kind": "column.add", "id": "c1", "title": "Coopération"},
            {"kind": "column.add", "id": "c2", "title": "Numérique"},
            {"kind": "column.add", "id": "c3", "title": "À supprimer"},
            {"kind": "note.add", "id": "keep", "text": "inchangé", "column": "c1"},
            {"kind": "note.add", "id": "edit", "text": "avant", "column": "c1"},
            {"kind": "note.add", "id": "move", "text": "voyageur"},
            {"kind": "note.add", "id": "gone", "text": "effacé"},
        ):
            assert (await ana.op(op))["type"] == "ack"
        await fac.op({"kind": "snapshot.take", "label": "A"})
        for op in (
            {"kind": "note.add", "id": "new", "text": "nouveau", "column": "c2"},
            {"kind": "note.edit", "id": "edit", "text": "après", "ambitions": ["travail"]},
            {"kind": "note.move", "id": "move", "column": "c2"},
            {"kind": "note.delete", "id": "gone"},
            {"kind": "column.rename", "id": "c1", "title": "Coopérer"},
            {"kind": "column.delete", "id": "c3"},
            {"kind": "column.add", "id": "c4", "title": "Services"},
        ):
            assert (await ana.op(op))["type"] == "ack"
        await fac.op({"kind": "snapshot.take", "label": "B"})
        a, b = (f["op"]["snapshot"] for f in fac.flow if f["op"]["kind"] == "snapshot.take")
        body = api(server, ws, "observer", "GET", f"/snapshots/{a}/diff/{b}").json()
        assert body["notes"] == {
            "added": [{"id": "new", "text": "nouveau", "column": "c2"}],
            "removed": [{"id": "gone", "text": "effacé", "column": None}],
            "moved": [{"id": "move", "text": "voyageur", "from": None, "to": "c2"}],
            "edited": [{"id": "edit", "text": {"before": "avant", "after": "après"},
                        "ambitions": {"before": [], "after": ["travail"]}}],
        }  # fmt: skip
        assert body["columns"] == {
            "added": [{"id": "c4", "title": "Services"}],
            "removed": [{"id": "c3", "title": "À supprimer"}],
            "renamed": [{"id": "c1", "before": "Coopération", "after": "Coopérer"}],
        }
        assert (body["before"]["label"], body["after"]["label"]) == ("A", "B")
        now = api(server, ws, "observer", "GET", f"/snapshots/{b}/diff/now").json()
        assert now["notes"] == {"added": [], "removed": [], "moved": [], "edited": []}
        missing = api(server, ws, "observer", "GET", f"/snapshots/{a}/diff/s999")
        assert missing.status_code == 404
    finally:
        await fac.close()
        await ana.close()
