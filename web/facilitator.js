// The facilitator's controls: phases and snapshots, silent writing, dot voting and its
// reveal, the countdown, erasing a pseudonym, replacing a link, the freeze (its dialog
// lists what is still open), reopening as a new version and deleting the workshop.
//
// Each control sends an op (through the outbox, like any edit) or calls the HTTP API
// with the link's secret. The server checks the role of every one of them; the page
// shows these controls to the facilitator only so nobody else tries in vain. What
// cannot be undone (freeze, delete, erase) asks first, in a <dialog>.

import { label, t } from "./i18n.js";
import { linkCard } from "./home.js";
import { announce, toast } from "./notice.js";
import { pref, setPref } from "./store.js";
import { showJoinScreen } from "./joinscreen.js";
import { PHASES } from "./flow.js";
import { $, el, userText } from "./dom.js";
import { pointTitle } from "./vigilance.js";
import { focusLater } from "./focus.js";

const ANONYMOUS = "Participant·e anonyme"; // the server's replacement name

/**
 * Ask a yes/no question in the page's dialog; resolves true on yes. `details` (nodes)
 * go under the question; `alt` ({label, run}) adds a third answer, run on its choice.
 * The focus goes back where it was when the dialog closes, unless an answer moves it.
 */
export function confirmAction({ title, text, ok, danger = true, details = [], alt = null }) {
  const dialog = $("confirm");
  label($("confirm-title"), title);
  label($("confirm-text"), text.key, text.params);
  label($("confirm-ok"), ok);
  $("confirm-ok").className = danger ? "danger" : "primary";
  $("confirm-details").replaceChildren(...details);
  $("confirm-details").hidden = details.length === 0;
  const other = $("confirm-alt");
  other.hidden = !alt;
  if (alt) label(other, alt.label);
  dialog.returnValue = "";
  dialog.showModal(); // focus starts on « Annuler »: the safe answer
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      if (dialog.returnValue === "alt") alt.run();
      resolve(dialog.returnValue === "ok");
    }, { once: true });
  });
}

/** The freeze dialog's list of what is still open: the method's points without an
 * answer and the objections without one (the freeze is never refused for them). */
function openList({ points, objections }, columns, said) {
  if (!points.length && !objections.length) return [el("p", "freeze-ok", "freeze.nothingOpen")];
  const nodes = [el("p", "freeze-warn", "freeze.openIntro")];
  if (points.length) {
    const list = el("ul", "freeze-open");
    for (const check of points) {
      const item = el("li");
      item.append(el("strong", "", "freeze.point", { n: check.number }), " ", pointTitle(check));
      list.append(item);
    }
    nodes.push(el("h3", "", "freeze.points", { n: points.length }), list);
  }
  if (objections.length) {
    const list = el("ul", "freeze-open");
    for (const check of objections) {
      const item = el("li");
      item.append(userText("span", "", `« ${said.get(check.objection) ?? ""} »`), " ",
        el("span", "", "freeze.on", { column: columns.get(check.column)?.title ?? "" }));
      list.append(item);
    }
    nodes.push(el("h3", "", "freeze.objections", { n: objections.length }), list);
  }
  nodes.push(el("p", "hint", "freeze.kept"));
  return nodes;
}

/**
 * Wire the facilitator panel; hooks: send(op), api (api.js), view() the board shown,
 * vigilance (vigilance.js) for what the freeze leaves open.
 */
