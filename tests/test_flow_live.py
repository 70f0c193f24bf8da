"""The workshop's flow on a real server: roles on the wire, and what a participant's frames
may hold while silent writing and voting are on."""

from typing import Any

import httpx
import orjson

from .flowclient import FlowClient, api, create_workshop, flow_client, state
from .support import ServerProcess
from .test_flow_reducer import FACILITATOR_OPS

SECRET = "SECRET-ANA-42"


def without_seq(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k != "seq"}


def leaks(frames: list[dict[str, Any]], *needles: str) -> list[str]:
    """The needles found anywhere in these frames."""
    raw = b"".join(orjson.dumps(f) for f in frames)
    return [n for n in needles if n.encode() in raw]


async def test_every_role_against_every_facilitator_op_on_the_wire(
    server: ServerProcess,
) -> None:
    """Over a real socket, each facilitator op is forbidden to a participant and an observer,
    leaves the board as it was, and applies for the facilitator."""
    ws = server.create_workshop()
    fac, ana = flow_client(server, ws, "facilitator", name="Fanny"), flow_client(server, ws)
    olga = flow_client(server, ws, "observer", name="Olga")
    for c in (fac, ana, olga):
        await c.connect()
    try:
        assert (await fac.op({"kind": "column.add", "id": "c1", "title": "Coopération"}))["type"]
        await ana.op({"kind": "note.add", "id": "n1", "text": "Peu de liens", "column": "c1"})
        ops = sorted(FACILITATOR_OPS, key=lambda op: op["kind"] == "freeze")  # freeze last
        for op in ops:
            before = without_seq(state(server, ws, "facilitator"))
            for who in (ana, olga):
                answer = await who.op(op)
                assert (answer["type"], answer["code"]) == ("reject", "forbidden"), (op, answer)
            assert without_seq(state(server, ws, "facilitator")) == before, op
            answer = await fac.op(op)
            assert answer["type"] == "ack", (op, answer)
        assert state(server, ws)["frozen"]["by"] == "Fanny"
        answer = await fac.op({"kind": "note.add", "id": "late", "text": "trop tard"})
        assert (answer["type"], answer["code"]) == ("reject", "frozen")
    finally:
        for c in (fac, ana, olga):
            await c.close()


async def test_silent_notes_and_votes_stay_out_of_other_frames_until_reveal(
    server: ServerProcess,
) -> None:
    """Until the reveal, no frame, state, snapshot or export reaching anyone but the author
    holds a silent note, and no one hears of another's votes; the reveal shows both."""
    ws = server.create_workshop()
    fac = flow_client(server, ws, "facilitator", name="Fanny")
    ana, bob = flow_client(server, ws, name="Ana"), flow_client(server, ws, name="Bob")
    for c in (fac, ana, bob):
        await c.connect()
    try:
        for op in (
            {"kind": "column.add", "id": "c1", "title": "Coopération"},
            {"kind": "column.add", "id": "c2", "title": "Numérique"},
            {"kind": "tools.set", "silent": True, "voting": True, "budget": 3},
        ):
            assert (await fac.op(op))["type"] == "ack"
        assert (await ana.op({"kind": "note.add", "id": "s1", "text": SECRET, "column": "c1"}))[
            "type"
        ] == "ack"
        await ana.op({"kind": "note.edit", "id": "s1", "text": SECRET + " bis"})
        await ana.op({"kind": "vote.add", "column": "c1"})
        await ana.op({"kind": "vote.add", "column": "c1"})
        assert (await bob.op({"kind": "vote.add", "column": "c2"}))["type"] == "ack"
        await fac.op({"kind": "snapshot.take", "label": "Pendant le silence"})
        await bob.wait_for(lambda: bob.board["seq"] >= fac.board["seq"], what="the snapshot")

        # live frames: Bob and the facilitator heard nothing of Ana's note or votes
        for other in (bob, fac):
            assert leaks(other.frames, SECRET, '"s1"') == []
            assert not [f for f in other.flow if f["op"]["kind"] == "vote.add"
                        and f["op"]["column"] == "c1"]  # fmt: skip
        assert [f["op"]["mine"] for f in bob.flow if f["op"]["kind"] == "vote.add"] == [{"c2": 1}]
        assert ana.board["notes"]["s1"]["text"] == SECRET + " bis"
        # newcomers: a full state, and a catch-up from the ring
        carl, dave = flow_client(server, ws, name="Carl"), flow_client(server, ws, name="Dave")
        await carl.connect()
        await dave.connect(since=0)
        assert dave.welcome is not None and "events" in dave.welcome
        assert carl.welcome is not None and carl.welcome["state"]["votes"] == {
            "counts": None, "mine": {}, "left": 3}  # fmt: skip
        for newcomer in (carl, dave):
            assert leaks(newcomer.frames, SECRET, '"s1"') == []
        # Ana again, from another tab (same client id): her note and votes are hers
        again = FlowClient(server.ws_base, ws["id"], ws["secrets"]["participant"], name="Ana",
                           client_id=ana.client_id)  # fmt: skip
        await again.connect()
        assert again.welcome is not None
        assert again.welcome["state"]["votes"] == {"counts": None, "mine": {"c1": 2}, "left": 1}
        assert "s1" in again.board["notes"]
        # HTTP: the board, the snapshot and every export, as each role
        snap = fac.flow[-1]["op"]["snapshot"]
        for role in ("participant", "facilitator", "observer"):
            bodies = [api(server, ws, role, "GET", "").content,
                      api(server, ws, role, "GET", f"/snapshots/{snap}").content]  # fmt: skip
            for fmt in ("json", "md", "csv", "html"):
                bodies.append(api(server, ws, role, "GET", f"/export.{fmt}").content)
            assert not [b for b in bodies if SECRET.encode() in b], role
            assert b'"counts":null' in bodies[0]
        for c in (carl, dave, again):
            await c.close()

        assert (await fac.op({"kind": "reveal"}))["type"] == "ack"
        await bob.wait_for(lambda: "s1" in bob.board["notes"], what="the reveal")
        reveal = bob.flow[-1]["op"]
        assert reveal["kind"] == "reveal" and reveal["counts"] == {"c1": 2, "c2": 1}
        assert bob.board["notes"]["s1"]["text"] == SECRET + " bis"
        seen = state(server, ws)
        assert seen["votes"]["counts"] == {"c1": 2, "c2": 1}
        assert SECRET in orjson.dumps(seen).decode()
    finally:
        for c in (fac, ana, bob):
            await c.close()


