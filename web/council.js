// The co-decision record as plain data (issue 11): « le cap du territoire », the meeting,
// the collèges and the members present, the facilitator's answers to the method's points
// of vigilance, and per orientation the framework documents it feeds, its decision and the
// objections raised. Pure, no DOM: model.js keeps it in board.council (replaced, never
// mutated) and the per-orientation parts in each column, from what views and events say.
//
// A server before issue 11 sends none of it: board.council is then null and views leave
// it out, as that server does.

/** The event kinds of the record (besides the fields they add to notes, ideas, columns). */
export const COUNCIL_KINDS = new Set([
  "column.documents", "cap.set", "colleges.set", "member.set", "member.remove",
  "objection.add", "objection.answer", "objection.delete", "decision.set",
  "vigilance.answer", "meeting.set",
]);

/** A finding's optional fields from the diagnostic, kept only when set (as views do). */
export const FINDING_FIELDS = ["type", "theme", "source", "indicator"];

/** The record's parts of a view or a kept state (null: the server has none). */
export function councilFromState(state) {
  if (state.cap === undefined) return null;
  const objections = new Map();
  for (const o of state.orientations ?? []) {
    for (const x of o.objections ?? []) objections.set(x.id, { ...x, column: o.id });
  }
  for (const x of state.objections ?? []) objections.set(x.id, x); // a kept copy's tombstones
  return {
    cap: state.cap, meeting: state.meeting, colleges: state.colleges,
    members: new Map((state.members ?? []).map((m) => [m.id, m])), answers: state.answers,
    objections,
  };
}

/** An orientation's record parts, from a view's `orientations` entry (empty if none). */
export function orientationParts(orientation) {
  if (!orientation || !("documents" in orientation)) return {};
  const { documents, others, decision } = orientation;
  return { documents, others, decision };
}

function setCouncil(board, change) {
  board.council = { ...board.council, ...change };
}

function withColumn(board, id, change) {
  const column = board.columns.get(id);
  if (column) board.columns.set(id, { ...column, ...change });
}

function objectionsWith(board, id, change) {
  const objections = new Map(board.council.objections);
  const objection = objections.get(id);
  if (change === null) objections.delete(id);
  else if (objection) objections.set(id, { ...objection, ...change });
  return objections;
}

/** Apply one of COUNCIL_KINDS to the board. */
export function applyCouncilEvent(board, ev) {
  switch (ev.kind) {
    case "column.documents":
      withColumn(board, ev.id, { documents: ev.documents, others: ev.others });
      break;
    case "decision.set":
      withColumn(board, ev.column, { decision: ev.decision });
      break;
    case "cap.set":
      setCouncil(board, { cap: ev.text });
      break;
    case "colleges.set":
      setCouncil(board, { colleges: ev.colleges });
      break;
    case "meeting.set":
      setCouncil(board, { meeting: ev.meeting });
      break;
    case "vigilance.answer":
      setCouncil(board, { answers: { ...board.council.answers, [ev.point]: ev.text } });
      break;
    case "member.set": { // a correction keeps the member's place in the list
      const members = new Map(board.council.members);
      members.set(ev.id, { id: ev.id, name: ev.name, college: ev.college });
      setCouncil(board, { members });
      break;
    }
    case "member.remove": {
      const members = new Map(board.council.members);
      members.delete(ev.id);
      setCouncil(board, { members });
      break;
    }
    case "objection.add": {
      const objections = new Map(board.council.objections);
      const { id, column, text, by, answer } = ev;
      objections.set(id, { id, column, text, by, answer });
      setCouncil(board, { objections });
      break;
    }
    case "objection.answer":
      setCouncil(board, { objections: objectionsWith(board, ev.id, { answer: ev.answer }) });
      break;
    case "objection.delete":
      setCouncil(board, { objections: objectionsWith(board, ev.id, null) });
      break;
    default:
      throw new Error(`Expected a record event but got ${ev.kind}`);
  }
}

/** Erasing a pseudonym re-signs the members and the objections the event lists. */
export function eraseInCouncil(board, ev) {
  if (!board.council) return;
  const members = new Map(board.council.members);
  for (const id of ev.members ?? []) {
    const member = members.get(id);
    if (member) members.set(id, { ...member, name: ev.replacement });
  }
  const objections = new Map(board.council.objections);
  for (const id of ev.objections ?? []) {
    const objection = objections.get(id);
    if (objection) objections.set(id, { ...objection, by: ev.replacement });
  }
  setCouncil(board, { members, objections });
}

function objectionView({ id, text, by, answer }) {
  return { id, text, by, answer };
}

/** An orientation's record parts as a view lists them (none for a server without). */
export function orientationView(board, column) {
  if (!board.council) return {};
  const objections = [...board.council.objections.values()].filter((o) => o.column === column.id);
  return {
    documents: column.documents ?? [], others: column.others ?? [], decision: column.decision ?? null,
    objections: objections.map(objectionView),
  };
}

/** The record's top-level parts as a view has them. */
export function councilView(board) {
  if (!board.council) return {};
  const { cap, meeting, colleges, members, answers } = board.council;
  return { cap, meeting, colleges, members: [...members.values()], answers };
}

/** The record's parts of a state to keep (objections with their column, all of them). */
export function councilState(board) {
  if (!board.council) return {};
  return { ...councilView(board), objections: [...board.council.objections.values()] };
}
