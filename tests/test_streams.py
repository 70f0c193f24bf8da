"""Recorded event streams: scripted sessions on a real server, per client, for model.js.

Each session drives real websocket clients (a facilitator, participants, an observer)
through a script: notes, moves, column deletes, silent writing and its reveal, votes,
erasure, the freeze. Every client's board frames (welcome, event, reset, ack, reject)
are recorded in order, then the client joins afresh with the same client id and the
welcome's state is recorded as the server's final view for that client. The streams are
committed in tests/streams/; ``node --test tests/node/`` replays them against
web/model.js, and the tests below replay them through tests/support.py's mirror.

Regenerate them with ``ATELIER_WRITE_STREAMS=1 pytest tests/test_streams.py``; without
it, a regeneration that differs from the committed files fails.
"""

import os
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from .support import Client, ServerProcess, apply_event, board_from_state, canonical

STREAMS = Path(__file__).resolve().parent / "streams"
#: The frames that carry the board or an op's outcome; presence and vigilance are
#: ephemeral and timed by the server, so they are left out of the recording.
RECORDED = frozenset({"welcome", "event", "reset", "ack", "reject"})
#: Values that change from run to run, replaced by fixed ones so a run gives equal files.
VOLATILE_TIMES = frozenset({"at", "ends_at", "timer"})
FIXED_TIME = 1767225600000  # 2026-01-01T00:00:00Z in ms
IMPORTED_ID = re.compile(r"^import-[0-9a-f]+-(\d+)$")
#: Client op ids of the barriers (see Session.settle), left out of the recording.
BARRIER_COPS = 1_000_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for every session of this module, each session in its own workshop."""
    proc = ServerProcess(tmp_path_factory.mktemp("streams") / "data").start()
    yield proc
    proc.stop()


def normalize(value: Any, workshop: str) -> Any:
    """``value`` with what differs between runs replaced: times, hashes, ids of sockets
    and of imported items (an import names them after a random batch)."""
    if isinstance(value, str):
        return IMPORTED_ID.sub(r"import-\1", value)
    if isinstance(value, list):
        return [normalize(v, workshop) for v in value]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in VOLATILE_TIMES and isinstance(item, int):
                out[key] = FIXED_TIME
            elif key == "hash" and isinstance(item, str):
                out[key] = "sha256"
            elif key == "sid":
                out[key] = "sid"
            elif key == "workshop" and item == workshop:
                out[key] = "workshop"
            else:
                out[key] = normalize(item, workshop)
        return out
    return value


class Session:
    """A scripted session: named clients on one workshop, every op awaited in turn."""

    def __init__(self, server: ServerProcess, workshop: dict[str, Any]) -> None:
        self.server = server
        self.workshop = workshop
        self.clients: dict[str, Client] = {}
        self.roles: dict[str, str] = {}
        self.names: dict[str, str] = {}

    async def join(self, key: str, role: str, name: str, since: int | None = None) -> Client:
        """Connect client ``key`` (its client id is ``key``, so runs are alike)."""
        client = Client(
            self.server.ws_base,
            self.workshop["id"],
            self.workshop["secrets"][role],
            name=name,
            client_id=key,
        )
        old = self.clients.get(key)
        if old is not None:  # a reconnect: the recording goes on in one list
            client.frames = old.frames
            client.board = old.board
            client.next_cop = old.next_cop
        await client.connect(since=since)
        self.clients[key] = client
        self.roles[key] = role
        self.names[key] = name
        return client

    async def join_everyone(self) -> None:
        """Every session's cast: Claire facilitates, Ana and Bruno take part, a screen watches."""
        await self.join("fac", "facilitator", "Claire")
        await self.join("ana", "participant", "Ana")
        await self.join("bruno", "participant", "Bruno")
        await self.join("obs", "observer", "Écran")

    async def op(self, key: str, op: dict[str, Any], *, refused: str | None = None) -> int:
        """Send ``op`` as ``key``, wait for its answer, then for every client to catch up."""
        answer = await self.clients[key].op(op)
        if refused is None:
            assert answer["type"] == "ack", answer
        else:
            assert answer["type"] == "reject" and answer["code"] == refused, answer
        return int(answer.get("seq", 0))

    async def settle(self, key: str) -> None:
        """Wait until ``key`` has received every frame the server has pushed to it so far.

        Each socket's frames leave in one queue, in order, and an op's events are queued
        to every socket before its sender's ack. So once the last op is acked, a refusal
        of a malformed op (answered at once, committing nothing) arrives after all of them.
        """
        client = self.clients[key]
        cop = BARRIER_COPS + len(client.acks)
        bad = {"type": "op", "cop": cop, "op": {"kind": "barrier"}}
        await client.send_raw(orjson.dumps(bad).decode())
        await client.wait_for(lambda: cop in client.acks, what=f"barrier {cop}")

    async def reconnect(self, key: str) -> None:
        """Drop ``key``'s socket and join again with the last seq it applied."""
        await self.settle(key)
        client = self.clients[key]
        since = int(client.board["seq"])
        await client.close()
        await self.join(key, self.roles[key], self.names[key], since=since)

    async def record(self) -> dict[str, Any]:
        """Every client's frames, and the server's view for each (a fresh join's state)."""
        out: dict[str, Any] = {}
        for key, client in self.clients.items():
            await self.settle(key)
            await client.close()
        for key, client in self.clients.items():
            final = Client(
                self.server.ws_base,
                self.workshop["id"],
                self.workshop["secrets"][self.roles[key]],
                name=self.names[key],
                client_id=key,
            )
            welcome = await final.connect(since=None)
            await final.close()
            frames = [
                f for f in client.frames if f["type"] in RECORDED and f.get("cop", 0) < BARRIER_COPS
            ]
            out[key] = {"role": self.roles[key], "frames": frames, "final": welcome["state"]}
        return normalize(out, self.workshop["id"])