async def test_facilitator_gets_vigilance_checks_as_the_board_changes(
    server: ServerProcess,
) -> None:
    """The facilitator's socket is told the points of vigilance, again whenever they change;
    a participant never gets them."""
    ws = server.create_workshop()
    fac, ana = flow_client(server, ws, "facilitator"), flow_client(server, ws)
    await fac.connect()
    await ana.connect()
    try:
        await fac.wait_for(lambda: fac.vigilance is not None, what="the first checks")
        assert {c["code"] for c in fac.vigilance or []} == {
            "method_actions", "method_ess", "method_documents", "too_few_orientations",
            "ambition_unserved"}  # fmt: skip
        method = [c for c in fac.vigilance or [] if c["source"] == "method"]
        assert [(c["point"], c["open"]) for c in method] == [
            ("actions", True), ("ess", True), ("documents", True)]  # fmt: skip
        await ana.op({"kind": "note.add", "id": "n1", "text": "Peu de liens"})
        await fac.wait_for(
            lambda: any(c["code"] == "findings_unsorted" for c in fac.vigilance or []),
            what="the unsorted finding",
        )
        # a round trip: any frame sent to Ana before her ack has arrived by then
        await ana.op({"kind": "note.edit", "id": "n1", "text": "Peu de liens entre acteurs"})
        assert not [f for f in ana.frames if f["type"] == "vigilance"]
    finally:
        await fac.close()
        await ana.close()


async def test_timer_and_phase_reach_everyone(server: ServerProcess) -> None:
    """A countdown and a phase change reach every socket, with the same end time."""
    ws = server.create_workshop()
    fac, ana = flow_client(server, ws, "facilitator"), flow_client(server, ws)
    await fac.connect()
    await ana.connect()
    try:
        await fac.op({"kind": "timer.start", "seconds": 120})
        await fac.op({"kind": "phase.next"})
        await ana.wait_for(lambda: len(ana.flow) == 2, what="timer and phase")
        timer, phase = (f["op"] for f in ana.flow)
        assert timer["ends_at"] == state(server, ws)["timer"]
        assert phase["phase"] == 5 and phase["label"] == "Orientations stratégiques"
        assert state(server, ws)["phase"] == 5
    finally:
        await fac.close()
        await ana.close()


