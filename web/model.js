// The board as plain data, and the pure functions that change it: no DOM, no I/O.
//
// Two kinds of change reach a board. Server events are resolved (they carry the
// position the server chose, and say when a note is private to this browser) and apply
// without deciding anything: applyFrame() takes the server's frames, applyEvent() one
// event. Intents are this browser's own unacknowledged ops: applyIntent() guesses their
// outcome, the way the server's reducer would, so the page can show them at once; the
// server's event replaces the guess when it comes. What nobody but the server knows (is
// this note private? how many votes are left?) is never guessed: a pending note shows as
// pending, and its privacy arrives with its event. Note and column objects are never
// mutated, only replaced, so the DOM layer can spot changes by identity.
//
// The same functions replay the event streams recorded from a real server
// (tests/streams/, tests/node/): viewOf() must then equal the server's view.

import {
  COUNCIL_KINDS, FINDING_FIELDS, applyCouncilEvent, councilFromState, councilState, councilView,
  eraseInCouncil, orientationParts, orientationView,
} from "./council.js";

export const COLOURS = ["yellow", "pink", "blue", "green", "orange", "purple"];
export const AMBITIONS = ["ancrage", "transition", "travail", "consommation"];

const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A position key strictly between a and b (null: the start or the end), for local guesses. */
export function keyBetween(a, b) {
  const low = a ?? "";
  let high = b;
  let out = "";
  for (let i = 0; ; i += 1) {
    const lo = i < low.length ? DIGITS.indexOf(low[i]) : 0;
    const hi = high !== null && i < high.length ? DIGITS.indexOf(high[i]) : DIGITS.length;
    if (lo === hi) {
      out += DIGITS[lo]; // still on the common prefix
      continue;
    }
    const mid = Math.floor((lo + hi) / 2);
    if (mid > lo) return out + DIGITS[mid];
    // the digits are neighbours: keep low's digit, then anything above the rest of low
    out += DIGITS[lo];
    high = null;
  }
}

/** Board order: by position key, then id, exactly as the server sorts. */
export function byPos(x, y) {
  if (x.pos !== y.pos) return x.pos < y.pos ? -1 : 1;
  if (x.id !== y.id) return x.id < y.id ? -1 : 1;
  return 0;
}

/**
 * An empty board. Besides notes and columns, it keeps the workshop's flow as the server
 * reports it: phase, tools, timer, freeze, this browser's own ballot (mine, left), the
 * revealed vote counts and the action ideas. A column carries its statement and lock.
 */
export function emptyBoard() {
  return {
    seq: 0, notes: new Map(), columns: new Map(), ideas: new Map(), council: null,
    flow: {
      phase: 1, tools: null, timer: null, frozen: null, mine: {}, left: null, counts: null,
      contributors: 0, firstPhase: undefined, silentWaiting: undefined,
    },
  };
}

/** A board from the server's state (welcome or reset frame, or the copy kept here). */
export function boardFromState(state) {
  const board = emptyBoard();
  board.seq = state.seq;
  const orientations = new Map((state.orientations ?? []).map((o) => [o.id, o]));
  for (const c of state.columns) {
    const extra = orientations.get(c.id) ?? {};
    board.columns.set(c.id, {
      deleted: false, statement: "", locked: false, ...c,
      ...("statement" in extra ? { statement: extra.statement, locked: extra.locked } : {}),
      ...orientationParts(extra),
    });
  }
  board.council = councilFromState(state);
  // a note is private when the server's view says so (only its author's view holds it)
  for (const n of state.notes) board.notes.set(n.id, { deleted: false, ...n, private: n.private === true });
  for (const i of state.ideas ?? []) board.ideas.set(i.id, { deleted: false, ...i });
  const votes = state.votes ?? {};
  board.flow = {
    phase: state.phase ?? 1, tools: state.tools ?? null, timer: state.timer ?? null,
    focus: state.focus ?? null, frozen: state.frozen ?? null, mine: votes.mine ?? {}, left: votes.left ?? null,
    counts: votes.counts ?? null, contributors: state.contributors ?? 0,
    // a server before issue 10 sends neither: they stay unknown rather than guessed
    firstPhase: state.first_phase, silentWaiting: state.silent_waiting,
  };
  return board;
}

