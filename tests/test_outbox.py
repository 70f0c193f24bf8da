"""The outbox (server/outbox.py): what a socket is handed in one turn of the loop leaves in
one write, after that turn, in order; and on a real server, the events of one commit group
reach a socket in one write()."""

import asyncio
import gc
import weakref
from pathlib import Path

import httpx
import pytest
from atelier.outbox import Outbox, outbox
from atelier.transport import EXTENSION, binary_frame
from atelier.ws import SocketPeer

from .flowclient import api, create_workshop, flow_client
from .support import ServerProcess


class _Socket:
    """A socket as the outbox sees it: it records when it was uncorked."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    def uncork(self) -> None:
        self.log.append(self.name)


@pytest.mark.pure
async def test_sockets_corked_in_one_turn_are_uncorked_once_after_it() -> None:
    loop = asyncio.get_running_loop()
    box = Outbox(loop)
    log: list[str] = []
    a, b = _Socket("a", log), _Socket("b", log)
    box.add(a)
    box.add(b)
    assert log == []  # nothing is written during the turn that corked it
    await asyncio.sleep(0)
    assert log == ["a", "b"]  # once each, in the order they were corked
    await asyncio.sleep(0)
    assert log == ["a", "b"]
    box.add(b)  # a later turn gets a flush of its own
    await asyncio.sleep(0)
    assert log == ["a", "b", "b"]


@pytest.mark.pure
async def test_a_flush_asked_early_writes_at_once_and_only_once() -> None:
    box = Outbox(asyncio.get_running_loop())
    log: list[str] = []
    box.add(_Socket("a", log))
    box.flush()  # a close must not wait for the end of the turn
    assert log == ["a"]
    await asyncio.sleep(0)
    assert log == ["a"]


def _send_path(server: ServerProcess) -> tuple[float, float]:
    """Frames written straight to sockets, and the writes that carried them (/metrics)."""
    lines = httpx.get(f"{server.base}/metrics", timeout=5).text.splitlines()

    def value(name: str) -> float:
        return float(next(x for x in lines if x.startswith(name + " ")).split()[1])

    return value("atelier_socket_frames_total"), value("atelier_socket_writes_total")


async def test_the_events_of_one_commit_reach_a_socket_in_one_write(
    server: ServerProcess,
) -> None:
    """An import commits 40 findings in one group: the facilitator's socket reads 40
    events, in order, carried by a handful of writes, not 40."""
    workshop = create_workshop(server)
    rows = "".join(f"Constat numéro {i};Atout\n" for i in range(40))
    fac = flow_client(server, workshop, "facilitator")
    await fac.connect()
    try:
        await asyncio.sleep(0.5)  # let the welcome, roster and vigilance frames go first
        frames_before, writes_before = _send_path(server)
        done = api(server, workshop, "facilitator", "POST", "/import",
                   content=("Constat;Type\n" + rows).encode())  # fmt: skip
        assert done.status_code == 200, done.text
        seq = done.json()["seq"]
        await fac.wait_for(lambda: fac.board["seq"] >= seq, what="the import")
        await asyncio.sleep(0.5)  # the vigilance update that follows, if any
        frames_after, writes_after = _send_path(server)
    finally:
        await fac.close()
    texts = [n["text"] for n in sorted(fac.board["notes"].values(), key=lambda n: n["pos"])]
    assert texts == [f"Constat numéro {i}" for i in range(40)]
    assert frames_after - frames_before >= 40
    assert writes_after - writes_before <= 4, (frames_after - frames_before,
                                               writes_after - writes_before)  # fmt: skip


async def test_an_import_longer_than_the_send_queue_keeps_the_facilitator_connected(
    tmp_path: Path,
) -> None:
    """An import hands the facilitator's socket more events in one turn than its send
    queue holds (64 here, 1,024 by default; a CSV may hold 2,000 rows): they are written
    as they come, the socket is not taken for a slow reader, and it reads them all."""
    server = ServerProcess(tmp_path / "data", env={"ATELIER_SEND_QUEUE": "64"}).start()
    try:
        workshop = create_workshop(server)
        fac = flow_client(server, workshop, "facilitator")
        await fac.connect()
        try:
            rows = "".join(f"Constat numéro {i};Atout\n" for i in range(200))
            done = api(server, workshop, "facilitator", "POST", "/import",
                       content=("Constat;Type\n" + rows).encode())  # fmt: skip
            assert done.status_code == 200, done.text
            await fac.wait_for(lambda: fac.board["seq"] >= done.json()["seq"], what="the import")
            assert fac.closed is None
        finally:
            await fac.close()
        assert len(fac.board["notes"]) == 200
        assert "too slow" not in server.log()
    finally:
        server.stop()


@pytest.mark.pure
async def test_a_busy_process_with_a_window_holds_frames_for_that_window() -> None:
    loop = asyncio.get_running_loop()
    box = Outbox(loop, window=0.3)
    log: list[str] = []
    box.add(_Socket("a", log))  # quiet so far: at the end of the turn
    await asyncio.sleep(0)
    assert log == ["a"]
    box.add(_Socket("ack", log))  # one flush a moment ago (an op's event): still at once
    await asyncio.sleep(0)
    assert log == ["a", "ack"]
    held_at = loop.time()
    box.add(_Socket("b", log))  # two flushes a moment ago: busy, so the window applies
    box.add(_Socket("c", log))
    for _ in range(5):
        await asyncio.sleep(0)
    assert log == ["a", "ack"]
    while log == ["a", "ack"] and loop.time() - held_at < 5:
        await asyncio.sleep(0.01)
    assert log == ["a", "ack", "b", "c"] and loop.time() - held_at >= 0.25
    await asyncio.sleep(0.05)  # quiet again: at once
    box.add(_Socket("d", log))
    await asyncio.sleep(0)
    assert log == ["a", "ack", "b", "c", "d"]


class _Failing(_Socket):
    def uncork(self) -> None:
        raise RuntimeError("a transport closed under it")


@pytest.mark.pure
async def test_a_socket_that_fails_does_not_stop_the_others() -> None:
    box = Outbox(asyncio.get_running_loop())
    log: list[str] = []
    box.add(_Socket("a", log))
    box.add(_Failing("b", log))
    box.add(_Socket("c", log))
    await asyncio.sleep(0)
    assert log == ["a", "c"]
    box.add(_Socket("d", log))  # and the outbox still flushes afterwards
    await asyncio.sleep(0)
    assert log == ["a", "c", "d"]


@pytest.mark.pure
def test_a_closed_loop_and_its_outbox_are_freed() -> None:
    async def use() -> None:
        outbox().add(_Socket("a", []))

    loop = asyncio.new_event_loop()
    loop.run_until_complete(use())
    loop.close()
    gone = weakref.ref(loop)
    del loop
    gc.collect()
    assert gone() is None


class _Writer:
    """A transport that takes every write, as an idle socket's does."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.paused = False  # a slow reader's: nothing is taken

    def write_frame(self, frame: bytes) -> bool:
        if self.paused:
            return False
        self.writes.append(frame)
        return True

    async def wait_writable(self) -> None:
        return None

    def abort(self) -> None:
        return None