async def notes_and_columns(s: Session) -> None:
    """Notes added, edited, moved, deleted and restored; columns added, renamed, moved,
    locked, stated and deleted; an idea; refusals; a reconnect with its catch-up."""
    await s.join_everyone()
    for cid, title in (("c1", "Mobilités"), ("c2", "Emploi local"), ("c3", "Habitat")):
        await s.op("fac", {"kind": "column.add", "id": cid, "title": title})
    # shaping the orientations is the facilitator's, until opened to participants
    await s.op(
        "ana", {"kind": "column.add", "id": "c4", "title": "Tourisme"}, refused="shaping_closed"
    )
    await s.op("fac", {"kind": "tools.set", "shaping": True})
    await s.op("ana", {"kind": "column.add", "id": "c4", "title": "Tourisme"})
    await s.op("bruno", {"kind": "column.rename", "id": "c4", "title": "Tourisme doux"})
    await s.op("fac", {"kind": "tools.set", "shaping": False})
    await s.op("bruno", {"kind": "column.delete", "id": "c4"}, refused="shaping_closed")
    await s.op("ana", {"kind": "note.add", "id": "n1", "text": "Peu de bus le soir"})
    await s.op("ana", {"kind": "note.add", "id": "n2", "text": "Friches", "colour": "blue"})
    await s.op("bruno", {"kind": "note.add", "id": "n3", "text": "Covoiturage", "column": "c1",
                         "ambitions": ["ancrage"]})  # fmt: skip
    await s.op("ana", {"kind": "note.move", "id": "n1", "column": "c1", "index": 0})
    await s.op("bruno", {"kind": "note.edit", "id": "n2", "text": "Friches à reconvertir",
                         "ambitions": ["transition", "travail"]})  # fmt: skip
    await s.op("ana", {"kind": "note.delete", "id": "n3"})
    await s.reconnect("bruno")  # catches up from its last seq
    await s.op("ana", {"kind": "note.restore", "id": "n3"})
    await s.op("fac", {"kind": "column.rename", "id": "c2", "title": "Emploi et artisanat"})
    await s.op("fac", {"kind": "column.move", "id": "c3", "index": 0})
    await s.op("fac", {"kind": "column.state", "id": "c2", "statement": "Soutenir l'emploi"})
    await s.op("ana", {"kind": "idea.add", "id": "i1", "column": "c2", "text": "Un guichet"})
    await s.op("bruno", {"kind": "idea.add", "id": "i2", "column": "c1", "text": "Navette"})
    await s.op("fac", {"kind": "column.lock", "id": "c2"})
    await s.op("ana", {"kind": "note.move", "id": "n2", "column": "c2"}, refused="locked")
    await s.op("bruno", {"kind": "note.move", "id": "gone", "column": None}, refused="unknown_note")
    await s.op("fac", {"kind": "column.unlock", "id": "c2"})
    await s.op("ana", {"kind": "note.move", "id": "n2", "column": "c2"})
    await s.op("fac", {"kind": "column.delete", "id": "c1"})  # its notes and idea go
    await s.op("fac", {"kind": "phase.next"})
    await s.op("fac", {"kind": "snapshot.take", "label": "Avant le vote"})
    await s.op("fac", {"kind": "timer.start", "seconds": 300})
    await s.op("fac", {"kind": "timer.stop"})
    await s.op("fac", {"kind": "tools.set", "budget": 5})  # each one's votes left follow


