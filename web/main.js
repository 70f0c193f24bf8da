// Wires the page: the home page, or a workshop's board with its connection.
//
// The board shown is always the server's board (as confirmed by events) with this
// browser's unacknowledged ops replayed on top: an ack settles an op, a reject drops
// it, and either way the next render shows the truth. Renders are batched per frame.

import { currentLang, label, setLang, t, translate } from "./i18n.js";
import {
  applyFrame, applyIntent, ballotAfter, boardFromState, copyBoard, emptyBoard, stateOf, subjectOf,
} from "./model.js";
import { BoardView } from "./board.js";
import { Connection } from "./socket.js";
import { announce, noteOthers, toast } from "./notice.js";
import { startHome } from "./home.js";
import { OrientationParts } from "./orientation.js";
import { FlowView } from "./flow.js";
import { Snapshots } from "./snapshots.js";
import { Api } from "./api.js";
import { wireFacilitator } from "./facilitator.js";
import { Screen } from "./screen.js";
import { Filters } from "./filters.js";
import { UnplacedIdeas } from "./ideas.js";
import { Instance } from "./instance.js";
import { Debates } from "./decision.js";
import { Vigilance } from "./vigilance.js";
import { wireImport } from "./importer.js";
import { recordNodes } from "./record.js";
import { Wall } from "./wall.js";
import { settle, trackFocus } from "./focus.js";
import * as store from "./store.js";
import { $ } from "./dom.js";

const SAVED_FOR = 5000; // ms a note shows "saved" after its ack
const SAVE_BOARD_EVERY = 1000; // ms between two copies of the board into localStorage
const RECORD_RETRY = 500; // ms before asking again for a record another process still stores
const DRAW_MEASURE = "atelier.draw";
const NEWS_SHOWN = 8000; // ms a piece of flow news stays in the toolbar

function start() {
  translate(document);
  trackFocus();
  // a kept copy of the page, for a reload while the server is out of reach; browsers offer
  // service workers on https and localhost only, elsewhere the page simply needs the server
  navigator.serviceWorker?.register("/sw.js").catch((error) => {
    console.warn("Atelier works without its offline copy:", error);
  });
  $("lang").addEventListener("click", () => setLang(currentLang() === "fr" ? "en" : "fr"));
  closePopovers();
  const match = location.pathname.match(/^\/w\/([A-Za-z0-9_-]{1,64})\/?$/);
  if (match) {
    // another key in the same page is another person's link: start afresh
    window.addEventListener("hashchange", () => location.reload());
    openWorkshop(match[1]);
  }
  else startHome();
}

/** A menu's items are reached with the arrows too (and Home, End), Tab still walking them. */
function menuKeys(event) {
  const menu = event.target.closest?.("details.popover");
  if (!menu?.open || !["ArrowDown", "ArrowUp", "Home", "End"].includes(event.key)) return;
  const items = [...menu.querySelectorAll(".popover-body button, .popover-body input, .popover-body select")]
    .filter((item) => item.checkVisibility() && !item.disabled);
  if (!items.length || event.target.localName === "select") return;
  event.preventDefault();
  const at = items.indexOf(event.target);
  const next = {
    ArrowDown: items[(at + 1) % items.length], ArrowUp: items[(at - 1 + items.length) % items.length],
    Home: items[0], End: items.at(-1),
  }[event.key];
  next.focus();
}

/** A popover (a menu, the presence list) closes on Escape or on a click elsewhere. */
function closePopovers() {
  document.addEventListener("keydown", menuKeys);
  document.addEventListener("click", (event) => {
    for (const open of document.querySelectorAll("details.popover[open]")) {
      if (!open.contains(event.target)) open.open = false;
    }
  });
  document.addEventListener("keydown", (event) => {
    const open = event.key === "Escape" && event.target.closest?.("details.popover[open]");
    if (!open) return;
    event.preventDefault();
    event.stopPropagation(); // Escape closes the menu, not the drawer or presentation too
    open.open = false;
    open.querySelector("summary").focus();
  });
}

/**
 * The skip links: to the board, the findings to sort, the orientations and the drawer.
 * A fragment would replace the link's key (and reload the page): they move the focus.
 */
