"""Hostile input, generated: thousands of malformed, oversized, wrong-typed and out-of-order
frames against a live server, while a well-behaved client works beside them."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .support import Client, ServerProcess, canonical

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=4),
    max_leaves=8,
)  # fmt: skip
KINDS = st.sampled_from([
    "note.add", "note.edit", "note.move", "note.delete", "note.restore", "column.add",
    "column.rename", "column.move", "column.delete", "column.state", "column.lock", "idea.add",
    "vote.add", "phase.next", "snapshot.take", "tools.set", "reveal", "timer.start", "freeze",
    "participant.erase", "bogus", "",
])  # fmt: skip
IDS = st.sampled_from(["g1", "gc", "f1", "fc", "a b", "", "x" * 41, "é"]) | JSON
OPS = st.fixed_dictionaries(
    {"kind": KINDS | JSON},
    optional={
        "id": IDS, "text": st.text(max_size=1200) | JSON, "column": IDS, "title": JSON,
        "index": st.integers(-3, 2**63) | JSON, "colour": st.sampled_from(["pink", "red"]) | JSON,
        "ambitions": st.lists(st.sampled_from(["ancrage", "travail", "nope"])) | JSON,
        "seconds": JSON, "label": JSON, "name": JSON, "statement": JSON,
    },
)  # fmt: skip
COPS = st.integers(-2, 2**63) | JSON
FRAMES = st.one_of(
    st.binary(max_size=100),
    st.text(max_size=100).map(str.encode),
    JSON.map(orjson.dumps),
    st.fixed_dictionaries({"type": st.just("op")}, optional={"cop": COPS, "op": OPS | JSON}).map(
        orjson.dumps
    ),
    st.fixed_dictionaries({"type": st.sampled_from(["join", "drag", "ping", None])},
                          optional={"v": JSON, "note": IDS, "token": JSON, "since": COPS,
                                    "client": IDS, "name": JSON}).map(orjson.dumps),
    st.just(b'{"type": "op", "cop": 1, "op": {"kind": "note.add", "id": "big", "text": "'
            + b"x" * 70_000 + b'"}}'),
    st.just(b'{"type": "op", "cop": 123456789012345678901234567890, "op": {}}'),
    st.just(b'{"type": "op", "cop": 1, "op": {"kind": "note.add", "id": "n", "text": "\\ud800"}}'),
)  # fmt: skip


@pytest.fixture(scope="module")
def fuzz_room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One server for the whole fuzz run, with a target room and a bystander room."""
    server = ServerProcess(tmp_path_factory.mktemp("fuzz") / "data",
                           env={"ATELIER_OPS_PER_SECOND": "10000",
                                "ATELIER_OPS_BURST": "10000"}).start()  # fmt: skip
    yield {"server": server, "room": server.create_workshop("cible"),
           "other": server.create_workshop("voisin"), "round": 0}  # fmt: skip
    server.stop()


async def _hostile_round(fuzz: dict[str, Any], frames: list[bytes]) -> None:
    server: ServerProcess = fuzz["server"]
    room, other = fuzz["room"], fuzz["other"]
    fuzz["round"] += 1
    good = Client(server.ws_base, room["id"], room["secrets"]["participant"], name="Sage")
    neighbour = Client(server.ws_base, other["id"], other["secrets"]["participant"])
    await good.connect()
    await neighbour.connect()
    join = orjson.dumps({"type": "join", "v": 1, "token": room["secrets"]["participant"],
                         "client": "fuzzer", "name": "Fuzz"})  # fmt: skip
    ws = None
    for n, frame in enumerate(frames):
        if ws is None or ws.close_code is not None:
            # max_queue=None: this client reads nothing, and a full queue would stop it from
            # reading the server's close frame (its close() would then wait 10 s for nothing)
            ws = await websockets.connect(f"{server.ws_base}/ws/{room['id']}", max_size=None,
                                          max_queue=None)  # fmt: skip
            await ws.send(join)
        try:
            if n % 3:
                await ws.send(frame)
            else:
                await ws.send(frame.decode(errors="replace"))  # text frames too
        except websockets.ConnectionClosed:
            ws = None
    if ws is not None:
        await ws.close()
    # the well-behaved client still works, and sees the same board as the server
    note = f"good{fuzz['round']}"
    answer = await good.op({"kind": "note.add", "id": note, "text": "constat sérieux"})
    assert answer["type"] == "ack"
    observer = {"Authorization": f"Bearer {room['secrets']['observer']}"}
    response = httpx.get(f"{server.base}/api/workshops/{room['id']}", headers=observer)
    state = response.json()["state"]
    await good.wait_for(lambda: good.board["seq"] >= state["seq"])
    assert canonical(good.board) == canonical(state)
    _check_board(state)
    # nothing reached the other room
    assert not [f for f in neighbour.frames if f["type"] == "event"]
    await good.close()
    await neighbour.close()


def _check_board(state: dict[str, Any]) -> None:
    columns = {c["id"] for c in state["columns"]}
    places: dict[Any, set[str]] = {}
    for note in state["notes"]:
        assert note["column"] is None or note["column"] in columns
        assert len(note["text"]) <= 1000
        assert note["pos"] not in places.setdefault(note["column"], set())
        places[note["column"]].add(note["pos"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])  # fmt: skip
@given(frames=st.lists(FRAMES, min_size=60, max_size=120))
def test_hostile_frames_never_break_the_room(
    fuzz_room: dict[str, Any], frames: list[bytes]
) -> None:
    """Thousands of bad frames: no crash, the board stays valid, others keep working."""
    asyncio.run(_hostile_round(fuzz_room, frames))
    server: ServerProcess = fuzz_room["server"]
    assert server.proc is not None and server.proc.poll() is None
    assert httpx.get(f"{server.base}/readyz").status_code == 200
    assert "Traceback" not in server.log()  # every bad frame was expected, none crashed


def test_fuzz_module_ran_against_a_real_server(fuzz_room: dict[str, Any]) -> None:
    """The fuzz rounds above really ran (guards against a silently empty run)."""
    assert fuzz_room["round"] >= 1
    log = Path(fuzz_room["server"].log_path).read_text()
    assert "WebSocket /ws/" in log
