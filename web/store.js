// What this browser remembers in localStorage: who it is, its unacknowledged ops,
// its drafts, its preferences and the last board it saw. Every access survives a
// storage that is full or blocked (private mode): the page then only forgets sooner.

const PREFIX = "atelier.";

function read(key) {
  try {
    const raw = localStorage.getItem(PREFIX + key);
    return raw === null ? null : JSON.parse(raw);
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    if (value === null || value === undefined) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    // full or blocked: the value lives in memory only
  }
}

function keysUnder(prefix) {
  const found = [];
  try {
    for (let i = 0; i < localStorage.length; i += 1) {
      const key = localStorage.key(i);
      if (key?.startsWith(PREFIX + prefix)) found.push(key.slice(PREFIX.length));
    }
  } catch {
    // nothing to list
  }
  return found;
}

function randomId(bytes) {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return [...raw].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const TAB_CLIENT = "atelier.tab-client";
const ALIVE_EVERY = 5000; // ms between two "this client id is in use" marks
// ms without a mark: the tab that used the id crashed. (Background tabs may run their timers
// once a minute only; a tab that closes normally frees its id at once, on pagehide.)
const STALE_AFTER = 150000;
const CLIENTS_KEPT = 20;
let tabClient = null;

function sessionId() {
  try {
    return sessionStorage.getItem(TAB_CLIENT);
  } catch {
    return null;
  }
}

/**
 * This tab's client id, so the server can dedupe its retries. Ids live in localStorage
 * and each is used by one tab at a time: two tabs sharing one would interleave their op
 * ids, which the server takes as retries. A tab keeps its id over reloads (sessionStorage);
 * a new tab adopts an id no live tab marks as used (with the outbox it left behind, so a
 * tab closed while offline still gets its edits sent), or makes a new one.
 */
export function clientId() {
  if (tabClient) return tabClient;
  let id = sessionId();
  if (!id || !/^[A-Za-z0-9_-]{1,40}$/.test(id)) {
    const now = Date.now();
    const known = read("clients") ?? [];
    id = known.find((c) => now - (Number(read(`alive.${c}`)) || 0) > STALE_AFTER);
    if (!id) {
      id = `b${randomId(12)}`;
      write("clients", [...known, id].slice(-CLIENTS_KEPT));
    }
    try {
      sessionStorage.setItem(TAB_CLIENT, id);
    } catch {
      // a new id on each reload then: the outbox keys still carry the old one
    }
  }
  tabClient = id;
  const mark = () => write(`alive.${id}`, Date.now());
  mark();
  setInterval(mark, ALIVE_EVERY);
  addEventListener("pageshow", mark); // back from the back-forward cache
  addEventListener("pagehide", () => write(`alive.${id}`, 0)); // closed: free for the next tab
  return id;
}

/** The next op id of this tab's client. Kept across reloads: a reused one would be a retry. */
export function nextCop() {
  const key = `cop.${clientId()}`;
  const cop = (Number(read(key)) || 0) + 1;
  write(key, cop);
  return cop;
}

/** A fresh id for a new note or column (unguessable enough not to collide with others). */
export function newId(kind) {
  return `${kind}${randomId(8)}`;
}

/** This tab's client's unacknowledged ops in one workshop, in the order they were made. */
export function loadOutbox(workshop) {
  const entries = [];
  for (const key of keysUnder(`op.${workshop}.${clientId()}.`)) {
    const entry = read(key);
    if (entry && Number.isInteger(entry.cop) && entry.op) entries.push(entry);
  }
  return entries.sort((a, b) => a.cop - b.cop);
}

/** Keep one op until the server acknowledges it (one key per op, so a write is small). */
export function saveOp(workshop, entry) {
  write(`op.${workshop}.${clientId()}.${entry.cop}`, entry);
}

/** Forget an op the server acknowledged or refused. */
export function dropOp(workshop, cop) {
  write(`op.${workshop}.${clientId()}.${cop}`, null);
}

/** A draft typed in a note or a composer, so a reload mid-edit loses nothing. */
export function loadDraft(workshop, subject) {
  return read(`draft.${workshop}.${subject}`);
}

/** Save or (with null) clear a draft. */
export function saveDraft(workshop, subject, value) {
  write(`draft.${workshop}.${subject}`, value);
}

/** The subjects that have a draft in this workshop. */
export function draftSubjects(workshop) {
  return keysUnder(`draft.${workshop}.`).map((k) => k.slice(`draft.${workshop}.`.length));
}

/** A remembered preference (pseudonym, view). */
export function pref(name, fallback) {
  return read(`pref.${name}`) ?? fallback;
}

/** Remember a preference. */
export function setPref(name, value) {
  write(`pref.${name}`, value);
}

/** The last board state seen, so a reload offline still shows the board. */
export function loadBoard(workshop) {
  return read(`board.${workshop}`);
}

/** Save the board state the server last confirmed (seq + notes + columns). */
export function saveBoard(workshop, state) {
  write(`board.${workshop}`, state);
}

/** The workshop's title and territory, as last read from the server. */
export function loadMeta(workshop) {
  return read(`meta.${workshop}`);
}

/** Remember the workshop's title and territory. */
export function saveMeta(workshop, meta) {
  write(`meta.${workshop}`, meta);
}
