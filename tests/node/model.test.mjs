// Replays the event streams recorded from a real server (tests/streams/, written by
// tests/test_streams.py) against web/model.js: for each client, the board that model.js
// builds from the frames that client received must equal the server's own view for that
// client. Plain node:test, no dependency: `node --test tests/node/`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { applyFrame, boardFromState, emptyBoard, stateOf, viewOf } from "../../web/model.js";

const STREAMS = join(dirname(fileURLToPath(import.meta.url)), "..", "streams");
const files = readdirSync(STREAMS).filter((name) => name.endsWith(".json")).sort();

/** The server's view without what no event carries (contributors) or what may lag (seq). */
function comparable(view) {
  const { seq, contributors, ...rest } = view;
  return rest;
}

function replay(frames) {
  let board = emptyBoard();
  for (const frame of frames) board = applyFrame(board, frame);
  return board;
}

test("there are recorded streams to replay", () => {
  assert.ok(files.length >= 3, `only ${files.length} stream files in ${STREAMS}`);
});

for (const file of files) {
  const recording = JSON.parse(readFileSync(join(STREAMS, file), "utf8"));
  for (const [client, stream] of Object.entries(recording)) {
    test(`${file}: ${client} (${stream.role}) ends with the server's view`, () => {
      const board = replay(stream.frames);
      assert.deepEqual(comparable(viewOf(board, stream.role)), comparable(stream.final));
    });

    test(`${file}: ${client} keeps the same board through the copy kept in localStorage`, () => {
      const board = replay(stream.frames);
      const kept = boardFromState(JSON.parse(JSON.stringify(stateOf(board))));
      assert.deepEqual(viewOf(kept, stream.role), viewOf(board, stream.role));
    });

    test(`${file}: ${client} marks private exactly the notes the server's view marks`, () => {
      const board = replay(stream.frames);
      const mine = [...board.notes.values()].filter((n) => !n.deleted && n.private).map((n) => n.id).sort();
      const theirs = stream.final.notes.filter((n) => n.private).map((n) => n.id).sort();
      assert.deepEqual(mine, theirs);
    });
  }
}

test("a note.add during silent writing is public unless its event says private", () => {
  let board = emptyBoard();
  board = applyFrame(board, { type: "event", seq: 1, op: { kind: "tools.set", tools: { silent: true, voting: false, budget: 3, revealed: false }, new_round: false } });
  const add = { kind: "note.add", text: "t", author: "A", colour: "yellow", ambitions: [], column: null, pos: "a0" };
  board = applyFrame(board, { type: "event", seq: 2, op: { ...add, id: "imported" } });
  board = applyFrame(board, { type: "event", seq: 3, op: { ...add, id: "mine", pos: "a1", private: true } });
  assert.equal(board.notes.get("imported").private, false);
  assert.equal(board.notes.get("mine").private, true);
});

test("a welcome's state decides privacy alone: nothing is carried over from the board before", () => {
  const note = { id: "n1", text: "t", author: "A", colour: "yellow", ambitions: [], column: null, pos: "a0" };
  const before = boardFromState({ seq: 4, columns: [], notes: [{ ...note, private: true }] });
  const after = applyFrame(before, { type: "welcome", seq: 9, state: { seq: 9, columns: [], notes: [note] } });
  assert.equal(after.notes.get("n1").private, false);
  assert.equal(after.seq, 9);
});

test("an event already applied (seq not past the board's) is skipped", () => {
  let board = emptyBoard();
  const add = { kind: "column.add", id: "c1", title: "A", pos: "a0" };
  board = applyFrame(board, { type: "event", seq: 1, op: add });
  board = applyFrame(board, { type: "event", seq: 1, op: { kind: "column.rename", id: "c1", title: "B" } });
  assert.equal(board.columns.get("c1").title, "A");
});