/** The board as JSON-ready state, tombstones included (to keep it in localStorage). */
export function stateOf(board) {
  const { phase, tools, timer, focus, frozen, mine, left, counts, contributors, firstPhase, silentWaiting } = board.flow;
  return {
    seq: board.seq, phase, tools, timer, focus, frozen, contributors,
    first_phase: firstPhase, silent_waiting: silentWaiting,
    votes: { counts, mine, left }, columns: [...board.columns.values()],
    notes: [...board.notes.values()], ideas: [...board.ideas.values()], ...councilState(board),
  };
}

/** A copy that shares the note and column objects (they are never mutated). */
export function copyBoard(board) {
  return {
    seq: board.seq, notes: new Map(board.notes), columns: new Map(board.columns),
    ideas: board.ideas, flow: board.flow, council: board.council,
  };
}

/** The live notes of one column (null: the pool), in board order. */
export function liveNotes(board, column) {
  const found = [];
  for (const note of board.notes.values()) {
    if (!note.deleted && note.column === column) found.push(note);
  }
  return found.sort(byPos);
}

/** The live columns, left to right. */
export function liveColumns(board) {
  return [...board.columns.values()].filter((c) => !c.deleted).sort(byPos);
}

function fullNote(ev) {
  const { id, text, author, colour, ambitions, column, pos } = ev;
  // the event says whether only this browser sees the note: never inferred from the tools
  const note = { id, text, author, colour, ambitions, column, pos, deleted: false, private: ev.private === true };
  for (const key of FINDING_FIELDS) if (ev[key]) note[key] = ev[key]; // the diagnostic's, when set
  if (ev.imported) note.imported = true;
  return note;
}

function ideaOf(ev) {
  const idea = { id: ev.id, column: ev.column ?? null, text: ev.text, author: ev.author, deleted: false };
  if (ev.imported) idea.imported = true;
  return idea;
}

/** Apply one resolved server event to the board. */
export function applyEvent(board, ev) {
  const { notes, columns } = board;
  switch (ev.kind) {
    case "note.add":
    case "note.restore":
      notes.set(ev.id, fullNote(ev));
      if (ev.silent_waiting !== undefined) setFlow(board, waiting(ev)); // the author's own count
      break;
    case "note.edit": {
      const note = notes.get(ev.id);
      if (!note) break;
      const next = { ...note };
      for (const key of ["text", "colour", "ambitions"]) if (key in ev) next[key] = ev[key];
      for (const key of FINDING_FIELDS) {
        if (!(key in ev)) continue;
        if (ev[key]) next[key] = ev[key];
        else delete next[key]; // '' clears it: a view then leaves it out
      }
      notes.set(ev.id, next);
      break;
    }
    case "note.move": {
      const note = notes.get(ev.id);
      if (note) notes.set(ev.id, { ...note, column: ev.column, pos: ev.pos });
      break;
    }
    case "note.delete": {
      const note = notes.get(ev.id);
      if (note) notes.set(ev.id, { ...note, deleted: true }); // kept, so undo can show it again
      if (ev.silent_waiting !== undefined) setFlow(board, waiting(ev));
      break;
    }
    case "column.add":
      columns.set(ev.id, { id: ev.id, title: ev.title, pos: ev.pos, deleted: false, statement: "", locked: false });
      break;
    case "column.rename": {
      const column = columns.get(ev.id);
      if (column) columns.set(ev.id, { ...column, title: ev.title });
      break;
    }
    case "column.move": {
      const column = columns.get(ev.id);
      if (column) columns.set(ev.id, { ...column, pos: ev.pos });
      break;
    }
    case "column.delete": {
      const column = columns.get(ev.id);
      if (column) columns.set(ev.id, { ...column, deleted: true });
      if (board.flow.focus === ev.id) setFlow(board, { focus: null }); // as the server does
      for (const moved of ev.notes) {
        const note = notes.get(moved.id);
        if (note) notes.set(moved.id, { ...note, column: null, pos: moved.pos });
      }
      if (ev.ideas?.length) { // its ideas wait under no orientation
        board.ideas = new Map(board.ideas);
        for (const id of ev.ideas) {
          const idea = board.ideas.get(id);
          if (idea) board.ideas.set(id, { ...idea, column: null });
        }
      }
      break;
    }
    default:
      if (COUNCIL_KINDS.has(ev.kind)) applyCouncilEvent(board, ev);
      else applyFlowEvent(board, ev);
  }
}