async def silent_writing(s: Session) -> None:
    """Silent notes seen by their authors only, moved and edited, a column deleted with
    silent notes in it, a catch-up holding private events, then the reveal."""
    await s.join_everyone()
    await s.op("fac", {"kind": "column.add", "id": "c1", "title": "Sobriété"})
    await s.op("fac", {"kind": "column.add", "id": "c2", "title": "Tourisme"})
    await s.op("ana", {"kind": "note.add", "id": "p1", "text": "Public avant", "column": "c1"})
    await s.op("fac", {"kind": "tools.set", "silent": True})
    await s.op("ana", {"kind": "note.add", "id": "a1", "text": "Silence d'Ana", "column": "c1"})
    await s.op("bruno", {"kind": "note.add", "id": "b1", "text": "Silence de Bruno"})
    await s.op("fac", {"kind": "note.add", "id": "f1", "text": "Constat de l'animation"})
    await s.op("ana", {"kind": "note.edit", "id": "a1", "colour": "pink"})
    await s.op("bruno", {"kind": "note.move", "id": "b1", "column": "c1"})
    await s.op("ana", {"kind": "note.move", "id": "b1", "column": None}, refused="unknown_note")
    await s.op("ana", {"kind": "note.add", "id": "a2", "text": "Autre silence", "column": "c2"})
    await s.op("bruno", {"kind": "note.delete", "id": "b1"})
    await s.op("bruno", {"kind": "note.restore", "id": "b1"})
    await s.op("fac", {"kind": "column.delete", "id": "c1"})  # Ana's and Bruno's own copies
    await s.reconnect("ana")
    await s.op("bruno", {"kind": "note.add", "id": "b2", "text": "Encore un silence"})
    await s.reconnect("obs")
    await s.op("fac", {"kind": "notes.reveal"})  # the notes only: silent writing goes on
    await s.op("bruno", {"kind": "note.add", "id": "b3", "text": "Silence après le dévoilement"})
    await s.op("fac", {"kind": "tools.set", "silent": False})  # shows what it still hid
    await s.op("ana", {"kind": "note.edit", "id": "b2", "text": "Encore un silence, relu"})
    await s.op("fac", {"kind": "tools.set", "silent": True})  # a second silent round
    await s.op("ana", {"kind": "note.add", "id": "a3", "text": "Dernier silence d'Ana"})
    await s.op("bruno", {"kind": "note.add", "id": "b4", "text": "Dernier silence de Bruno"})
    await s.reconnect("bruno")


async def votes_and_freeze(s: Session) -> None:
    """A vote with a budget, votes added and removed, refusals, closing and a new round,
    the reveal, erasing a pseudonym with silent notes and ideas, then the freeze."""
    await s.join_everyone()
    for cid, title in (("c1", "Mobilités"), ("c2", "Emploi"), ("c3", "Habitat")):
        await s.op("fac", {"kind": "column.add", "id": cid, "title": title})
    await s.op("ana", {"kind": "note.add", "id": "n1", "text": "Bus", "column": "c1"})
    await s.op("ana", {"kind": "idea.add", "id": "i1", "column": "c1", "text": "Navette d'Ana"})
    await s.op("ana", {"kind": "vote.add", "column": "c1"}, refused="voting_closed")
    await s.op("fac", {"kind": "tools.set", "voting": True, "budget": 2})
    await s.op("ana", {"kind": "vote.add", "column": "c1"})
    await s.op("ana", {"kind": "vote.add", "column": "c1"})
    await s.op("ana", {"kind": "vote.add", "column": "c2"}, refused="no_votes_left")
    await s.op("bruno", {"kind": "vote.add", "column": "c2"})
    await s.op("bruno", {"kind": "vote.add", "column": "c3"})
    await s.op("bruno", {"kind": "vote.remove", "column": "c3"})
    await s.op("bruno", {"kind": "vote.remove", "column": "c3"}, refused="no_vote")
    await s.op("obs", {"kind": "vote.add", "column": "c1"}, refused="forbidden")
    await s.op("fac", {"kind": "tools.set", "voting": False})  # closed: the ballots stay
    await s.reconnect("ana")
    await s.op("fac", {"kind": "tools.set", "voting": True})  # reopened, the same round
    await s.op("ana", {"kind": "vote.add", "column": "c3"}, refused="no_votes_left")
    await s.op("fac", {"kind": "votes.reveal"})
    await s.op("fac", {"kind": "vote.round", "budget": 3})  # a new round clears them
    await s.op("bruno", {"kind": "vote.add", "column": "c3"})
    await s.op("fac", {"kind": "reveal"})  # both reveals at once
    await s.op("fac", {"kind": "tools.set", "silent": True})
    await s.op("ana", {"kind": "note.add", "id": "a1", "text": "Silence d'Ana", "column": "c2"})
    await s.op("bruno", {"kind": "participant.erase", "name": "Ana"}, refused="forbidden")
    await s.op("fac", {"kind": "participant.erase", "name": "Ana"})
    await s.op("fac", {"kind": "freeze"})
    await s.op("ana", {"kind": "note.add", "id": "n9", "text": "Trop tard"}, refused="frozen")