async def test_silent_notes_and_ballots_survive_a_restart_still_private(
    server: ServerProcess,
) -> None:
    """After a restart, the author still has their silent note and ballot, the others still
    do not, and the reveal still counts every vote."""
    ws = server.create_workshop()
    fac = flow_client(server, ws, "facilitator")
    ana = flow_client(server, ws, name="Ana")
    await fac.connect()
    await ana.connect()
    await fac.op({"kind": "column.add", "id": "c1", "title": "Coopération"})
    await fac.op({"kind": "tools.set", "silent": True, "voting": True})
    await ana.op({"kind": "note.add", "id": "s1", "text": SECRET, "column": "c1"})
    await ana.op({"kind": "vote.add", "column": "c1"})
    await fac.close()
    await ana.close()
    server.stop()
    server.start()
    again = FlowClient(server.ws_base, ws["id"], ws["secrets"]["participant"], name="Ana",
                       client_id=ana.client_id)  # fmt: skip
    bob = flow_client(server, ws, name="Bob")
    fac = flow_client(server, ws, "facilitator")
    for c in (again, bob, fac):
        await c.connect()
    try:
        assert again.welcome is not None and bob.welcome is not None
        assert again.welcome["state"]["votes"]["mine"] == {"c1": 1} and "s1" in again.board["notes"]
        assert leaks([bob.welcome, *fac.frames], SECRET) == []
        await fac.op({"kind": "reveal"})
        await bob.wait_for(lambda: "s1" in bob.board["notes"], what="the reveal")
        assert bob.flow[-1]["op"]["counts"] == {"c1": 1}
    finally:
        for c in (again, bob, fac):
            await c.close()


async def test_an_erased_name_is_gone_from_earlier_snapshots_as_served(
    server: ServerProcess,
) -> None:
    """After participant.erase, snapshots taken before it (immutable in storage) and their
    exports show the anonymous label, never the name."""
    ws = server.create_workshop()
    fac, ana = flow_client(server, ws, "facilitator"), flow_client(server, ws, name="Zoé Martin")
    await fac.connect()
    await ana.connect()
    try:
        await fac.op({"kind": "column.add", "id": "c1", "title": "Coopération"})
        await ana.op({"kind": "note.add", "id": "n1", "text": "Peu de liens", "column": "c1"})
        await ana.op({"kind": "idea.add", "id": "i1", "column": "c1", "text": "Un club"})
        await fac.op({"kind": "phase.next"})
        snap = fac.flow[-1]["op"]["snapshot"]
        before = api(server, ws, "observer", "GET", f"/snapshots/{snap}").content
        assert b"Zo\xc3\xa9 Martin" in before
        assert (await fac.op({"kind": "participant.erase", "name": "Zoé Martin"}))["type"] == "ack"
        await ana.wait_for(lambda: ana.board["notes"]["n1"]["author"] != "Zoé Martin")
        bodies = [api(server, ws, "observer", "GET", path).content for path in (
            "", f"/snapshots/{snap}", f"/snapshots/{snap}/diff/now", "/export.json",
            f"/export.md?snapshot={snap}", f"/export.csv?snapshot={snap}",
            f"/export.html?snapshot={snap}")]  # fmt: skip
        assert not [b for b in bodies if "Zoé Martin".encode() in b]
        assert "Participant·e anonyme".encode() in bodies[1]
    finally:
        await fac.close()
        await ana.close()


async def test_a_new_workshop_opens_in_phase_four_or_in_the_phase_asked(
    server: ServerProcess,
) -> None:
    """Created without a phase, a workshop is in phase 4 (earlier ones held elsewhere) and
    has no snapshot; any phase 1-5 can be asked; anything else is a 400. Closing phase 4
    makes phase 4's snapshot, and nothing stands for the phases never held here."""
    ws = create_workshop(server)
    seen = state(server, ws)
    assert (seen["phase"], seen["first_phase"]) == (4, 4)
    assert api(server, ws, "observer", "GET", "/snapshots").json() == {"snapshots": []}
    for phase in (1, 5):
        other = state(server, create_workshop(server, phase=phase))
        assert (other["phase"], other["first_phase"]) == (phase, phase)
    for wrong in (0, 6, "4", True, 4.0):
        answer = httpx.post(f"{server.base}/api/workshops", json={"phase": wrong}, timeout=5)
        assert (answer.status_code, answer.json()["error"]) == (400, "bad_field"), wrong
    fac = flow_client(server, ws, "facilitator")
    await fac.connect()
    try:
        assert (await fac.op({"kind": "phase.next"}))["type"] == "ack"
    finally:
        await fac.close()
    listed = api(server, ws, "observer", "GET", "/snapshots").json()["snapshots"]
    assert [(s["phase"], s["label"]) for s in listed] == [(4, "Orientations stratégiques")]
    assert (state(server, ws)["phase"], state(server, ws)["first_phase"]) == (5, 4)