function setFlow(board, change) {
  board.flow = { ...board.flow, ...change };
}

/** Votes left of a ballot under a budget: the server's own definition of `left`. */
function votesLeft(mine, budget) {
  const used = Object.values(mine ?? {}).reduce((sum, n) => sum + n, 0);
  return Math.max(0, budget - used);
}

/** The count of waiting silent notes an event carries, as a flow change (or none). */
function waiting(ev) {
  return ev.silent_waiting === undefined ? {} : { silentWaiting: ev.silent_waiting };
}

/** The workshop-flow events: kept in the board's data, so nothing is lost or misapplied. */
function applyFlowEvent(board, ev) {
  switch (ev.kind) {
    case "column.state":
    case "column.lock":
    case "column.unlock": {
      const column = board.columns.get(ev.id);
      if (!column) break;
      const change = ev.kind === "column.state" ? { statement: ev.statement } : { locked: ev.kind === "column.lock" };
      board.columns.set(ev.id, { ...column, ...change });
      break;
    }
    case "idea.add":
      board.ideas = new Map(board.ideas).set(ev.id, ideaOf(ev));
      break;
    case "idea.move": {
      const idea = board.ideas.get(ev.id);
      if (idea) board.ideas = new Map(board.ideas).set(ev.id, { ...idea, column: ev.column });
      break;
    }
    case "idea.delete": {
      const idea = board.ideas.get(ev.id);
      if (idea) board.ideas = new Map(board.ideas).set(ev.id, { ...idea, deleted: true });
      break;
    }
    case "vote.add":
    case "vote.remove":
      setFlow(board, { mine: ev.mine, left: ev.left });
      break;
    case "phase.next":
      setFlow(board, { phase: ev.phase });
      break;
    case "snapshot.take":
      break;
    case "tools.set":
      // turning silent writing off shows what it hid, in this event (as public note.adds)
      for (const note of ev.notes ?? []) board.notes.set(note.id, fullNote(note));
      setFlow(board, {
        tools: ev.tools,
        counts: ev.tools.revealed ? board.flow.counts : null, // counts hide while votes change
        left: votesLeft(board.flow.mine, ev.tools.budget), // the budget may have changed
        ...waiting(ev),
      });
      break;
    case "vote.round": // a new round: every ballot cleared, the vote open
      setFlow(board, { tools: ev.tools, mine: {}, left: ev.tools.budget, counts: null });
      break;
    case "votes.reveal":
      setFlow(board, { tools: ev.tools, counts: ev.counts });
      break;
    case "notes.reveal":
      for (const note of ev.notes) board.notes.set(note.id, fullNote(note));
      setFlow(board, waiting(ev));
      break;
    case "silent.waiting": // how many silent notes wait, never what they say
      setFlow(board, waiting(ev));
      break;
    case "timer.start":
      setFlow(board, { timer: ev.ends_at });
      break;
    case "timer.stop":
      setFlow(board, { timer: null });
      break;
    case "focus": // the orientation the facilitator points the wall at
      setFlow(board, { focus: ev.column });
      break;
    case "reveal":
    case "freeze":
      // the event lists the notes it makes everyone's, each as a public note.add
      for (const note of ev.notes) board.notes.set(note.id, fullNote(note));
      setFlow(board, { tools: ev.tools, counts: ev.counts, ...waiting(ev) });
      if (ev.kind === "freeze") setFlow(board, { frozen: { seq: ev.seq, at: ev.at, by: ev.by, hash: ev.hash }, timer: null });
      break;
    case "participant.erase": {
      // the event lists what is signed anonymously now; the name itself never travels back
      for (const id of ev.notes) {
        const note = board.notes.get(id);
        if (note) board.notes.set(id, { ...note, author: ev.replacement });
      }
      const ideas = new Map(board.ideas);
      for (const id of ev.ideas) {
        const idea = ideas.get(id);
        if (idea) ideas.set(id, { ...idea, author: ev.replacement });
      }
      board.ideas = ideas;
      eraseInCouncil(board, ev);
      break;
    }
    default:
      throw new Error(`Unexpected event kind ${ev.kind}`);
  }
}