async def the_record(s: Session) -> None:
    """The co-decision record: findings with the diagnostic's fields and an import, ideas
    under no orientation, the documents fed, the cap, collèges and members, objections and
    a decision with its tally, answers to the points of vigilance, the meeting, and an
    erasure that re-signs a member and an objection."""
    await s.join_everyone()
    for cid, title in (("c1", "Mobilités"), ("c2", "Emploi local")):
        await s.op("fac", {"kind": "column.add", "id": cid, "title": title})
    await s.op("fac", {"kind": "note.add", "id": "d1", "text": "Peu de bus", "column": "c1",
                       "type": "faiblesse", "theme": "Mobilité", "source": "Enquête 2024",
                       "indicator": "2 bus par jour"})  # fmt: skip
    await s.op("ana", {"kind": "note.edit", "id": "d1", "theme": "", "type": "menace"})
    csv = "constat;type\nZone d'activité vieillissante;faiblesse\nUn guichet unique;idée d'action\n"
    async with httpx.AsyncClient(base_url=s.server.base) as http:
        response = await http.post(
            f"/api/workshops/{s.workshop['id']}/import",
            content=csv.encode(),
            headers={"Authorization": f"Bearer {s.workshop['secrets']['facilitator']}",
                     "Content-Type": "text/csv"},
        )  # fmt: skip
        response.raise_for_status()
    await s.op("ana", {"kind": "idea.add", "id": "i1", "column": None, "text": "Une navette"})
    await s.op("bruno", {"kind": "idea.add", "id": "i2", "column": "c2", "text": "Un tiers-lieu"})
    await s.op("ana", {"kind": "idea.move", "id": "i1", "column": "c1"})
    await s.op("fac", {"kind": "column.documents", "id": "c1", "documents": ["pcaet", "scot"],
                       "others": ["Plan vélo"]})  # fmt: skip
    await s.op("fac", {"kind": "cap.set", "text": "Un territoire où l'on vit et travaille"})
    await s.op("fac", {"kind": "colleges.set", "colleges": [
        {"id": "elus", "label": "Élus"}, {"id": "habitants", "label": "Habitants"}]})  # fmt: skip
    await s.op("fac", {"kind": "member.set", "id": "m1", "name": "Ana", "college": "habitants"})
    await s.op("fac", {"kind": "member.set", "id": "m2", "name": "M. le maire", "college": "elus"})
    await s.op("fac", {"kind": "member.set", "id": "m1", "name": "Ana", "college": "elus"})
    await s.op("fac", {"kind": "member.set", "id": "m3", "name": "Bruno", "college": "habitants"})
    await s.op("fac", {"kind": "member.remove", "id": "m3"})
    await s.op("fac", {"kind": "objection.add", "id": "o1", "column": "c1",
                       "text": "Trop coûteux", "by": "Ana"})  # fmt: skip
    await s.op("fac", {"kind": "objection.add", "id": "o2", "column": "c2", "text": "Flou"})
    await s.op("fac", {"kind": "objection.answer", "id": "o1", "answer": "Cofinancé"})
    await s.op("fac", {"kind": "objection.delete", "id": "o2"})
    await s.reconnect("bruno")
    await s.op("fac", {"kind": "decision.set", "column": "c1", "decision": {
        "outcome": "adoptee", "method": "vote",
        "tally": [{"college": "elus", "for": 3, "against": 1, "abstain": 0},
                  {"college": None, "for": 9, "against": 2, "abstain": 1}]}})  # fmt: skip
    await s.op("fac", {"kind": "decision.set", "column": "c2", "decision": {
        "outcome": "amendee", "method": "consent", "amendment": "Dans les bourgs"}})  # fmt: skip
    await s.op("fac", {"kind": "vigilance.answer", "point": "documents", "text": "Le PCAET"})
    await s.op("fac", {"kind": "meeting.set", "place": "Salle du conseil", "date": "2026-03-14"})
    await s.op("fac", {"kind": "participant.erase", "name": "Ana"})
    await s.op("fac", {"kind": "column.delete", "id": "c2"})  # its idea waits under none