function wireSkips(screen) {
  $("skips").addEventListener("click", (event) => {
    const link = event.target.closest("a[data-skip]");
    if (!link) return;
    event.preventDefault();
    const target = {
      board: () => $("board"), pool: () => $("section-pool"), orientations: () => $("orient-title"),
    }[link.dataset.skip];
    if (target) target().focus();
    else screen.drawer(true); // its title takes the focus
  });
}

function problem(key) {
  for (const id of ["join", "board-page", "home"]) $(id).hidden = true;
  label($("problem-text"), key);
  $("problem").hidden = false;
}

async function openWorkshop(workshop) {
  const token = new URLSearchParams(location.hash.slice(1)).get("k");
  if (!token) {
    problem("join.noKey");
    return;
  }
  // the role decides whether to ask for a pseudonym: an observer (the wall, the public)
  // is never asked; the link's role comes from the server, or from the last visit offline
  const meta = (await loadMeta(workshop, token)) ?? store.loadMeta(workshop);
  if (meta?.role === "observer") {
    enter(workshop, token, t("observer.name"));
    return;
  }
  const name = store.pref("name", "");
  if (name) {
    enter(workshop, token, name);
    return;
  }
  $("join").hidden = false;
  const input = $("join-name");
  input.focus();
  $("join-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = input.value.trim();
    if (!chosen) return;
    store.setPref("name", chosen);
    $("join").hidden = true;
    enter(workshop, token, chosen);
  });
}