class _Handshake:
    """What SocketPeer reads of a Starlette WebSocket: the scope offering the extension."""

    def __init__(self, writer: _Writer) -> None:
        self.scope = {"extensions": {EXTENSION: {"writer": writer}}}


@pytest.mark.pure
async def test_frames_of_one_turn_leave_in_one_write_and_a_burst_at_the_limit_at_once() -> None:
    writer = _Writer()
    peer = SocketPeer(_Handshake(writer), "Ana", "participant", queue_size=5)  # type: ignore[arg-type]
    for n in range(3):
        peer.push(b"event %d" % n)
    assert writer.writes == []
    await asyncio.sleep(0)
    assert writer.writes == [b"".join(binary_frame(b"event %d" % n) for n in range(3))]
    writer.writes.clear()
    for n in range(12):  # a turn that hands it more than the limit (an import): no cut
        peer.push(b"more %d" % n)

    def joined(numbers: range) -> bytes:
        return b"".join(binary_frame(b"more %d" % n) for n in numbers)

    assert writer.writes == [joined(range(5)), joined(range(5, 10))]
    await asyncio.sleep(0)
    assert writer.writes[2:] == [joined(range(10, 12))]
    assert not peer.closing.done()


@pytest.mark.pure
async def test_a_paused_socket_handed_more_than_the_limit_in_one_turn_is_cut() -> None:
    """Frames a paused transport refuses join the backlog, which the bound counts."""
    writer = _Writer()
    writer.paused = True
    peer = SocketPeer(_Handshake(writer), "Ana", "participant", queue_size=5)  # type: ignore[arg-type]
    for n in range(5):
        peer.push(b"event %d" % n)
    assert not peer.closing.done()  # corked: nothing offered to the transport yet
    peer.push(b"event 5")  # the corked five go to the backlog, which is then full
    assert writer.writes == [] and peer.closing.done() and peer.close_code == 1013
    peer.stop()  # as the socket's handler does once closing is set