function posAt(ordered, index) {
  if (index === undefined || index === null || index >= ordered.length) {
    return keyBetween(ordered.length ? ordered[ordered.length - 1].pos : null, null);
  }
  return keyBetween(index > 0 ? ordered[index - 1].pos : null, ordered[index].pos);
}

function liveNote(board, id) {
  const note = board.notes.get(id);
  return note && !note.deleted ? note : null;
}

function columnExists(board, id) {
  if (id === null || id === undefined) return true;
  const column = board.columns.get(id);
  return Boolean(column && !column.deleted);
}

/**
 * Guess the outcome of this browser's own op; false when the server will refuse it.
 * `ballot` (vote ops only) is the count on the op's orientation once it applies, as
 * ballotAfter() gave it when the op was made.
 */
export function applyIntent(board, op, author, ballot = undefined) {
  const { notes, columns } = board;
  switch (op.kind) {
    case "note.add": {
      const column = op.column ?? null;
      if (notes.has(op.id) || !columnExists(board, column)) return false;
      notes.set(op.id, {
        id: op.id, text: op.text, author, colour: op.colour ?? "yellow",
        ambitions: op.ambitions ?? [], column, pos: posAt(liveNotes(board, column), op.index),
        deleted: false, private: false, // the server's event says whether it is private
      });
      return true;
    }
    case "note.edit": {
      const note = liveNote(board, op.id);
      if (!note) return false;
      const next = { ...note };
      for (const key of ["text", "colour", "ambitions"]) if (key in op) next[key] = op[key];
      for (const key of FINDING_FIELDS) {
        if (!(key in op)) continue;
        if (op[key]) next[key] = op[key];
        else delete next[key]; // '' or null clears it, as on the server
      }
      notes.set(op.id, next);
      return true;
    }
    case "note.move": {
      const note = liveNote(board, op.id);
      if (!note || !columnExists(board, op.column)) return false;
      const others = liveNotes(board, op.column).filter((n) => n.id !== op.id);
      notes.set(op.id, { ...note, column: op.column, pos: posAt(others, op.index) });
      return true;
    }
    case "note.delete": {
      const note = liveNote(board, op.id);
      if (!note) return false;
      notes.set(op.id, { ...note, deleted: true });
      return true;
    }
    case "note.restore": {
      const note = notes.get(op.id);
      if (!note || !note.deleted) return false;
      const column = columnExists(board, note.column) ? note.column : null;
      const pos = posAt(liveNotes(board, column), null);
      notes.set(op.id, { ...note, column, pos, deleted: false });
      return true;
    }
    case "column.add":
      if (columns.has(op.id)) return false;
      columns.set(op.id, {
        id: op.id, title: op.title, pos: posAt(liveColumns(board), op.index), deleted: false,
        statement: "", locked: false,
      });
      return true;
    case "column.rename": {
      const column = columns.get(op.id);
      if (!column || column.deleted) return false;
      columns.set(op.id, { ...column, title: op.title });
      return true;
    }
    case "column.move": {
      const column = columns.get(op.id);
      if (!column || column.deleted) return false;
      const others = liveColumns(board).filter((c) => c.id !== op.id);
      columns.set(op.id, { ...column, pos: posAt(others, op.index) });
      return true;
    }
    case "column.delete": {
      const column = columns.get(op.id);
      if (!column || column.deleted) return false;
      let last = liveNotes(board, null).at(-1)?.pos ?? null;
      for (const note of liveNotes(board, op.id)) {
        last = keyBetween(last, null);
        notes.set(note.id, { ...note, column: null, pos: last });
      }
      columns.set(op.id, { ...column, deleted: true });
      return true;
    }
    default:
      return applyFlowIntent(board, op, author, ballot);
  }
}