/** The workshop's title and territory (and this link's role), shown in the header. */
async function loadMeta(workshop, token) {
  const show = (meta) => {
    $("ws-title").textContent = meta.title;
    $("ws-territory").textContent = meta.territory ?? "";
    document.title = `${meta.title} · Atelier`;
    $("ws-meta").hidden = false;
  };
  const cached = store.loadMeta(workshop);
  if (cached) show(cached);
  try {
    const response = await fetch(`/api/workshops/${workshop}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (response.status === 404) {
      problem("join.badLink");
      return null;
    }
    if (!response.ok) return null;
    const body = await response.json();
    const meta = { ...store.loadMeta(workshop), title: body.title, territory: body.territory, role: body.role };
    store.saveMeta(workshop, meta);
    show(meta);
    return meta;
  } catch {
    return null; // offline: the cached title (and role) will do
  }
}

function enter(workshop, token, name) {
  $("board-page").hidden = false;
  $("skips").hidden = false;
  $("status").hidden = false;
  $("toolbar").hidden = false;
  const drafts = {
    load: (subject) => store.loadDraft(workshop, subject),
    save: (subject, value) => store.saveDraft(workshop, subject, value),
  };
  let server = emptyBoard();
  const cached = store.loadBoard(workshop);
  if (cached) server = boardFromState(cached);
  const savedAt = new Map(); // subject -> when its last op was acknowledged
  const holders = new Map(); // sid -> {name, note}
  let me = null;
  let role = store.loadMeta(workshop)?.role ?? null; // read-only until someone says
  let frame = 0;
  let saveTimer = null;
  let draftsRestored = false;

  const conn = new Connection({ workshop, token, name, onFrame, onState: showState });
  // a vote keeps the ballot it leads to, so its guess never counts it twice (model.js)
  const send = (op) => {
    const vote = op.kind === "vote.add" || op.kind === "vote.remove";
    const view = vote ? copyBoard(server) : null;
    if (vote) for (const entry of conn.outbox) applyIntent(view, entry.op, name, entry.ballot);
    conn.send(op, vote ? { ballot: ballotAfter(view, op) } : {});
    render();
  };
  const api = new Api(workshop, token);
  let shown = server; // the last view drawn, for the facilitator's pick of names
  const view = () => shown;
  let people = []; // who is in the room (the last presence frame)
  const screen = new Screen();
  const debates = new Debates($("debates"), { send, view });
  const wall = new Wall({ send, view });
  const parts = new OrientationParts({
    onOp: send,
    drafts,
    onShow: (id) => wall.point(id),
    onDebate: (id) => { // the orientation's menu: its debate, in the drawer
      screen.drawer(true);
      $("panel-debates").open = true;
      debates.reveal(id);
    },
  });
  const board = new BoardView($("board"), {
    onOp: send,
    onDrag: (note) => conn.drag(note),
    drafts,
    parts,
  });
  board.onNotice = announce;
  wireSkips(screen);
  const unplaced = new UnplacedIdeas({ onOp: send, view });
  board.lanes.insertBefore(unplaced.root, board.orientHead);
  const capLine = document.createElement("p");
  capLine.className = "cap-board";
  capLine.hidden = true;
  board.orientHead.after(capLine);
  const filters = new Filters({ workshop, onChange: (matches) => { board.setFilter(matches); render(); } });
  board.setFilter(filters.active() ? (note) => filters.matches(note) : null);
  const instance = new Instance({ send, view, people: () => people });
  const vigilance = new Vigilance({ send, view });
  const snapshots = new Snapshots(api);
  let presentedFor = null; // the role presentation mode was last chosen for
  const flow = new FlowView({ onRecordNeeded: () => showRecord(0) });
  wireFacilitator({ send, api, workshop, view, vigilance });
  wireImport(api);

  async function showRecord(attempt) {
    try {
      const snapshot = await snapshots.record();
      const meta = { title: $("ws-title").textContent, territory: $("ws-territory").textContent };
      $("record-body").replaceChildren(...recordNodes(snapshot, meta));
      $("record").hidden = false;
      settle(); // the facilitator who froze it lands on its title
      snapshots.changed();
    } catch (error) {
      // the process that applied the freeze may not have stored the record yet
      if (attempt < 8) setTimeout(() => showRecord(attempt + 1), RECORD_RETRY * (attempt + 1));
      else toast(t("fac.failed", { message: error.message }));
    }
  }
  if (cached) conn.seq = cached.seq; // rejoin from what we already show

  function render() {
    if (frame) return;
    // batched: a burst of events costs one pass over the DOM
    const run = () => {
      cancelAnimationFrame(frame);
      clearTimeout(fallback);
      frame = 0;
      draw();
    };
    frame = requestAnimationFrame(run);
    const fallback = setTimeout(run, 100); // rAF sleeps in background tabs
  }

  function draw() {
    const started = performance.now();
    const view = copyBoard(server);
    const statuses = new Map();
    for (const entry of conn.outbox) {
      applyIntent(view, entry.op, name, entry.ballot);
      statuses.set(subjectOf(entry.op), "pending");
    }
    const now = Date.now();
    for (const [subject, at] of savedAt) {
      if (now - at > SAVED_FOR) savedAt.delete(subject);
      else if (!statuses.has(subject)) statuses.set(subject, "saved");
    }
    shown = view;
    const frozen = Boolean(view.flow.frozen);
    document.body.dataset.role = role ?? "";
    $("tools-name").hidden = role === "observer";
    label($("drawer-label"), role === "facilitator" ? "drawer.facilitator" : "drawer.other");
    label($("skip-tools"), role === "facilitator" ? "skip.tools" : "skip.summary");
    label($("drawer-title"), role === "facilitator" ? "drawer.facilitator" : "drawer.other");
    if (role && presentedFor !== role) {
      presentedFor = role;
      // the observer link is the wall's: it opens in presentation mode
      if (role === "observer" && store.pref("present.observer", true)) screen.present(true, { focus: false });
      $("panel-facilitator").open = role === "facilitator";
    }
    const editor = (role === "participant" || role === "facilitator") && !frozen;
    board.setReadOnly(!editor);
    // shaping the orientations is the facilitator's, and participants' once opened to them
    const canShape = role === "facilitator" || (role === "participant" && view.flow.tools?.shaping === true);
    board.setShaping(canShape);
    document.body.toggleAttribute("data-can-shape", canShape && !frozen);
    label($("readonly"), frozen ? "board.frozen" : "board.readonly");
    $("readonly").hidden = !(frozen || role === "observer");
    board.update(view);
    unplaced.update(view);
    showCap(view);
    flow.update(view, role);
    filters.update(view);
    instance.update(view, role, canShape && !frozen);
    debates.update(view, canShape && !frozen);
    vigilance.update(view);
    wall.update(view);
    board.setStatuses(statuses);
    const pending = conn.outbox.length;
    label($("sync"), pending ? "sync.pending" : "sync.saved", { n: pending });
    $("sync").dataset.state = pending ? "pending" : "saved";
    if (!draftsRestored && conn.state === "online") {
      draftsRestored = true;
      board.restoreDrafts(store.draftSubjects(workshop));
      parts.restoreDrafts(store.draftSubjects(workshop));
    }
    // the cost of each draw, for the browser's performance tools (and the perf checks)
    if (performance.getEntriesByName(DRAW_MEASURE).length >= 500) performance.clearMeasures(DRAW_MEASURE);
    performance.measure(DRAW_MEASURE, { start: started });
    settle(); // what the draw hid or removed never leaves the focus on the page's body
    screen.fitSoon();
  }

  function saveBoardSoon() {
    if (saveTimer) return;
    saveTimer = setTimeout(saveBoard, SAVE_BOARD_EVERY);
  }

  function saveBoard() {
    clearTimeout(saveTimer);
    saveTimer = null;
    store.saveBoard(workshop, stateOf(server));
  }
  // a reload or a closed tab must not lose the last second of the board
  addEventListener("pagehide", () => { if (saveTimer) saveBoard(); });

  function onFrame(msg, entry) {
    switch (msg.type) {
      case "welcome":
        me = msg.sid;
        role = msg.role;
        store.saveMeta(workshop, { ...store.loadMeta(workshop), role }); // for a reload offline
        server = applyFrame(server, msg);
        saveBoardSoon();
        break;
      case "event": {
        if (msg.seq <= server.seq) return; // already applied (the welcome carried it)
        const before = server.flow;
        // our own op's event comes while the op still waits in the outbox for its ack
        const mine = conn.outbox.some((e) => e.op.kind === msg.op.kind && subjectOf(e.op) === subjectOf(msg.op));
        server = applyFrame(server, msg);
        saveBoardSoon();
        tell(msg.op, before);
        if (!mine) tellOthers(msg.op);
        break;
      }
      case "reset":
        server = applyFrame(server, msg);
        saveBoardSoon();
        break;
      case "ack":
        if (entry) {
          savedAt.set(subjectOf(entry.op), Date.now());
          setTimeout(render, SAVED_FOR + 50);
        }
        break;
      case "reject": {
        if (!entry) return;
        const key = `reject.${msg.code}`;
        let reason;
        try {
          reason = t(key);
        } catch {
          reason = msg.message; // a code this client does not know yet: the server's words
        }
        const text = t("reject.prefix", { reason });
        toast(text);
        announce(text);
        break;
      }
      case "vigilance": // the facilitator's checks
        vigilance.set(msg.checks);
        return;
      case "presence":
        people = msg.users;
        instance.showRoom();
        showPresence(msg.users);
        for (const sid of holders.keys()) {
          if (!msg.users.some((u) => u.sid === sid)) holders.delete(sid);
        }
        showHolders();
        return;
      case "drag":
        if (msg.note) holders.set(msg.sid, { name: msg.name, note: msg.note });
        else holders.delete(msg.sid);
        showHolders();
        return;
      case "error":
        if (msg.code === "bad_link") problem("join.badLink");
        else toast(t("error.server", { message: msg.message }));
        return;
      default:
        throw new Error(`Unexpected message type ${msg.type}`);
    }
    render();
  }

  /** Say what the flow's events change for everyone (live region and the toolbar's news). */
  function tell(ev, before) {
    const say = (key, params) => {
      announce(t(key, params));
      news(key, params);
    };
    switch (ev.kind) {
      case "phase.next":
        say("flow.phaseOpened", { phase: { key: `phase.${ev.phase}` } });
        snapshots.changed();
        break;
      case "snapshot.take":
        snapshots.changed();
        break;
      case "tools.set":
        if (ev.tools.voting && !before.tools?.voting) say("flow.voteOpened", { budget: ev.tools.budget });
        else if (!ev.tools.voting && before.tools?.voting) say("flow.voteClosed");
        if (ev.notes?.length) say("flow.notesRevealed");
        break;
      case "vote.round":
        say("flow.roundOpened", { budget: ev.tools.budget });
        break;
      case "votes.reveal":
        say("flow.votesRevealed");
        break;
      case "notes.reveal":
        say("flow.notesRevealed");
        break;
      case "reveal":
        say("flow.revealed");
        break;
      case "freeze":
        say("flow.frozen");
        snapshots.changed();
        break;
      default:
        break;
    }
  }

  /** Count what other people changed, for the live region's next summary. */
  function tellOthers(ev) {
    const title = (id) => server.columns.get(id)?.title ?? "";
    const kinds = {
      "note.add": "added", "note.edit": "edited", "note.move": "moved", "note.delete": "deleted",
      "note.restore": "restored", "idea.add": "ideaAdded", "idea.move": "ideaMoved", "idea.delete": "ideaDeleted",
      "column.move": "columnMoved", "column.state": "stated",
    };
    const named = {
      "column.add": "columnAdded", "column.rename": "columnRenamed", "column.delete": "columnDeleted",
      "column.lock": "locked", "column.unlock": "unlocked", "column.documents": "documents",
    };
    if (ev.private) return; // a silent note of this browser's own: never someone else's
    if (ev.kind in kinds) noteOthers(kinds[ev.kind]);
    else if (ev.kind in named) noteOthers(named[ev.kind], title(ev.id));
    else if (ev.kind === "decision.set" && ev.decision) {
      announce(t("others.decided", { column: title(ev.column), outcome: { key: `decision.${ev.decision.outcome}` } }));
    } else if (ev.kind === "cap.set" && ev.text) announce(t("others.cap"));
  }

  let newsTimer = 0;
  /** A line of news in the toolbar: it never covers the board, and clears itself. */
  function news(key, params) {
    const line = $("news");
    label(line, key, params);
    line.hidden = false;
    clearTimeout(newsTimer);
    newsTimer = setTimeout(() => { line.hidden = true; }, NEWS_SHOWN);
  }

  /** « Le cap du territoire » above the orientations, for everyone, once formulated. */
  function showCap(view) {
    const cap = view.council?.cap ?? "";
    if (capLine.dataset.cap === cap) return;
    capLine.dataset.cap = cap;
    capLine.hidden = !cap;
    const title = document.createElement("strong");
    label(title, "cap.title");
    const words = document.createElement("span");
    words.lang = "fr";
    words.textContent = cap;
    capLine.replaceChildren(title, " ", words);
  }

  function showHolders() {
    const held = new Map();
    for (const { name: who, note } of holders.values()) held.set(note, who);
    board.setHeld(held);
  }

  function showPresence(users) {
    const list = $("presence-list");
    list.replaceChildren(...users.map((user) => {
      const item = document.createElement("li");
      item.className = `person person-${user.role}`;
      const who = document.createElement("span");
      who.textContent = user.name;
      item.append(who);
      if (user.role !== "participant") {
        const role = document.createElement("span");
        role.className = "person-role";
        label(role, `role.${user.role}`);
        item.append(role);
      }
      if (user.sid === me) {
        item.classList.add("me");
        const you = document.createElement("span");
        you.className = "person-role";
        label(you, "presence.you");
        item.append(you);
      }
      return item;
    }));
    label($("presence-count"), "presence.count", { n: users.length });
    $("presence").hidden = false;
  }

  function showState(state) {
    const pill = $("conn");
    pill.dataset.state = state;
    label(pill, `conn.${state}`);
    if (state === "refused") problem("join.badLink");
    if (state !== "online") {
      holders.clear();
      showHolders();
    }
    render();
  }

  $("view-toggle").addEventListener("click", () => setView(!$("board").classList.contains("list-view")));
  function setView(list) {
    $("board").classList.toggle("list-view", list);
    label($("view-toggle"), list ? "view.board" : "view.list");
    store.setPref("view", list ? "list" : "board");
  }
  setView(store.pref("view", "board") === "list");
  $("my-name").textContent = name;
  $("name-change").addEventListener("click", () => {
    store.setPref("name", null);
    location.reload();
  });

  showState("connecting");
  draw();
  conn.connect();
}

start();
