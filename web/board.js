// The board's DOM: one section per column (the pool first), one list item per note.
//
// update(view) compares the new view with the last one by object identity (model.js
// never mutates a note, it replaces it) and touches only what changed: a new note is
// created, an edited one refilled, a moved one re-inserted. The board is never rebuilt,
// so 500 notes stay smooth and focus, editors and scroll positions survive live changes.
// All text goes in with textContent.

import { label, t } from "./i18n.js";
import { AMBITIONS, COLOURS, liveColumns, liveNotes } from "./model.js";
import { FINDING_FIELDS } from "./council.js";
import { CONTENT_LANG, FINDING_MARKS, FINDING_TYPES, nameIt, userText } from "./dom.js";
import { enableDrag } from "./drag.js";
import { announce, toast } from "./notice.js";
import { newId } from "./store.js";
import { focusLater } from "./focus.js";

export const POOL = ""; // the pool's key in the DOM (null in the model)

const keyOf = (column) => column ?? POOL;
// ids and draft names: the pool's never clash with a column's, whatever id a client picks
const domKey = (key) => (key === POOL ? "pool" : `c-${key}`);
const columnOf = (key) => (key === POOL ? null : key);
const DELETE_CONFIRM_TIME = 5000; // ms a column's delete button waits for its confirmation
const POOL_ROWS_SHOWN = 8; // findings in the pool past which it offers to show them all
// a note longer than this (or with more lines) is clamped, with a button to read it whole
const LONG_TEXT = 140;
const LONG_LINES = 5;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(action, key, className = "") {
  const node = el("button", className);
  node.type = "button";
  node.dataset.action = action;
  label(node, key);
  return node;
}

function iconButton(action, key, symbol, tabbable = true) {
  const node = el("button", "icon", symbol);
  if (!tabbable) node.tabIndex = -1; // a Tab stop only on the list's current note (rove())
  node.type = "button";
  node.dataset.action = action;
  node.dataset.i18nLabel = key;
  node.setAttribute("aria-label", t(key));
  node.title = t(key);
  return node;
}

/** A note in or out of the Tab order, with its buttons. */
function tabbable(li, on) {
  li.tabIndex = on ? 0 : -1;
  for (const button of li.querySelectorAll(".note-actions button, .note-more")) button.tabIndex = on ? 0 : -1;
}