export function wireFacilitator({ send, api, view, workshop, vigilance }) {
  const say = (key, params) => {
    const text = t(key, params);
    toast(text);
    announce(text);
  };
  const failed = (error) => say("fac.failed", { message: error.message });

  $("phase-next").addEventListener("click", async () => {
    const phase = view().flow.phase;
    if (phase >= PHASES) return;
    const yes = await confirmAction({
      title: "fac.phaseTitle",
      text: { key: "fac.phaseConfirm", params: { closed: { key: `phase.${phase}` }, opened: { key: `phase.${phase + 1}` } } },
      ok: "fac.phaseOk",
      danger: false,
    });
    // the board may have moved on while the question was open: never skip a phase
    if (!yes || view().flow.phase !== phase) return;
    send({ kind: "phase.next" });
    announce(t("fac.phaseClosing"));
  });
  const joinScreen = () => showJoinScreen({ workshop, title: $("ws-title").textContent, token: api.token });
  $("join-open").addEventListener("click", joinScreen);
  $("join-open-2").addEventListener("click", joinScreen);
  $("snapshot-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("snapshot-label");
    const text = input.value.trim();
    if (!text) return;
    send({ kind: "snapshot.take", label: text });
    input.value = "";
    announce(t("fac.snapshotTaken", { label: text }));
  });
  $("silent-toggle").addEventListener("change", (event) => {
    send({ kind: "tools.set", silent: event.target.checked });
  });
  $("vote-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const budget = Number($("vote-budget").value);
    if (!(budget >= 1 && budget <= 20)) return;
    send({ kind: "tools.set", voting: true, budget });
    announce(t("fac.voteOpened", { budget })); // the event's news follows for everyone
    focusLater(() => $("vote-close")); // « Ouvrir » hides once open: its opposite takes over
  });
  $("vote-close").addEventListener("click", () => {
    send({ kind: "tools.set", voting: false });
    focusLater(() => $("vote-open"));
  });
  $("vote-round").addEventListener("click", async () => {
    const budget = Number($("vote-budget").value);
    if (!(budget >= 1 && budget <= 20)) return;
    const yes = await confirmAction({
      title: "fac.roundTitle", text: { key: "fac.roundConfirm", params: { budget } }, ok: "fac.roundOk",
    });
    if (yes) send({ kind: "vote.round", budget });
  });
  $("reveal-votes").addEventListener("click", () => {
    send({ kind: "votes.reveal" });
    announce(t("fac.revealed"));
    focusLater(() => $("vote-open")); // revealed, the vote is closed: reopening comes next
  });
  $("reveal-notes").addEventListener("click", () => {
    send({ kind: "notes.reveal" });
    announce(t("fac.revealed"));
    focusLater(() => $("silent-toggle")); // nothing waits any more: the button turns disabled
  });
  $("shaping-toggle").addEventListener("change", (event) => {
    send({ kind: "tools.set", shaping: event.target.checked });
  });
  $("timer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const minutes = Number($("timer-minutes").value);
    if (!(minutes > 0 && minutes <= 240)) return;
    send({ kind: "timer.start", seconds: Math.round(minutes * 60) });
  });
  $("timer-stop").addEventListener("click", () => send({ kind: "timer.stop" }));

  // the pseudonyms on the board, to pick the one to erase (refreshed when the panel opens)
  const names = () => {
    const found = new Set();
    const board = view();
    // an import's author is no pseudonym (« Diagnostic », a file): nothing to erase there
    for (const note of board.notes.values()) if (!note.deleted && !note.imported) found.add(note.author);
    for (const idea of board.ideas.values()) if (!idea.deleted && !idea.imported) found.add(idea.author);
    // the instance's members and who raised an objection: names the erase re-signs too
    for (const member of board.council?.members.values() ?? []) found.add(member.name);
    for (const objection of board.council?.objections.values() ?? []) if (objection.by) found.add(objection.by);
    found.delete(ANONYMOUS);
    return [...found].sort((a, b) => a.localeCompare(b));
  };
  const fillNames = () => {
    const select = $("erase-name");
    const chosen = select.value;
    select.replaceChildren(...names().map((name) => {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name;
      return option;
    }));
    if (chosen) select.value = chosen;
  };
  $("panel-facilitator").addEventListener("toggle", fillNames);
  $("erase-name").addEventListener("focus", fillNames);
  $("erase-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = $("erase-name").value;
    if (!name) return;
    const yes = await confirmAction({
      title: "fac.erase", text: { key: "fac.eraseConfirm", params: { name } }, ok: "fac.eraseOk",
    });
    if (!yes) return;
    send({ kind: "participant.erase", name });
    say("fac.erased", { name });
  });

  const showLinks = (links, id) => {
    const list = $("new-links");
    list.replaceChildren(...Object.entries(links).map(([role, link]) => linkCard(role, link, { workshop: id })));
    $("new-links-box").hidden = false;
    $("new-links-title").focus();
  };
  // the facilitator's own links are kept on the home page of this browser
  const remember = (id, title, links) => {
    const recent = pref("workshops", []);
    const old = recent.find((w) => w.id === id);
    const entry = { id, title: title ?? old?.title ?? id, links: { ...old?.links, ...links } };
    setPref("workshops", [entry, ...recent.filter((w) => w.id !== id)].slice(0, 10));
  };
  $("rotate-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const role = $("rotate-role").value;
    try {
      const body = await api.json(`/links/${role}/rotate`, { method: "POST" });
      remember(workshop, null, { [role]: body.link });
      if (role === "facilitator") {
        // our own link just changed and the old one no longer opens anything: move to it
        location.replace(body.link);
        return;
      }
      showLinks({ [role]: body.link }, workshop);
      say("fac.rotated", { role: { key: `role.${role}` } });
    } catch (error) {
      failed(error);
    }
  });

  $("freeze").addEventListener("click", async () => {
    const board = view();
    const said = new Map([...(board.council?.objections.values() ?? [])].map((o) => [o.id, o.text]));
    const open = vigilance.openItems();
    const yes = await confirmAction({
      title: "fac.freezeTitle", text: { key: "fac.freezeConfirm" }, ok: "fac.freezeOk",
      details: openList(open, board.columns, said),
      alt: open.points.length || open.objections.length
        ? { label: "freeze.answerFirst", run: () => vigilance.focusFirstOpen() } : null,
    });
    if (!yes) return;
    send({ kind: "freeze" });
    announce(t("fac.freezing"));
    focusLater(() => ($("record").hidden ? null : $("record-title"))); // the record it makes
  });
  $("reopen").addEventListener("click", async () => {
    try {
      const body = await api.json("/reopen", { method: "POST" });
      remember(body.id, body.title, body.links);
      showLinks(body.links, body.id);
      say("fac.reopened");
    } catch (error) {
      failed(error);
    }
  });
  $("delete-ws").addEventListener("click", async () => {
    const yes = await confirmAction({
      title: "fac.deleteTitle", text: { key: "fac.deleteConfirm" }, ok: "fac.deleteOk",
    });
    if (!yes) return;
    try {
      await api.json("", { method: "DELETE" });
      setPref("workshops", pref("workshops", []).filter((w) => w.id !== workshop));
      location.assign("/");
    } catch (error) {
      failed(error);
    }
  });
}
