"""The shared send path read by Chromium's own WebSocket (server/transport.py)."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Browser

from .support import ServerProcess
from .test_transport import BIG_NOTES, seed_big_board

pytestmark = pytest.mark.browser


def test_chromium_reads_shared_frames_of_every_length(
    server: ServerProcess, browser: Browser
) -> None:
    """Chromium's own WebSocket decodes the shared frames: a welcome over 64 KiB, an ack
    under 126 bytes, events in between."""
    with ThreadPoolExecutor(1) as thread:  # Playwright's sync API holds this thread's loop
        workshop = thread.submit(asyncio.run, seed_big_board(server)).result()
    page = browser.new_page()
    try:
        page.goto(server.base + "/")
        got = page.evaluate(
            """async ([path, token]) => {
                const ws = new WebSocket(`ws://${location.host}${path}`);
                ws.binaryType = "arraybuffer";
                const frames = [];
                const decoder = new TextDecoder();
                const done = new Promise((resolve, reject) => {
                  ws.onerror = () => reject(new Error("socket error"));
                  ws.onmessage = (m) => {
                    const bytes = new Uint8Array(m.data);
                    const frame = JSON.parse(decoder.decode(bytes));
                    frames.push({type: frame.type, size: bytes.length,
                                 notes: frame.state ? frame.state.notes.length : null});
                    if (frame.type === "welcome") {
                      ws.send(JSON.stringify({type: "op", cop: 1,
                        op: {kind: "note.add", id: "x", text: "court"}}));
                    }
                    if (frame.type === "ack") resolve();
                  };
                });
                ws.onopen = () => ws.send(JSON.stringify(
                  {type: "join", v: 1, token, client: "chromium", name: "Chromium"}));
                await done;
                ws.close();
                return frames;
            }""",
            [f"/ws/{workshop['id']}", workshop["secrets"]["participant"]],
        )
    finally:
        page.close()
    by_type = {f["type"]: f for f in got}
    assert by_type["welcome"]["notes"] == BIG_NOTES and by_type["welcome"]["size"] >= 65536
    assert 126 <= by_type["event"]["size"] < 65536
    assert by_type["ack"]["size"] < 126
