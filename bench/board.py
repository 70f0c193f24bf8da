"""Issue 14's big-board scenarios: what an op costs on a 5,000-note board with a
facilitator connected, against the same load on an empty board in the same run; and
how long a CSV import of 2,000 findings takes to land.

The facilitator matters: the points of vigilance are computed only while one is in the
room, and they read the whole board.
"""

import asyncio
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from .load import LoadSpec, run_load
from .procs import new_workshop, start_server
from .wsclient import connect

__all__ = ["ImportSpec", "compare_boards", "diagnostic_csv", "run_import"]

THEMES = ("Économie", "Emploi", "Mobilités", "Énergie", "Alimentation", "Habitat")
TYPES = ("Atout", "Faiblesse", "Opportunité", "Menace")
LANDED_TIMEOUT = 60.0


def compare_boards(spec: LoadSpec, *, first: int = 0) -> dict[str, Any]:
    """The same load on a board holding only the senders' notes and on one of
    ``spec.notes`` notes, one after the other (``first`` rotates the order), and the
    ratio of server CPU per op, big over empty."""
    sides = {"empty": replace(spec, notes=spec.active), "full": spec}
    order = list(sides)[first % 2 :] + list(sides)[: first % 2]
    line: dict[str, Any] = {side: run_load(sides[side], "atelier") for side in order}
    empty, full = line["empty"]["server_cpu_us_per_op"], line["full"]["server_cpu_us_per_op"]
    line["ratio_cpu_per_op"] = round(full / empty, 2) if empty and full else None
    line["order"] = order
    return line


@dataclass(frozen=True)
class ImportSpec:
    """How many findings the diagnostic's CSV holds."""

    rows: int = 2000


def diagnostic_csv(rows: int) -> bytes:
    """A diagnostic as a territory's consultancy would send it: one finding a line."""
    lines = ["Constat;Type;Thème;Source;Indicateur"]
    for i in range(rows):
        lines.append(f"Constat n° {i} du diagnostic ciblé;{TYPES[i % 4]};"
                     f"{THEMES[i % len(THEMES)]};Étude 2025;{i} établissements")  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


async def _import_once(port: int, workshop_id: str, secret: str, body: bytes) -> dict[str, Any]:
    """POST the CSV while the facilitator's socket is in the room; time the answer and
    the moment that socket has the import's last event."""
    seen, target = 0, None  # the last event's seq; the import's, once answered
    welcomed, landed = asyncio.Event(), asyncio.Event()

    def on_message(data: bytes, _at: float) -> None:
        nonlocal seen
        if data.startswith(b'{"type":"welcome"'):
            welcomed.set()
        elif data.startswith(b'{"type":"event"'):
            seen = int(orjson.loads(data)["seq"])
            if target is not None and seen >= target:
                landed.set()

    client = await connect("127.0.0.1", port, f"/ws/{workshop_id}", on_message)
    join = {"type": "join", "v": 1, "token": secret, "client": "bench-fac", "name": "Animation",
            "since": None}  # fmt: skip
    client.send(orjson.dumps(join))
    await asyncio.wait_for(welcomed.wait(), LANDED_TIMEOUT)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/workshops/{workshop_id}/import",
        data=body,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "text/csv"},
        method="POST",
    )
    started = time.monotonic()
    reply = await asyncio.to_thread(_post, request)
    answered = time.monotonic() - started
    target = int(reply["seq"])
    if seen >= target:
        landed.set()
    await asyncio.wait_for(landed.wait(), LANDED_TIMEOUT)
    on_socket = time.monotonic() - started
    client.close()
    await asyncio.wait_for(client.lost, 10)
    return {"added": reply["added"], "refused": len(reply.get("refused", [])),
            "answered_s": round(answered, 3), "landed_s": round(on_socket, 3)}  # fmt: skip


def _post(request: urllib.request.Request) -> Any:
    with urllib.request.urlopen(request, timeout=60) as response:
        return orjson.loads(response.read())


def run_import(spec: ImportSpec) -> dict[str, Any]:
    """Import ``spec.rows`` findings into a fresh workshop of a fresh server."""
    body = diagnostic_csv(spec.rows)
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as tmp:
        server = start_server(Path(tmp))
        try:
            workshop = new_workshop(server.port, "Banc import")
            before = server.usage()
            figures = asyncio.run(_import_once(server.port, workshop.id, workshop.facilitator,
                                               body))  # fmt: skip
            after = server.usage()
        finally:
            server.stop()
    return {**asdict(spec), "bytes": len(body), **figures,
            "server_cpu_s": round(after.cpu - before.cpu, 3)}  # fmt: skip
