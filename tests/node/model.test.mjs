// Replays the event streams recorded from a real server (tests/streams/, written by
// tests/test_streams.py) against web/model.js: for each client, the board that model.js
// builds from the frames that client received must equal the server's own view for that
// client. Plain node:test, no dependency: `node --test tests/node/`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import {
  applyFrame, applyIntent, ballotAfter, boardFromState, copyBoard, emptyBoard, stateOf, viewOf,
} from "../../web/model.js";

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

test("a vote waiting for its ack is not counted twice once its event has come", () => {
  // the server sends the voter's event, then the ack: in between the outbox still holds
  // the op; counting it again showed 2 votes and disabled « + Voter » under a second click
  let board = emptyBoard();
  board = applyFrame(board, { type: "event", seq: 1, op: { kind: "column.add", id: "c1", title: "M", pos: "a0" } });
  const tools = { silent: false, voting: true, budget: 2, revealed: false, shaping: false };
  board = applyFrame(board, { type: "event", seq: 2, op: { kind: "tools.set", tools, notes: [], silent_waiting: 0 } });
  const op = { kind: "vote.add", column: "c1" };
  const first = ballotAfter(board, op);
  const once = copyBoard(applyFrame(copyBoard(board), { type: "event", seq: 3, op: { kind: "vote.add", column: "c1", mine: { c1: 1 }, left: 1 } }));
  applyIntent(once, op, "Ana", first); // its event came, its ack not yet: still 1 vote, 1 left
  assert.deepEqual([once.flow.mine.c1, once.flow.left], [1, 1]);
  const pending = copyBoard(board);
  applyIntent(pending, op, "Ana", first);
  const second = ballotAfter(pending, op); // clicked again before any answer
  assert.deepEqual([first, second], [1, 2]);
  const shown = (server) => {
    const view = copyBoard(server);
    for (const ballot of outbox) applyIntent(view, op, "Ana", ballot);
    return [view.flow.mine.c1 ?? 0, view.flow.left];
  };
  let outbox = [first, second];
  assert.deepEqual(shown(board), [2, 0]); // nothing answered yet: both guessed
  board = applyFrame(board, { type: "event", seq: 3, op: { kind: "vote.add", column: "c1", mine: { c1: 1 }, left: 1 } });
  assert.deepEqual(shown(board), [2, 0]); // the first one's event came, its ack not yet
  outbox = [second];
  assert.deepEqual(shown(board), [2, 0]); // its ack came
  board = applyFrame(board, { type: "event", seq: 4, op: { kind: "vote.add", column: "c1", mine: { c1: 2 }, left: 0 } });
  assert.deepEqual(shown(board), [2, 0]);
  outbox = [];
  assert.deepEqual(shown(board), [2, 0]);
});

test("a vote's guess without a ballot (an outbox kept before ballots) still counts once", () => {
  let board = emptyBoard();
  const tools = { silent: false, voting: true, budget: 3, revealed: false, shaping: false };
  board = applyFrame(board, { type: "event", seq: 1, op: { kind: "column.add", id: "c1", title: "M", pos: "a0" } });
  board = applyFrame(board, { type: "event", seq: 2, op: { kind: "tools.set", tools, notes: [], silent_waiting: 0 } });
  const view = copyBoard(board);
  assert.equal(applyIntent(view, { kind: "vote.add", column: "c1" }, "Ana"), true);
  assert.deepEqual([view.flow.mine.c1, view.flow.left], [1, 2]);
  assert.equal(applyIntent(view, { kind: "vote.remove", column: "c1" }, "Ana"), true);
  assert.deepEqual([view.flow.mine.c1, view.flow.left], [undefined, 3]);
});