/** The voter's count on a vote op's orientation once the op applies to this board. */
export function ballotAfter(board, op) {
  const had = board.flow.mine?.[op.column] ?? 0;
  return Math.max(0, had + (op.kind === "vote.add" ? 1 : -1));
}

/** Guess the outcome of a flow op; the facilitator's ones wait for the server's word. */
function applyFlowIntent(board, op, author, ballot) {
  switch (op.kind) {
    case "column.state": {
      const column = board.columns.get(op.id);
      if (!column || column.deleted || column.locked) return false;
      board.columns.set(op.id, { ...column, statement: op.statement });
      return true;
    }
    case "idea.add":
      if (board.ideas.has(op.id) || !columnExists(board, op.column)) return false;
      board.ideas = new Map(board.ideas).set(op.id, { id: op.id, column: op.column, text: op.text, author, deleted: false });
      return true;
    case "idea.delete": {
      const idea = board.ideas.get(op.id);
      if (!idea || idea.deleted) return false;
      board.ideas = new Map(board.ideas).set(op.id, { ...idea, deleted: true });
      return true;
    }
    case "idea.move": {
      const idea = board.ideas.get(op.id);
      if (!idea || idea.deleted || !columnExists(board, op.column)) return false;
      board.ideas = new Map(board.ideas).set(op.id, { ...idea, column: op.column });
      return true;
    }
    case "vote.add":
    case "vote.remove": {
      // A vote is counted, not placed: its guess must not count it twice. The server
      // sends the voter's event before the ack, so for a moment the server's ballot
      // already holds the op that the outbox still holds too (and « + Voter » turned
      // disabled under a second click, which was lost). The op's ballot (the count on
      // that orientation once it applies, as the voter saw it when clicking) makes the
      // guess idempotent: a ballot the server already reached is left as it is.
      const { mine, left } = board.flow;
      const had = mine[op.column] ?? 0;
      const step = op.kind === "vote.add" ? 1 : -1;
      const wanted = ballot ?? had + step;
      if (step > 0 ? had >= wanted : had <= wanted) return true; // the server has it already
      if (!board.flow.tools?.voting || (step > 0 && !left) || (step < 0 && !had)) return false;
      const next = { ...mine, [op.column]: wanted };
      if (!next[op.column]) delete next[op.column];
      setFlow(board, { mine: next, left: left - (wanted - had) });
      return true;
    }
    case "column.lock":
    case "column.unlock":
    case "phase.next":
    case "snapshot.take":
    case "tools.set":
    case "reveal":
    case "notes.reveal":
    case "votes.reveal":
    case "vote.round":
    case "timer.start":
    case "timer.stop":
    case "focus":
    case "freeze":
    case "participant.erase":
      return true; // nothing guessed: the facilitator's screen follows the server
    default:
      if (COUNCIL_KINDS.has(op.kind)) return true; // the record follows the server too
      throw new Error(`Unexpected op kind ${op.kind}`);
  }
}

