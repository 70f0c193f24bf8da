"""The demo command: one command gives full boards from the seed's examples."""

import subprocess
import sys
from pathlib import Path

from atelier.demo import DEMOS, build_board
from atelier.rooms.vigilance import check

from .flowclient import flow_client, state
from .support import ROOT, ServerProcess


def test_demo_boards_hold_the_seed_orientations() -> None:
    """Each demo board is in phase 4 with the seed's orientations, formulated, in order."""
    for demo in DEMOS.values():
        board = build_board(demo)
        columns = board.live_columns()
        assert board.phase == 4
        assert [c.title for c in columns] == [o[0] for o in demo["orientations"]]
        assert all(c.statement for c in columns)
        codes = {c["code"] for c in check(board)}
        assert "orientation_without_finding" not in codes and "ambition_unserved" not in codes
        notes = board.to_dict()["notes"]
        assert all(n["type"] and n["imported"] and n["author"] == "Diagnostic" for n in notes)
        assert board.first_phase == 4 and not board.contributors


async def test_atelier_demo_prints_links_that_open_live_workshops(tmp_path: Path) -> None:
    """'atelier demo --data DIR' prints working links; a server on DIR serves those boards."""
    data = tmp_path / "data"
    out = subprocess.run([sys.executable, "-m", "atelier", "demo", "--data", str(data), "--base",
                          "http://example.test"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True).stdout  # fmt: skip
    links = [line.split()[-1] for line in out.splitlines() if "#k=" in line]
    assert len(links) == 3 * len(DEMOS) and all(
        x.startswith("http://example.test/w/") for x in links
    )
    server = ServerProcess(data).start()
    try:
        facilitator = links[0]
        workshop_id, secret = facilitator.split("/w/")[1].split("#k=")
        ws = {"id": workshop_id, "secrets": {"facilitator": secret, "observer": secret}}
        seen = state(server, ws)
        assert seen["phase"] == 4 and len(seen["columns"]) == 4
        assert seen["orientations"][0]["statement"].startswith("Faire de la coopération")
        fac = flow_client(server, ws, "facilitator")
        await fac.connect()
        assert (await fac.op({"kind": "note.move", "id": "p1", "column": "o1"}))["type"] == "ack"
        await fac.close()
    finally:
        server.stop()
