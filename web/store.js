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

/** This browser's client id, made once and kept, so the server can dedupe its retries. */
export function clientId() {
  let id = read("client");
  if (typeof id !== "string" || !/^[A-Za-z0-9_-]{1,40}$/.test(id)) {
    id = `b${randomId(12)}`;
    write("client", id);
  }
  return id;
}

/** The next client op id. Kept across reloads: a reused id would be taken for a retry. */
export function nextCop() {
  const stored = Number(read("cop")) || 0;
  const cop = stored + 1;
  write("cop", cop);
  return cop;
}

/** A fresh id for a new note or column (unguessable enough not to collide with others). */
export function newId(kind) {
  return `${kind}${randomId(8)}`;
}

/** The unacknowledged ops of one workshop, in the order they were made. */
export function loadOutbox(workshop) {
  const entries = [];
  for (const key of keysUnder(`op.${workshop}.`)) {
    const entry = read(key);
    if (entry && Number.isInteger(entry.cop) && entry.op) entries.push(entry);
  }
  return entries.sort((a, b) => a.cop - b.cop);
}

/** Keep one op until the server acknowledges it (one key per op: tabs never clobber). */
export function saveOp(workshop, entry) {
  write(`op.${workshop}.${entry.cop}`, entry);
}

/** Forget an op the server acknowledged or refused. */
export function dropOp(workshop, cop) {
  write(`op.${workshop}.${cop}`, null);
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