/** Which note, column or idea an op is about, to mark it pending or saved. */
export function subjectOf(op) {
  if (op.kind.startsWith("note.")) return `n:${op.id}`;
  if (op.kind.startsWith("vote.")) return `v:${op.column}`;
  if (op.kind.startsWith("idea.")) return `i:${op.id}`;
  return op.id ? `c:${op.id}` : `f:${op.kind}`;
}

/**
 * Apply one server frame that carries the board (welcome, event, reset) and return the
 * board to keep: the same object, changed in place, or a new one from a full state.
 * Other frames leave it as it is. An event this board already holds (its seq is not
 * past the board's) is skipped: a welcome's catch-up may overlap what was applied.
 */
export function applyFrame(board, msg) {
  switch (msg.type) {
    case "welcome": {
      const next = msg.state ? boardFromState(msg.state) : board;
      for (const frame of msg.events ?? []) {
        if (frame.seq > next.seq) applyEvent(next, frame.op);
      }
      next.seq = msg.seq;
      return next;
    }
    case "event":
      if (msg.seq <= board.seq) return board;
      applyEvent(board, msg.op);
      board.seq = msg.seq;
      return board;
    case "reset": {
      const next = boardFromState(msg.state);
      next.seq = msg.seq;
      return next;
    }
    default:
      return board;
  }
}

function noteView(note) {
  const { id, text, author, colour, ambitions, column, pos } = note;
  const view = { id, text, author, colour, ambitions, column, pos };
  for (const key of FINDING_FIELDS) if (note[key]) view[key] = note[key];
  if (note.imported) view.imported = true;
  if (note.private) view.private = true;
  return view;
}

function ideaView({ id, column, text, author, imported }) {
  return imported ? { id, column, text, author, imported } : { id, column, text, author };
}

const byColumnThenId = (x, y) => {
  const a = x.column ?? "";
  const b = y.column ?? "";
  if (a !== b) return a < b ? -1 : 1;
  return x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
};

/**
 * The board as the server's view for this reader shows it (GET /api/workshops/ID, or a
 * welcome's state): live items only, in the server's order. `role` decides whether the
 * reader has a ballot (observers have none). Only `contributors` is left out: no event
 * carries it, so a board kept up by events holds the count of its last full state.
 */
export function viewOf(board, role) {
  const columns = liveColumns(board);
  const live = new Set(columns.map((c) => c.id));
  const notes = [...board.notes.values()].filter((n) => !n.deleted).sort((x, y) => {
    const a = x.column ?? "";
    const b = y.column ?? "";
    if (a !== b) return a < b ? -1 : 1;
    return byPos(x, y);
  });
  // an idea under a deleted orientation is not shown (boards stored before such ideas
  // moved under none); one under no orientation is
  const ideas = [...board.ideas.values()]
    .filter((i) => !i.deleted && (i.column === null || live.has(i.column)))
    .sort(byColumnThenId);
  const { phase, tools, timer, focus, frozen, mine, left, counts, firstPhase, silentWaiting } = board.flow;
  const votes = { counts };
  if (role !== "observer") Object.assign(votes, { mine, left });
  const known = {}; // what a server before issue 10 does not say is left out, as it leaves it
  if (firstPhase !== undefined) known.first_phase = firstPhase;
  if (silentWaiting !== undefined) known.silent_waiting = silentWaiting;
  return {
    seq: board.seq, phase, ...known,
    columns: columns.map(({ id, title, pos }) => ({ id, title, pos })),
    notes: notes.map(noteView),
    orientations: columns.map((c) => ({
      id: c.id, statement: c.statement, locked: c.locked, ...orientationView(board, c),
    })),
    ideas: ideas.map(ideaView),
    tools, timer, focus: focus ?? null, frozen: frozen && { seq: frozen.seq, at: frozen.at, by: frozen.by },
    votes, ...councilView(board),
  };
}