async def test_participants_shape_orientations_only_once_the_facilitator_opens_it(
    server: ServerProcess,
) -> None:
    """Over a real socket, a participant's column ops are refused (shaping_closed) and change
    nothing until tools.set {shaping: true}; the facilitator's always apply."""
    ws = create_workshop(server)
    fac, ana = flow_client(server, ws, "facilitator"), flow_client(server, ws, name="Ana")
    await fac.connect()
    await ana.connect()
    try:
        assert (await fac.op({"kind": "column.add", "id": "c1", "title": "Coopération"}))[
            "type"
        ] == "ack"
        before = without_seq(state(server, ws))
        for op in (
            {"kind": "column.add", "id": "c2", "title": "Numérique"},
            {"kind": "column.rename", "id": "c1", "title": "Autre"},
            {"kind": "column.move", "id": "c1", "index": 0},
            {"kind": "column.state", "id": "c1", "statement": "Coopérer"},
            {"kind": "column.delete", "id": "c1"},
        ):
            answer = await ana.op(op)
            assert (answer["type"], answer["code"]) == ("reject", "shaping_closed"), op
        assert without_seq(state(server, ws)) == before
        await fac.op({"kind": "tools.set", "shaping": True})
        await ana.wait_for(lambda: any(f["op"]["kind"] == "tools.set" for f in ana.flow))
        assert (await ana.op({"kind": "column.rename", "id": "c1", "title": "Coopérer"}))[
            "type"
        ] == "ack"
        assert state(server, ws)["tools"]["shaping"] is True
    finally:
        await fac.close()
        await ana.close()


async def test_votes_survive_closing_and_the_silent_count_reaches_everyone(
    server: ServerProcess,
) -> None:
    """Closing and reopening the vote keeps every ballot; the facilitator and an observer
    are told how many silent notes wait (never their text), and an observer never gets a
    ballot of its own; counts reach the observer only with votes.reveal."""
    ws = create_workshop(server)
    fac = flow_client(server, ws, "facilitator", name="Fanny")
    ana = flow_client(server, ws, name="Ana")
    olga = flow_client(server, ws, "observer", name="Olga")
    for c in (fac, ana, olga):
        await c.connect()
    try:
        for op in (
            {"kind": "column.add", "id": "c1", "title": "Coopération"},
            {"kind": "tools.set", "silent": True, "voting": True, "budget": 2},
        ):
            assert (await fac.op(op))["type"] == "ack"
        await ana.op({"kind": "note.add", "id": "s1", "text": SECRET, "column": "c1"})
        await ana.op({"kind": "vote.add", "column": "c1"})
        for watcher in (fac, olga):
            await watcher.wait_for(lambda w=watcher: w.silent_waiting == 1, what="the count")
            assert leaks(watcher.frames, SECRET) == []
        await fac.op({"kind": "tools.set", "voting": False})
        await fac.op({"kind": "tools.set", "voting": True})
        again = FlowClient(server.ws_base, ws["id"], ws["secrets"]["participant"], name="Ana",
                           client_id=ana.client_id)  # fmt: skip
        await again.connect()
        assert again.welcome is not None
        assert again.welcome["state"]["votes"] == {"counts": None, "mine": {"c1": 1}, "left": 1}
        await again.close()
        assert olga.welcome is not None and olga.welcome["state"]["votes"] == {"counts": None}
        assert (await fac.op({"kind": "votes.reveal"}))["type"] == "ack"
        await olga.wait_for(lambda: olga.flow[-1]["op"]["kind"] == "votes.reveal")
        assert olga.flow[-1]["op"]["counts"] == {"c1": 1}
        assert state(server, ws)["silent_waiting"] == 1  # the counts came out, not the note
        assert (await fac.op({"kind": "notes.reveal"}))["type"] == "ack"
        await olga.wait_for(lambda: "s1" in olga.board["notes"], what="the note shown")
        assert olga.silent_waiting == 0
        assert not [f for f in olga.frames if f["type"] == "event" and "mine" in f["op"]]
    finally:
        for c in (fac, ana, olga):
            await c.close()