function short(text) {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** The board of one workshop, drawn into root. */
export class BoardView {
  /**
   * hooks: onOp(op) sends an op; onDrag(noteId | null) tells the room what we hold;
   * drafts: {load(subject), save(subject, value | null)}.
   */
  constructor(root, { onOp, onDrag, drafts, parts = null }) {
    this.root = root;
    this.onOp = onOp;
    this.parts = parts; // the workshop flow's parts of each orientation (orientation.js)
    this.drafts = drafts;
    this.readOnly = true; // until the server tells us our role
    this.view = null;
    this.columns = new Map(); // key -> {section, title, count, list, status}
    this.notes = new Map(); // id -> {li, text, tags, author, status, held, note}
    this.held = new Map(); // note id -> name of who drags it
    this.statuses = new Map(); // subject -> "pending" | "saved"
    this.focusAfter = null;
    this.current = new Map(); // list key -> its note that takes the Tab stop (li)
    this.ownDelete = null; // the note this page deleted last (its drop is no news)
    this.onNotice = () => {}; // say something (the live region), set by main.js
    this.filter = null; // findings shown (filters.js), or null: all
    this.lanes = el("div", "lanes");
    root.append(this.lanes);
    this.poolOpen = false;
    this.orientHead = this.makeOrientHead();
    // the orientations' own grid: as many side by side as the width takes, never sideways
    this.grid = el("div", "columns");
    this.lanes.append(this.makeColumn(POOL), this.orientHead, this.grid);
    this.showPoolMore(0);
    root.addEventListener("click", (event) => this.onClick(event));
    root.addEventListener("keydown", (event) => this.onKey(event));
    root.addEventListener("focusin", (event) => {
      const li = event.target.closest?.(".note");
      if (li) this.setCurrent(li.closest("section.col").dataset.col, li);
    });
    document.addEventListener("keydown", (event) => this.undoDelete(event));
    // the buttons a pointer brings up over a note's corner go away on Escape (and come
    // back with the next visit of the pointer), so they never have to be lived with
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      const li = event.target.classList?.contains("note") ? event.target : this.root.querySelector(".note:hover");
      li?.classList.add("quiet-actions");
    });
    root.addEventListener("mouseout", (event) => {
      const li = event.target.closest?.(".note");
      if (li && !li.contains(event.relatedTarget)) li.classList.remove("quiet-actions");
    });
    root.addEventListener("focusin", (event) => {
      const li = event.target.closest?.(".note");
      if (li && event.target !== li) li.classList.remove("quiet-actions"); // Tab to its buttons
    });
    root.addEventListener("focusout", (event) => event.target.closest?.(".note")?.classList.remove("quiet-actions"));
    this.tip = el("p", "keys-tip");
    this.tip.setAttribute("aria-hidden", "true"); // the notes' description says the same
    this.tip.hidden = true;
    document.body.append(this.tip);
    const hideTip = () => { this.tip.hidden = true; };
    root.addEventListener("focusin", (event) => this.showTip(event.target));
    root.addEventListener("focusout", hideTip);
    addEventListener("scroll", hideTip, { capture: true, passive: true });
    addEventListener("resize", hideTip);
    document.addEventListener("keydown", (event) => { if (event.key === "Escape") hideTip(); });
    this.lastDeleted = null;
    this.undo = null;
    let lastDrag = 0;
    enableDrag(root, {
      canStart: () => !this.readOnly,
      onStart: (id) => { lastDrag = Date.now(); onDrag(id); },
      onMove: (id) => {
        if (Date.now() - lastDrag > 400) { lastDrag = Date.now(); onDrag(id); } // presence, throttled
      },
      onDrop: (id, key, index) => this.moveNote(id, columnOf(key), index),
      onEnd: () => onDrag(null),
    });
  }

  /** Observers see the board but none of the controls (the server refuses their ops anyway). */
  setReadOnly(readOnly) {
    this.readOnly = readOnly;
    this.root.classList.toggle("readonly", readOnly);
  }

  /** Show only the findings that match (null: all of them); each list says how many show. */
  setFilter(matches) {
    this.filter = matches;
    this.root.classList.toggle("filtering", Boolean(matches));
    for (const entry of this.notes.values()) this.applyFilter(entry);
    for (const key of this.columns.keys()) {
      this.showCount(key);
      this.rove(key);
    }
  }

  applyFilter(entry) {
    entry.li.classList.toggle("filtered-out", Boolean(this.filter && !this.filter(entry.note)));
  }

  /** The keys of a note, in a tip beside the note the keyboard is on (never under a click). */
  showTip(target) {
    if (this.readOnly || !target.classList?.contains("note") || !target.matches(":focus-visible")) return;
    this.tip.textContent = t("note.keysShort");
    this.tip.hidden = false;
    const note = target.getBoundingClientRect();
    const width = Math.max(note.width, 220);
    this.tip.style.width = `${width}px`; // CSSOM: the CSP allows it, a style attribute not
    this.tip.style.left = `${Math.max(4, Math.min(note.left, innerWidth - width - 4))}px`;
    const below = note.bottom + 4;
    const height = this.tip.offsetHeight;
    this.tip.style.top = `${below + height < innerHeight ? below : Math.max(4, note.top - height - 4)}px`;
  }

  /** Whether this reader may shape the orientations (add, rename, move, word, delete). */
  setShaping(canShape) {
    this.root.classList.toggle("can-shape", canShape);
  }

  showPoolMore(n) {
    const { more, list } = this.columns.get(POOL);
    more.hidden = n <= POOL_ROWS_SHOWN;
    list.classList.toggle("capped", !this.poolOpen);
    more.setAttribute("aria-expanded", String(this.poolOpen));
    label(more, this.poolOpen ? "pool.less" : "pool.more", this.poolOpen ? undefined : { n });
  }

  // -- building ----------------------------------------------------------------------

  makeColumn(key) {
    const pool = key === POOL;
    const section = el("section", pool ? "col pool" : "col");
    section.dataset.col = key;
    section.id = `section-${domKey(key)}`;
    // a landmark named by its title, and where the focus lands when what had it inside goes
    section.tabIndex = -1;
    section.dataset.focusHome = "";
    const head = el("header", "col-head");
    const title = el("h2", "col-title");
    title.id = `col-${domKey(key)}`;
    section.setAttribute("aria-labelledby", title.id);
    if (pool) label(title, "pool.title");
    else title.lang = CONTENT_LANG;
    const count = el("span", "col-count");
    const shown = el("span", "", "0");
    shown.setAttribute("aria-hidden", "true");
    count.append(shown, el("span", "vh"));
    const status = el("span", "badge status");
    const meta = el("div", "col-meta");
    meta.append(count, status);
    head.append(title, meta);
    const list = el("ul", pool ? "notes pool-notes scroll-y capped" : "notes");
    list.setAttribute("aria-labelledby", title.id);
    const composer = this.makeComposer(key);
    let more = null;
    let menu = null;
    if (pool) {
      // the pool shows a few rows and scrolls inside; this button shows it whole
      more = el("button", "quiet pool-more");
      more.type = "button";
      more.dataset.action = "pool-more";
      more.setAttribute("aria-expanded", "false");
      meta.append(more);
      section.append(head, composer, list);
    } else {
      menu = this.makeMenu(key);
      meta.append(menu.box);
      section.append(head, list, composer);
    }
    if (!pool && this.parts) {
      const { top, bottom, badges, items } = this.parts.make(key);
      status.before(badges);
      menu.items.prepend(...items);
      head.after(top);
      section.append(bottom);
    }
    const caption = composer.querySelector("label");
    this.columns.set(key, { section, title, count, list, status, caption, more, menu });
    return section;
  }

  /** An orientation's menu (rename, move, delete; the parts add statement and lock). */
  makeMenu(key) {
    const box = el("details", "col-menu popover shaper-only");
    const summary = el("summary", "icon");
    summary.textContent = "⋯";
    const items = el("div", "popover-body menu");
    items.append(
      button("rename-column", "column.rename"),
      button("column-left", "column.moveLeft"),
      button("column-right", "column.moveRight"),
      button("delete-column", "column.delete", "danger-text"),
    );
    box.append(summary, items);
    // any item done closes the menu (the delete button first asks to be pressed again);
    // the focus goes back to « ⋯ » unless the item put it somewhere (a field to type in)
    items.addEventListener("click", (event) => {
      const item = event.target.closest("button");
      if (!item || item.dataset.action === "delete-column") return;
      box.open = false;
      queueMicrotask(() => {
        if (document.activeElement === document.body || !document.activeElement) summary.focus();
      });
    });
    return { box, summary, items };
  }

  makeComposer(key) {
    const form = el("form", "composer editor-only");
    const id = `new-${domKey(key)}`;
    const caption = el("label", "vh");
    caption.htmlFor = id;
    label(caption, "note.new");
    const input = el("textarea");
    input.id = id;
    input.rows = 1;
    input.maxLength = 1000;
    input.dataset.i18nPlaceholder = "note.new";
    input.placeholder = t("note.new");
    input.value = this.drafts.load(`new.${domKey(key)}`) ?? "";
    const submit = el("button", key === POOL ? "primary" : "primary icon");
    submit.type = "submit";
    if (key === POOL) label(submit, "note.add");
    else {
      // a narrow column: the sign alone, its name for screen readers
      submit.textContent = "+";
      submit.dataset.i18nLabel = "note.add";
      submit.setAttribute("aria-label", t("note.add"));
      submit.title = t("note.add");
    }
    form.append(caption, input, submit);
    input.addEventListener("input", () => this.drafts.save(`new.${domKey(key)}`, input.value || null));
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      this.onOp({ kind: "note.add", id: newId("n"), text, column: columnOf(key) });
      input.value = "";
      this.drafts.save(`new.${domKey(key)}`, null);
      announce(t("announce.added", { column: this.columnTitle(key) }));
    });
    return form;
  }

  /** The orientations' heading row: their title, their number, and the form to add one. */
  makeOrientHead() {
    const head = el("div", "orient-head");
    const title = el("h2", "orient-title");
    title.id = "orient-title";
    title.tabIndex = -1; // a skip link's target
    label(title, "orient.title");
    // « Aller à l'orientation… »: every orientation by its number, a jump away
    const goto = el("details", "goto popover");
    const gotoSummary = el("summary");
    label(gotoSummary, "goto.title");
    this.gotoList = el("div", "popover-body menu");
    goto.append(gotoSummary, this.gotoList);
    this.gotoList.addEventListener("click", (event) => {
      const item = event.target.closest("button[data-goto]");
      if (!item) return;
      goto.open = false;
      const section = this.columns.get(item.dataset.goto)?.section;
      section?.focus();
      section?.scrollIntoView({ block: "nearest" });
    });
    const count = el("span", "col-count orient-count");
    const form = el("form", "col-add editor-only shaper-only");
    const caption = el("label", "vh");
    caption.htmlFor = "new-column";
    label(caption, "column.new");
    const input = el("input");
    input.id = "new-column";
    input.maxLength = 200;
    input.autocomplete = "off";
    input.dataset.i18nPlaceholder = "column.new";
    input.placeholder = t("column.new");
    const submit = el("button", "primary");
    submit.type = "submit";
    label(submit, "column.add");
    form.append(caption, input, submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      this.onOp({ kind: "column.add", id: newId("c"), title: text });
      input.value = "";
      announce(t("announce.columnAdded", { column: text }));
    });
    head.append(title, count, goto, form);
    this.orientCount = count;
    return head;
  }

  makeNote(id) {
    const li = el("li", "note");
    li.dataset.id = id;
    li.tabIndex = -1; // one Tab stop per list: its current note (rove())
    li.setAttribute("aria-describedby", "note-keys");
    const grip = el("span", "grip editor-only", "⠿");
    grip.dataset.i18nLabel = "note.grip";
    grip.title = t("note.grip");
    grip.setAttribute("aria-hidden", "true"); // for pointers only: the keyboard has M
    const text = el("p", "note-text");
    text.lang = CONTENT_LANG;
    // the diagnostic's indicator and source, when it gave them: one compact line
    const facts = el("p", "note-facts");
    facts.hidden = true;
    const more = el("button", "note-more quiet");
    more.type = "button";
    more.dataset.action = "more";
    more.hidden = true;
    more.tabIndex = -1;
    // the finding's type (atout, faiblesse…) and the ambitions it serves, on one row
    const meta = el("div", "note-meta");
    const kind = el("span", "ftype");
    kind.hidden = true;
    const tags = el("ul", "note-tags");
    meta.append(kind, tags);
    const foot = el("div", "note-foot");
    const theme = el("span", "note-theme");
    theme.lang = CONTENT_LANG;
    const author = el("span", "note-author");
    const colour = el("span", "vh"); // a note's colour, said as well as shown
    const status = el("span", "badge status");
    const held = el("span", "badge held");
    const secret = el("span", "badge private");
    const actions = el("div", "note-actions editor-only");
    actions.append(
      iconButton("edit", "note.edit", "✎", false),
      iconButton("move", "note.move", "⇆", false),
      iconButton("delete", "note.delete", "✕", false),
    );
    foot.append(theme, author, colour, secret, status, held, actions);
    li.append(grip, text, facts, more, meta, foot);
    const entry = { li, text, facts, more, kind, tags, theme, author, colour, status, held, secret, note: null };
    this.notes.set(id, entry);
    return entry;
  }

  fillNote(entry, note) {
    const old = entry.note;
    if (!old || old.text !== note.text) {
      entry.text.textContent = note.text;
      const long = note.text.length > LONG_TEXT || note.text.split("\n").length > LONG_LINES;
      entry.more.hidden = !long;
      entry.li.classList.toggle("long", long);
      if (long) this.showMore(entry);
    }
    if (!old || old.colour !== note.colour) {
      entry.li.dataset.colour = note.colour;
      label(entry.colour, "note.colourIs", { colour: { key: `colour.${note.colour}` } });
    }
    if (!old || old.author !== note.author) label(entry.author, "note.by", { name: note.author });
    if (!old || FINDING_FIELDS.some((key) => old[key] !== note[key])) this.fillFinding(entry, note);
    if (!old || Boolean(old.private) !== Boolean(note.private)) {
      // a silent note: seen by its author only, until the facilitator reveals
      entry.li.classList.toggle("is-private", Boolean(note.private));
      if (note.private) label(entry.secret, "note.private");
      else {
        delete entry.secret.dataset.i18n;
        entry.secret.textContent = "";
      }
    }
    if (!old || old.ambitions.join() !== note.ambitions.join()) {
      entry.tags.replaceChildren(...note.ambitions.map((code) => {
        const tag = el("li", `tag tag-${code}`);
        label(tag, `amb.short.${code}`);
        tag.dataset.i18nLabel = `amb.${code}`;
        tag.title = t(`amb.${code}`);
        return tag;
      }));
    }
    entry.note = note;
    this.applyFilter(entry);
  }

  /** A finding's fields from the diagnostic: its type, theme, indicator and source. */
  fillFinding(entry, note) {
    entry.kind.hidden = !note.type;
    entry.li.dataset.type = note.type ?? "";
    if (note.type) {
      entry.kind.className = `ftype ftype-${note.type}`;
      const mark = el("span", "ftype-mark", FINDING_MARKS[note.type]);
      mark.setAttribute("aria-hidden", "true"); // the word says it; the mark is for the eye
      const word = el("span");
      label(word, `ftype.${note.type}`);
      entry.kind.replaceChildren(mark, word);
    }
    entry.theme.textContent = note.theme ? `${note.theme} · ` : "";
    const facts = [];
    if (note.indicator) facts.push(userText("span", "note-indicator", note.indicator));
    if (note.source) {
      const source = el("span", "note-source");
      const word = el("span");
      label(word, "note.source");
      source.append(word, " ", userText("span", "", note.source));
      facts.push(source);
    }
    entry.facts.replaceChildren(...facts);
    entry.facts.hidden = facts.length === 0;
  }

  // -- updating ----------------------------------------------------------------------

  /** Bring the DOM to the new view, touching only what changed. */
  update(view) {
    const prev = this.view;
    this.view = view;
    const focused = document.activeElement;
    let columnsMoved = false;
    const touched = new Set();
    for (const [id, column] of view.columns) {
      const old = prev?.columns.get(id);
      if (old === column) continue;
      if (column.deleted) {
        this.dropColumn(id);
        continue;
      }
      if (!this.columns.has(id)) {
        this.grid.append(this.makeColumn(id));
        columnsMoved = true;
        touched.add(id); // to show its count
      }
      const entry = this.columns.get(id);
      if (entry.title.textContent !== column.title) {
        entry.title.textContent = column.title;
        label(entry.caption, "note.newIn", { column: column.title }); // which column it goes to
        // the « + » under each orientation says which one it adds to
        nameIt(entry.caption.parentNode.querySelector("button[type=submit]"), "note.addIn", { column: column.title });
        if (entry.menu) nameIt(entry.menu.summary, "column.menu", { column: column.title });
      }
      if (!old || old.pos !== column.pos) columnsMoved = true;
    }
    for (const id of this.columns.keys()) {
      if (id !== POOL && !view.columns.has(id)) this.dropColumn(id); // gone after a reset
    }
    for (const [id, note] of view.notes) {
      let entry = this.notes.get(id);
      if (entry?.note === note) continue;
      if (note.deleted) {
        if (entry) touched.add(keyOf(entry.note.column));
        this.dropNote(id);
        continue;
      }
      if (!entry) {
        entry = this.makeNote(id);
        this.showHeld(entry, this.held.get(id));
        this.showStatus(entry.status, this.statuses.get(`n:${id}`));
      } else if (entry.note.column !== note.column || entry.note.pos !== note.pos) {
        touched.add(keyOf(entry.note.column));
      }
      touched.add(keyOf(note.column));
      this.fillNote(entry, note);
    }
    for (const [id, entry] of this.notes) {
      if (!view.notes.has(id)) {
        touched.add(keyOf(entry.note.column));
        this.dropNote(id);
      }
    }
    if (columnsMoved) this.orderColumns();
    if (columnsMoved || !prev || prev.columns !== view.columns) this.showGoto(view);
    const orientations = liveColumns(view).length;
    if (this.orientCount.textContent !== String(orientations)) this.orientCount.textContent = String(orientations);
    this.root.style.setProperty("--orientations", String(Math.max(1, orientations)));
    for (const key of touched) {
      this.orderNotes(key);
      this.rove(key);
    }
    this.parts?.update(view, this.columns);
    // moving a focused element through the DOM blurs it: give the focus back; when
    // someone else moved the note this reader is on, the focus follows it and says where
    const moved = !this.focusAfter && focused?.classList?.contains("note") && this.notes.get(focused.dataset.id);
    if (moved && prev && prev.notes.get(moved.note.id)?.column !== moved.note.column && prev.notes.has(moved.note.id)) {
      this.onNotice(t("announce.movedUnder", {
        text: short(moved.note.text), column: this.columnTitle(keyOf(moved.note.column)),
      }));
    }
    const target = this.focusAfter ? this.notes.get(this.focusAfter)?.li : focused;
    this.focusAfter = null;
    if (target?.isConnected && document.activeElement !== target && this.root.contains(target)) {
      target.focus({ preventScroll: !this.notes.has(target.dataset?.id) });
    }
  }

  /** The « Aller à l'orientation… » menu: one item per orientation, numbered. */
  showGoto(view) {
    const columns = liveColumns(view);
    const signature = columns.map((c) => `${c.id}\n${c.title}`).join("\n");
    if (signature === this.gotoShown) return;
    this.gotoShown = signature;
    this.gotoList.replaceChildren(...columns.map((column, i) => {
      const item = el("button", "", `${i + 1}. ${column.title}`);
      item.type = "button";
      item.dataset.goto = column.id;
      item.lang = CONTENT_LANG;
      return item;
    }));
    this.gotoList.closest("details").hidden = columns.length === 0;
  }

  orderColumns() {
    let cursor = this.grid.firstElementChild;
    for (const column of liveColumns(this.view)) {
      const { section } = this.columns.get(column.id);
      if (section === cursor) cursor = cursor.nextElementSibling;
      else this.grid.insertBefore(section, cursor);
    }
  }

  orderNotes(key) {
    const column = this.columns.get(key);
    if (!column) return;
    const wanted = liveNotes(this.view, columnOf(key));
    const { list } = column;
    let cursor = list.firstElementChild;
    for (const note of wanted) {
      while (cursor && !cursor.classList.contains("note")) cursor = cursor.nextElementSibling;
      const { li } = this.notes.get(note.id);
      if (li === cursor) cursor = cursor.nextElementSibling;
      else list.insertBefore(li, cursor);
    }
    this.showCount(key, wanted);
    if (key === POOL) this.showPoolMore(wanted.length);
  }

  /** A list's count of findings: « 3 », or « 2/3 » (« 2 constats affichés sur 3 ») filtered. */
  showCount(key, notes = null) {
    const column = this.columns.get(key);
    if (!column || !this.view) return;
    notes ??= liveNotes(this.view, columnOf(key));
    const [shown, spoken] = column.count.children;
    const total = notes.length;
    if (this.filter) {
      const visible = notes.filter((note) => this.filter(note)).length;
      shown.textContent = `${visible}/${total}`;
      label(spoken, "column.countFiltered", { n: visible, total });
    } else {
      shown.textContent = String(total);
      label(spoken, "column.countLabel", { n: total });
    }
  }

  /** The list's note that takes the Tab stop; its buttons are Tab stops too. */
  setCurrent(key, li) {
    const before = this.current.get(key);
    if (before === li) return;
    if (before) tabbable(before, false);
    if (li) tabbable(li, true);
    if (li) this.current.set(key, li);
    else this.current.delete(key);
  }

  /** Keep one Tab stop in a list: its current note if still there and shown, else its first. */
  rove(key) {
    const column = this.columns.get(key);
    if (!column) return;
    const li = this.current.get(key);
    if (li?.parentNode === column.list && !li.classList.contains("filtered-out")) return;
    this.current.delete(key);
    if (li?.parentNode === column.list || li?.parentNode === null) tabbable(li, false);
    this.setCurrent(key, column.list.querySelector(":scope > .note:not(.filtered-out)"));
  }

  dropNote(id) {
    const entry = this.notes.get(id);
    if (!entry) return;
    if (entry.li.contains(document.activeElement)) {
      const next = entry.li.nextElementSibling ?? entry.li.previousElementSibling;
      if (next?.classList.contains("note")) this.focusAfter = next.dataset.id;
      // someone else deleted the finding this reader was on: say so, and where they are now
      if (this.ownDelete !== id) this.onNotice(t(next ? "announce.deletedUnder" : "announce.deletedUnderLast"));
    }
    entry.li.remove();
    this.notes.delete(id);
  }

  dropColumn(id) {
    const entry = this.columns.get(id);
    if (!entry) return;
    entry.section.remove();
    this.columns.delete(id);
  }

  /** Mark notes and columns pending or saved; statuses maps "n:id"/"c:id" to a state. */
  setStatuses(statuses) {
    const before = this.statuses;
    this.statuses = statuses;
    for (const subject of new Set([...before.keys(), ...statuses.keys()])) {
      if (before.get(subject) === statuses.get(subject)) continue;
      const [kind, id] = [subject[0], subject.slice(2)];
      const target = kind === "n" ? this.notes.get(id)?.status : this.columns.get(id)?.status;
      if (target) this.showStatus(target, statuses.get(subject));
    }
  }

  showStatus(badge, state) {
    badge.dataset.state = state ?? "";
    if (state) label(badge, state === "pending" ? "note.pending" : "note.saved");
    else {
      delete badge.dataset.i18n;
      badge.textContent = "";
    }
    badge.closest(".note")?.setAttribute("data-state", state ?? "");
  }

  /** Show who holds which note (held maps note id -> name). */
  setHeld(held) {
    const before = this.held;
    this.held = held;
    for (const id of new Set([...before.keys(), ...held.keys()])) {
      const entry = this.notes.get(id);
      if (entry && before.get(id) !== held.get(id)) this.showHeld(entry, held.get(id));
    }
  }

  showHeld(entry, name) {
    entry.li.classList.toggle("is-held", Boolean(name));
    if (name) label(entry.held, "note.held", { name });
    else {
      delete entry.held.dataset.i18n;
      entry.held.textContent = "";
    }
  }

  /** Show a clamped note whole, or clamp it again. */
  toggleMore(id) {
    const entry = this.notes.get(id);
    if (!entry) return;
    entry.li.classList.toggle("expanded");
    this.showMore(entry);
  }

  showMore(entry) {
    const open = entry.li.classList.contains("expanded");
    label(entry.more, open ? "note.less" : "note.more");
    entry.more.setAttribute("aria-expanded", String(open));
  }

  columnTitle(key) {
    return key === POOL ? t("pool.title") : this.view?.columns.get(key)?.title ?? "";
  }

  // -- acting ------------------------------------------------------------------------

  moveNote(id, column, index) {
    const note = this.view.notes.get(id);
    if (!note) return;
    const siblings = liveNotes(this.view, column).filter((n) => n.id !== id);
    const current = note.column === column ? liveNotes(this.view, column).findIndex((n) => n.id === id) : -1;
    const at = index ?? siblings.length;
    if (current === at) return; // dropped where it was
    this.focusAfter = id;
    this.onOp(index === null ? { kind: "note.move", id, column } : { kind: "note.move", id, column, index });
    announce(t("announce.moved", {
      text: short(note.text), column: this.columnTitle(keyOf(column)), index: Math.min(at, siblings.length) + 1,
    }));
  }

  /** Move a column one place left (-1) or right (+1); the server places it by index. */
  shiftColumn(key, step) {
    const order = liveColumns(this.view).map((c) => c.id);
    const index = order.indexOf(key) + step; // among the other columns, as the op counts
    if (index < 0 || index >= order.length) return;
    this.onOp({ kind: "column.move", id: key, index });
    const title = this.columnTitle(key);
    announce(t("announce.columnMoved", { column: title, index: index + 1 }));
  }

  deleteNote(id) {
    this.ownDelete = id;
    this.onOp({ kind: "note.delete", id });
    announce(t("announce.deleted"));
    const undo = () => {
      if (this.lastDeleted !== id) return; // undone already (toast or Ctrl+Z)
      this.lastDeleted = null;
      item.remove();
      this.onOp({ kind: "note.restore", id });
      this.focusAfter = id;
      announce(t("announce.restored"));
    };
    this.lastDeleted = id;
    const item = toast(t("undo.deleted"), { label: t("undo.action"), run: undo });
    this.undo = undo;
  }

  /** Ctrl+Z (or ⌘Z) restores the note deleted last, outside text fields. */
  undoDelete(event) {
    if (!(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== "z" || event.shiftKey) return;
    if (event.target.closest?.("input, textarea, select") || !this.lastDeleted) return;
    event.preventDefault();
    this.undo();
  }

  onClick(event) {
    const target = event.target.closest("button[data-action]");
    if (!target || !this.root.contains(target)) return;
    const noteId = target.closest(".note")?.dataset.id;
    const key = target.closest(".col")?.dataset.col;
    const menu = target.closest("details.col-menu");
    if (menu && target.dataset.action !== "delete-column") menu.open = false; // done with it
    switch (target.dataset.action) {
      case "edit": this.openEditor(noteId); break;
      case "move": this.openMover(noteId); break;
      case "delete": this.deleteNote(noteId); break;
      case "column-left": this.shiftColumn(key, -1); break;
      case "column-right": this.shiftColumn(key, 1); break;
      case "rename-column": this.openRename(key); break;
      case "delete-column": this.confirmDeleteColumn(target, key); break;
      case "close": this.closePanel(noteId); break;
      case "more": this.toggleMore(noteId); break;
      case "pool-more":
        this.poolOpen = !this.poolOpen;
        this.showPoolMore(liveNotes(this.view, null).length);
        break;
      default: throw new Error(`Unexpected action ${target.dataset.action}`);
    }
  }

  onKey(event) {
    const li = event.target;
    if (!li.classList?.contains("note") || this.readOnly) {
      if (event.key === "Escape") this.closePanel(event.target.closest?.(".note")?.dataset.id);
      return;
    }
    const id = li.dataset.id;
    if (event.key === "Enter") { event.preventDefault(); this.openEditor(id); }
    else if (event.key === "m" || event.key === "M") { event.preventDefault(); this.openMover(id); }
    else if (event.key === "Delete") { event.preventDefault(); this.deleteNote(id); }
    else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      let next = event.key === "ArrowDown" ? li.nextElementSibling : li.previousElementSibling;
      while (next && !(next.classList.contains("note") && !next.classList.contains("filtered-out"))) {
        next = event.key === "ArrowDown" ? next.nextElementSibling : next.previousElementSibling;
      }
      if (next) { event.preventDefault(); next.focus(); }
    } else if (event.key === "Home" || event.key === "End") {
      const notes = li.parentNode.querySelectorAll(":scope > .note:not(.filtered-out)");
      event.preventDefault();
      notes[event.key === "Home" ? 0 : notes.length - 1]?.focus();
    } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      // to the note at the same height in the next column that has notes
      const sections = [...this.lanes.querySelectorAll("section.col")];
      const here = sections.indexOf(li.closest("section.col"));
      const index = [...li.parentNode.querySelectorAll(":scope > .note:not(.filtered-out)")].indexOf(li);
      const step = event.key === "ArrowRight" ? 1 : -1;
      for (let i = here + step; i >= 0 && i < sections.length; i += step) {
        const notes = sections[i].querySelectorAll(":scope > .notes > .note:not(.filtered-out)");
        if (notes.length) {
          event.preventDefault();
          notes[Math.min(index, notes.length - 1)].focus();
          return;
        }
      }
    }
  }

  /** Close the editor or mover open in a note, and focus the note again. */
  closePanel(id) {
    const entry = id && this.notes.get(id);
    if (!entry) return;
    entry.li.querySelector(".panel")?.remove();
    entry.li.classList.remove("editing", "moving");
    entry.li.focus();
  }

  /** Edit a note in place: text, colour and ambitions, with the draft kept as you type. */
  openEditor(id, draft = null) {
    const entry = this.notes.get(id);
    if (!entry || this.readOnly) return;
    this.closePanel(id);
    const note = entry.note;
    const start = {
      text: note.text, colour: note.colour, ambitions: note.ambitions,
      ...Object.fromEntries(FINDING_FIELDS.map((key) => [key, note[key] ?? ""])),
      ...(draft ?? this.drafts.load(`n.${id}`)),
    };
    const form = el("form", "panel editor");
    const textId = `edit-${id}`;
    const caption = el("label", "vh");
    caption.htmlFor = textId;
    label(caption, "note.text");
    const input = el("textarea");
    input.id = textId;
    input.name = "text";
    input.rows = 3;
    input.maxLength = 1000;
    input.value = start.text;
    const colours = el("fieldset", "swatches");
    const colourLegend = el("legend");
    label(colourLegend, "note.colour");
    colours.append(colourLegend);
    for (const colour of COLOURS) {
      const option = el("label", "swatch");
      option.dataset.colour = colour;
      const radio = el("input");
      radio.type = "radio";
      radio.name = "colour";
      radio.value = colour;
      radio.checked = colour === start.colour;
      const name = el("span", "vh");
      label(name, `colour.${colour}`);
      option.append(radio, name);
      option.dataset.i18nLabel = `colour.${colour}`;
      option.title = t(`colour.${colour}`);
      colours.append(option);
    }
    const ambitions = el("fieldset", "ambitions");
    const ambitionLegend = el("legend");
    label(ambitionLegend, "note.ambitions");
    ambitions.append(ambitionLegend);
    for (const code of AMBITIONS) {
      const option = el("label", "check");
      const box = el("input");
      box.type = "checkbox";
      box.name = "ambitions";
      box.value = code;
      box.checked = start.ambitions.includes(code);
      const name = el("span");
      label(name, `amb.${code}`);
      option.append(box, name);
      ambitions.append(option);
    }
    const finding = this.findingFields(id, start);
    const actions = el("div", "panel-actions");
    const save = el("button", "primary");
    save.type = "submit";
    label(save, "note.save");
    actions.append(save, button("close", "note.cancel"));
    form.append(caption, input, colours, ambitions, finding, actions);
    const read = () => ({
      text: input.value,
      colour: form.querySelector("input[name=colour]:checked")?.value ?? note.colour,
      ambitions: [...form.querySelectorAll("input[name=ambitions]:checked")].map((b) => b.value),
      ...Object.fromEntries(FINDING_FIELDS.map((key) => [key, form.elements[key].value.trim()])),
    });
    form.addEventListener("input", () => this.drafts.save(`n.${id}`, read()));
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.drafts.save(`n.${id}`, null);
        this.closePanel(id);
      } else if (event.key === "Enter" && event.target === input && !event.shiftKey) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = read();
      const current = this.notes.get(id)?.note ?? note;
      const op = { kind: "note.edit", id };
      if (value.text.trim() && value.text !== current.text) op.text = value.text;
      if (value.colour !== current.colour) op.colour = value.colour;
      if (value.ambitions.join() !== current.ambitions.join()) op.ambitions = value.ambitions;
      for (const key of FINDING_FIELDS) if (value[key] !== (current[key] ?? "")) op[key] = value[key]; // '' clears
      if (Object.keys(op).length > 2) {
        this.onOp(op);
        announce(t("announce.edited"));
      }
      this.drafts.save(`n.${id}`, null);
      this.closePanel(id);
    });
    entry.li.classList.add("editing");
    entry.li.append(form);
    if (draft) this.drafts.save(`n.${id}`, draft);
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  /** The diagnostic's fields of a finding (type, theme, indicator, source), folded away. */
  findingFields(id, start) {
    const box = el("details", "finding-fields");
    box.open = FINDING_FIELDS.some((key) => start[key]);
    const summary = el("summary");
    label(summary, "note.findingFields");
    box.append(summary);
    const field = (key, control) => {
      control.id = `edit-${key}-${id}`;
      control.name = key;
      const caption = el("label");
      caption.htmlFor = control.id;
      label(caption, `note.field.${key}`);
      box.append(caption, control);
    };
    const type = el("select");
    const none = el("option");
    none.value = "";
    label(none, "ftype.none");
    type.append(none, ...FINDING_TYPES.map((code) => {
      const option = el("option");
      option.value = code;
      label(option, `ftype.${code}`);
      return option;
    }));
    type.value = start.type ?? "";
    field("type", type);
    for (const [key, max] of [["theme", 80], ["indicator", 200], ["source", 200]]) {
      const input = el("input");
      input.maxLength = max;
      input.autocomplete = "off";
      input.value = start[key] ?? "";
      input.lang = CONTENT_LANG;
      field(key, input);
    }
    return box;
  }

  /** Move a note with the keyboard: choose a column, confirm; the live region says where it went. */
  openMover(id) {
    const entry = this.notes.get(id);
    if (!entry || this.readOnly) return;
    this.closePanel(id);
    const form = el("form", "panel mover");
    const selectId = `move-${id}`;
    const caption = el("label");
    caption.htmlFor = selectId;
    label(caption, "move.to");
    const select = el("select");
    select.id = selectId;
    const targets = [POOL, ...liveColumns(this.view).map((c) => c.id)];
    for (const key of targets) {
      const option = el("option", "", this.columnTitle(key));
      option.value = key;
      select.append(option);
    }
    // preselect the next column: the usual move is from the pool to the first orientation
    const here = targets.indexOf(keyOf(entry.note.column));
    select.value = targets[(here + 1) % targets.length];
    const actions = el("div", "panel-actions");
    const confirm = el("button", "primary");
    confirm.type = "submit";
    label(confirm, "move.confirm");
    actions.append(confirm, button("close", "note.cancel"));
    form.append(caption, select, actions);
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); this.closePanel(id); }
      // a select does not submit its form on Enter by itself: here Enter confirms
      if (event.key === "Enter" && event.target === select) { event.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const column = columnOf(select.value);
      this.closePanel(id);
      this.moveNote(id, column, null);
    });
    entry.li.classList.add("moving");
    entry.li.append(form);
    announce(t("announce.moveMode"));
    select.focus();
  }

  openRename(key) {
    const entry = this.columns.get(key);
    if (!entry || entry.section.querySelector(".rename")) return;
    const form = el("form", "rename");
    const input = el("input");
    input.value = this.columnTitle(key);
    input.maxLength = 200;
    input.dataset.i18nLabel = "column.title";
    input.setAttribute("aria-label", t("column.title"));
    const save = el("button", "primary");
    save.type = "submit";
    label(save, "note.save");
    form.append(input, save);
    const close = () => { form.remove(); entry.section.classList.remove("renaming"); };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const title = input.value.trim();
      if (title && title !== this.columnTitle(key)) {
        this.onOp({ kind: "column.rename", id: key, title });
        announce(t("announce.renamed", { column: title }));
      }
      close();
      entry.menu.summary.focus(); // the title takes no focus: its menu, named after it, does
    });
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        close();
        entry.menu.summary.focus();
      }
    });
    entry.section.classList.add("renaming");
    entry.title.after(form);
    input.focus();
    input.select();
  }

  confirmDeleteColumn(target, key) {
    if (target.dataset.armed) {
      // the column goes: the focus goes to its neighbour, or to the orientations' heading
      const section = this.columns.get(key)?.section;
      const next = section?.nextElementSibling ?? section?.previousElementSibling;
      this.onOp({ kind: "column.delete", id: key });
      announce(t("announce.columnDeleted", { column: this.columnTitle(key) }));
      focusLater(() => (next?.isConnected ? next : document.getElementById("orient-title")));
      return;
    }
    // a column holds the group's work: ask once more before sending its notes back to the pool
    target.dataset.armed = "1";
    target.classList.add("armed");
    target.dataset.i18nLabel = "column.confirmDelete";
    target.setAttribute("aria-label", t("column.confirmDelete"));
    target.title = t("column.confirmDelete");
    announce(t("column.confirmDelete"));
    setTimeout(() => {
      delete target.dataset.armed;
      target.classList.remove("armed");
      target.dataset.i18nLabel = "column.delete";
      target.setAttribute("aria-label", t("column.delete"));
      target.title = t("column.delete");
    }, DELETE_CONFIRM_TIME);
  }

  /** Reopen the editors whose drafts survived a reload; forget drafts of what is gone. */
  restoreDrafts(subjects) {
    let reopened = false;
    for (const subject of subjects) {
      if (subject.startsWith("stmt.") || subject.startsWith("idea.")) continue; // orientation.js's
      if (subject.startsWith("new.")) {
        const key = subject.slice(4);
        if (key !== "pool" && !this.columns.has(key.slice(2))) this.drafts.save(subject, null);
        continue;
      }
      const id = subject.slice(2);
      const draft = this.drafts.load(subject);
      if (!this.notes.has(id) || !draft) this.drafts.save(subject, null);
      else if (!reopened) {
        reopened = true; // one editor at a time; the other drafts wait for the next load
        this.openEditor(id, draft);
      }
    }
  }
}
