"""A test client that also mirrors the workshop's flow (issue 5) from the frames it gets,
and helpers to reach a workshop over HTTP with one of its links."""

from typing import Any

import httpx

from .support import Client, ServerProcess, apply_event

#: Event kinds of the flow; the base client's mirror knows only notes and columns.
FLOW_KINDS = {
    "column.state", "column.lock", "column.unlock", "idea.add", "idea.delete", "vote.add",
    "vote.remove", "phase.next", "snapshot.take", "tools.set", "reveal", "timer.start",
    "timer.stop", "freeze", "participant.erase", "notes.reveal", "votes.reveal", "vote.round",
    "silent.waiting", "idea.move", "column.documents", "cap.set", "colleges.set", "member.set",
    "member.remove", "objection.add", "objection.answer", "objection.delete", "decision.set",
    "vigilance.answer", "meeting.set",
}  # fmt: skip


class FlowClient(Client):
    """A :class:`Client` whose mirror follows revealed notes, renames and the flow's events."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.flow: list[dict[str, Any]] = []  # every flow event received, in order
        self.vigilance: list[dict[str, Any]] | None = None
        self.mirrors: dict[int, dict[str, Any]] = {}  # the mirror right after chosen events
        self.silent_waiting = 0  # how many silent notes wait, as the events say

    def _on_frame(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "vigilance":
            self.vigilance = frame["checks"]
            return
        for event in [frame] if frame["type"] == "event" else frame.get("events", []):
            if "silent_waiting" in event["op"]:  # every event that changes it says so
                self.silent_waiting = event["op"]["silent_waiting"]
        if "state" in frame:
            self.silent_waiting = frame["state"]["silent_waiting"]
        if frame["type"] == "welcome":
            events = frame.get("events", [])
            flow_events = [e for e in events if e["op"]["kind"] in FLOW_KINDS]
            if flow_events:  # catch-up mixing both: replay each by hand, in order
                if "state" in frame:
                    raise AssertionError("a welcome has state or events, not both")
                for event in events:
                    self._event(event)
                self.board["seq"] = frame["seq"]
                self.welcome = frame
                return
        if frame["type"] == "event" and frame["op"]["kind"] in FLOW_KINDS:
            self._event(frame)
            return
        super()._on_frame(frame)
        for event in [frame] if frame["type"] == "event" else frame.get("events", []):
            finding_fields(self.board, event["op"])

    def _event(self, frame: dict[str, Any]) -> None:
        op = frame["op"]
        assert frame["seq"] > self.board["seq"], "an event arrived twice or out of order"
        if op["kind"] not in FLOW_KINDS:
            apply_event(self.board, op)
        else:
            self.flow.append(frame)
            if op["kind"] in ("reveal", "freeze", "notes.reveal", "tools.set"):
                for note in op["notes"]:  # silent notes shown to everyone
                    apply_event(self.board, note)
            if op["kind"] == "participant.erase":
                for note_id in op["notes"]:
                    if note_id in self.board["notes"]:
                        self.board["notes"][note_id]["author"] = op["replacement"]
        self.board["seq"] = frame["seq"]
        if op["kind"] in ("phase.next", "snapshot.take", "freeze"):
            self.mirrors[frame["seq"]] = {
                "notes": {k: dict(v) for k, v in self.board["notes"].items()},
                "columns": {k: dict(v) for k, v in self.board["columns"].items()},
            }


#: A finding's optional fields, which the base client's mirror does not follow.
FINDING_KEYS = ("type", "theme", "source", "indicator", "imported")


def finding_fields(board: dict[str, Any], event: dict[str, Any]) -> None:
    """Mirror a note event's optional fields (present only when set; '' in an edit
    clears one), after the base client applied the rest."""
    note = board["notes"].get(event.get("id"))
    if note is None or event["kind"] not in ("note.add", "note.restore", "note.edit"):
        return
    for key in FINDING_KEYS:
        if event["kind"] != "note.edit":
            note.pop(key, None)
        if event.get(key):
            note[key] = event[key]
        elif key in event:
            note.pop(key, None)


def create_workshop(server: ServerProcess, title: str = "Atelier test",
                    **fields: Any) -> dict[str, Any]:  # fmt: skip
    """Create a workshop over HTTP with any of the creation fields (``phase``…); its
    links' secrets under ``secrets``."""
    response = httpx.post(f"{server.base}/api/workshops", json={"title": title, **fields},
                          timeout=10)  # fmt: skip
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    data["secrets"] = {r: link.split("#k=")[1] for r, link in data["links"].items()}
    return data


def flow_client(server: ServerProcess, workshop: dict[str, Any], role: str = "participant",
                **kwargs: Any) -> FlowClient:  # fmt: skip
    """A flow client on ``server`` with the workshop's link for ``role``."""
    return FlowClient(server.ws_base, workshop["id"], workshop["secrets"][role], **kwargs)


def api(server: ServerProcess, workshop: dict[str, Any], role: str, method: str, path: str,
        **kwargs: Any) -> httpx.Response:  # fmt: skip
    """Call the workshop's HTTP API with the link of ``role``."""
    headers = {"Authorization": f"Bearer {workshop['secrets'][role]}"}
    url = f"{server.base}/api/workshops/{workshop['id']}{path}"
    return httpx.request(method, url, headers=headers, timeout=20, **kwargs)


def state(server: ServerProcess, workshop: dict[str, Any], role: str = "observer") -> Any:
    """The board over HTTP, as ``role`` sees it."""
    response = api(server, workshop, role, "GET", "")
    response.raise_for_status()
    return response.json()["state"]
