"""Presence on a real server: drags are relayed at a bounded pace with their last state,
never from an observer, never of a note the board does not have."""

import asyncio
from typing import Any

from .support import Client, ServerProcess


def drags(client: Client) -> list[dict[str, Any]]:
    return [f for f in client.frames if f["type"] == "drag"]


async def test_a_drag_flood_reaches_the_room_bounded_and_ends_let_go(server: ServerProcess) -> None:
    """A participant sending 1,000 drag frames as fast as it can: the others get at most
    one every 50 ms, and the last one says the note was let go."""
    workshop = server.create_workshop()
    keys = workshop["secrets"]
    ana = Client(server.ws_base, workshop["id"], keys["participant"], name="Ana")
    bob = Client(server.ws_base, workshop["id"], keys["participant"], name="Bob")
    await ana.connect()
    await bob.connect()
    await ana.op({"kind": "note.add", "id": "n1", "text": "Peu de liens"})
    started = asyncio.get_running_loop().time()
    for n in range(1000):
        await ana.send_frame({"type": "drag", "note": "n1" if n % 2 == 0 else None})
    await ana.send_frame({"type": "drag", "note": None})
    await bob.wait_for(lambda: bool(drags(bob)) and drags(bob)[-1]["note"] is None,
                       what="the note let go")  # fmt: skip
    # the server may still be reading the flood after the last send returns: the window in
    # which it relays is bounded by Bob seeing the let go, not by Ana's last send
    took = asyncio.get_running_loop().time() - started
    await ana.op({"kind": "note.edit", "id": "n1", "text": "Peu de liens entre acteurs"})
    await bob.wait_for(lambda: bob.board["notes"]["n1"]["text"].endswith("acteurs"))
    assert len(drags(bob)) <= took / 0.05 + 2 < 1000
    await ana.close()
    await bob.close()


async def test_observers_cannot_drag_and_ghost_notes_are_not_relayed(
    server: ServerProcess,
) -> None:
    """An observer's drag is refused with a code; a drag of a note that is not on the board
    reaches nobody."""
    workshop = server.create_workshop()
    keys = workshop["secrets"]
    olga = Client(server.ws_base, workshop["id"], keys["observer"], name="Olga")
    ana = Client(server.ws_base, workshop["id"], keys["participant"], name="Ana")
    bob = Client(server.ws_base, workshop["id"], keys["participant"], name="Bob")
    for c in (olga, ana, bob):
        await c.connect()
    await olga.send_frame({"type": "drag", "note": None})
    await olga.wait_for(lambda: any(f["type"] == "error" for f in olga.frames))
    assert [f["code"] for f in olga.frames if f["type"] == "error"] == ["forbidden"]
    await ana.send_frame({"type": "drag", "note": "ghost"})
    await ana.op({"kind": "note.add", "id": "n1", "text": "Un constat"})
    await bob.wait_for(lambda: "n1" in bob.board["notes"])  # after the drag, on one socket
    assert not drags(bob)
    for c in (olga, ana, bob):
        await c.close()