SESSIONS: dict[str, Callable[[Session], Awaitable[None]]] = {
    "notes_and_columns": notes_and_columns,
    "silent_writing": silent_writing,
    "votes_and_freeze": votes_and_freeze,
    "the_record": the_record,
}


def encode(recording: dict[str, Any]) -> bytes:
    """One stable encoding: sorted keys, two-space indent, a final newline."""
    return orjson.dumps(recording, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


@pytest.mark.parametrize("name", sorted(SESSIONS))
async def test_a_recorded_stream_is_what_the_server_sends_today(
    server: ServerProcess, name: str
) -> None:
    """Playing the session again gives exactly the committed stream (regenerate with
    ATELIER_WRITE_STREAMS=1 when the protocol changes on purpose)."""
    session = Session(server, server.create_workshop(f"Flux {name}"))
    await SESSIONS[name](session)
    recorded = encode(await session.record())
    path = STREAMS / f"{name}.json"
    if os.environ.get("ATELIER_WRITE_STREAMS") == "1":
        STREAMS.mkdir(exist_ok=True)
        path.write_bytes(recorded)
    assert path.exists(), f"{path} is missing: run with ATELIER_WRITE_STREAMS=1"
    assert recorded == path.read_bytes(), f"{path.name} differs from a fresh recording"


def replay_mirror(frames: list[dict[str, Any]]) -> dict[str, Any]:
    """tests/support.py's mirror fed one client's recorded frames, as Client does."""
    board: dict[str, Any] = {"seq": 0, "notes": {}, "columns": {}}
    for frame in frames:
        if frame["type"] == "welcome":
            if "state" in frame:
                board = board_from_state(frame["state"])
            for event in frame.get("events", []):
                if event["seq"] > board["seq"]:
                    apply_event(board, event["op"])
            board["seq"] = frame["seq"]
        elif frame["type"] == "event" and frame["seq"] > board["seq"]:
            apply_event(board, frame["op"])
            board["seq"] = frame["seq"]
        elif frame["type"] == "reset":
            board = board_from_state(frame["state"])
    return board


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_the_tests_mirror_replays_each_recorded_stream_to_the_servers_view(name: str) -> None:
    """support.apply_event, fed each client's recorded frames, ends with the notes and
    columns of the server's view for that client (private notes marked as the server does)."""
    recording = orjson.loads((STREAMS / f"{name}.json").read_bytes())
    assert set(recording) == {"fac", "ana", "bruno", "obs"}
    for key, stream in recording.items():
        mirror = replay_mirror(stream["frames"])
        assert canonical(mirror) == canonical(stream["final"]), f"{name}: {key}"


def test_the_streams_hold_what_they_are_meant_to_show() -> None:
    """The recordings cover private notes, catch-ups, refusals, votes, erasure and freeze
    (a guard against a script that silently stops exercising them)."""
    seen: set[str] = set()
    for path in sorted(STREAMS.glob("*.json")):
        for stream in orjson.loads(path.read_bytes()).values():
            for frame in stream["frames"]:
                if frame["type"] == "event":
                    seen.add(frame["op"]["kind"])
                    if frame["op"].get("private"):
                        seen.add("private")
                elif frame["type"] == "welcome" and "events" in frame:
                    seen.add("catch-up")
                elif frame["type"] == "reject":
                    seen.add(f"reject:{frame['code']}")
            if any(n.get("private") for n in stream["final"]["notes"]):
                seen.add("private in view")
    wanted = {
        "note.add", "note.edit", "note.move", "note.delete", "note.restore", "column.add",
        "column.rename", "column.move", "column.delete", "column.state", "column.lock",
        "idea.add", "vote.add", "vote.remove", "tools.set", "reveal", "participant.erase",
        "freeze", "private", "catch-up", "reject:locked", "reject:unknown_note",
        "reject:shaping_closed", "vote.round", "votes.reveal", "notes.reveal", "silent.waiting",
        "idea.move", "column.documents", "cap.set", "colleges.set", "member.set",
        "member.remove", "objection.add", "objection.answer", "objection.delete",
        "decision.set", "vigilance.answer", "meeting.set",
        "reject:frozen", "reject:forbidden", "private in view", "timer.start", "phase.next",
    }  # fmt: skip
    assert wanted <= seen, wanted - seen
