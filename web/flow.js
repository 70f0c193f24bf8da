// The workshop's flow above the board: the five Néolab² phases, the tools in use, the
// countdown and the coverage grid of orientations × ambitions; once frozen, it asks
// for the official record (record.js draws it).
//
// update(view) redraws only the parts whose data changed; the countdown ticks on its
// own each second but speaks (aria-live, polite) only at a few milestones.

import { label, t } from "./i18n.js";
import { AMBITIONS, liveColumns } from "./model.js";
import { $, el, text, userText } from "./dom.js";
import { announce } from "./notice.js";

export const PHASES = 5;
// seconds left at which the countdown is read out, besides its start and its end
const MILESTONES = [300, 60, 10];
// seconds « Temps écoulé » stays on screen after the end, before the countdown clears itself
const OVER_SHOWN = 10;

/** mm:ss (or h:mm:ss) of a number of seconds. */
export function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(hh ? 2 : 1, "0");
  const ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** What everyone sees of the flow, drawn into the #flow section. */
export class FlowView {
  constructor({ onRecordNeeded }) {
    this.onRecordNeeded = onRecordNeeded;
    this.view = null;
    this.role = null;
    this.timerEnds = null;
    this.spoken = new Set(); // milestones already read out for this countdown
    this.recordShown = false;
    this.coverage = null; // the coverage grid's last content, to skip redraws
    this.makePhases();
    setInterval(() => this.tick(), 1000);
  }

  makePhases() {
    const list = $("phases");
    for (let n = 1; n <= PHASES; n += 1) {
      const item = el("li", "phase");
      item.dataset.phase = String(n);
      item.append(text("span", "phase-n", String(n)), el("span", "phase-label", `phase.${n}`));
      list.append(item);
    }
  }

  /** Draw what changed; role decides only what is shown, never what is allowed. */
  update(view, role) {
    const prev = this.view;
    this.view = view;
    this.role = role;
    const flow = view.flow;
    if (!prev || prev.flow.phase !== flow.phase || prev.flow.firstPhase !== flow.firstPhase) {
      this.showPhase(flow.phase, flow.firstPhase ?? 1);
    }
    if (!prev || prev.flow.tools !== flow.tools || prev.flow.left !== flow.left
      || prev.flow.counts !== flow.counts || prev.flow.silentWaiting !== flow.silentWaiting) {
      this.showTools(flow);
    }
    if (flow.timer !== this.timerEnds) this.startTimer(flow.timer);
    this.showCoverage(view);
    document.body.toggleAttribute("data-frozen", Boolean(flow.frozen));
    if (flow.frozen && !this.recordShown) {
      this.recordShown = true;
      this.onRecordNeeded();
    }
  }

  /** The phases: before `first`, held elsewhere; then closed, current, to come. */
  showPhase(phase, first) {
    for (const item of $("phases").children) {
      const n = Number(item.dataset.phase);
      const elsewhere = n < first;
      item.classList.toggle("elsewhere", elsewhere);
      item.classList.toggle("done", n < phase && !elsewhere);
      const note = item.querySelector(".phase-elsewhere");
      if (elsewhere && !note) item.append(el("span", "vh phase-elsewhere", "phase.elsewhere"));
      if (!elsewhere) note?.remove();
      if (n === phase) item.setAttribute("aria-current", "step");
      else item.removeAttribute("aria-current");
    }
    label($("phase-now"), "fac.phaseNow", { phase: { key: `phase.${phase}` } });
    const next = $("phase-next");
    if (phase < PHASES) {
      label(next, "fac.phaseGo", { n: phase + 1 }); // the confirmation says what it closes
      next.disabled = false;
    } else {
      label(next, "fac.lastPhase");
      next.disabled = true;
    }
  }

  showTools(flow) {
    const tools = flow.tools ?? {};
    const waiting = flow.silentWaiting ?? 0; // how many silent notes wait: the server's count
    const silent = $("tool-silent");
    silent.hidden = !tools.silent;
    if (tools.silent) {
      if (this.role === "participant") label(silent, "tool.silentOn");
      else if (this.role === "facilitator") label(silent, "tool.silentFac", { n: waiting });
      else label(silent, "tool.silentShort");
    }
    $("silent-toggle").checked = Boolean(tools.silent);
    label($("silent-waiting"), waiting ? "fac.silentWaiting" : "fac.silentNone", { n: waiting });
    $("reveal-notes").disabled = !waiting;
    const voting = $("tool-voting");
    if (tools.voting) {
      // a participant sees their own budget; nobody else has one (and a wall shows none)
      if (this.role === "participant" && flow.left !== null && flow.left !== undefined) {
        label(voting, "tool.votingLeft", { left: flow.left, budget: tools.budget });
      } else label(voting, "tool.voting", { budget: tools.budget });
      voting.hidden = false;
    } else if (flow.counts) {
      label(voting, "tool.revealed");
      voting.hidden = false;
    } else voting.hidden = true;
    $("vote-budget").value = String(tools.budget ?? 3);
    // closing keeps the ballots and opening goes on with them; only a new round clears them
    $("vote-open").hidden = Boolean(tools.voting);
    $("vote-close").hidden = !tools.voting;
    $("shaping-toggle").checked = Boolean(tools.shaping);
    const state = tools.voting ? "fac.voteStateOpen" : flow.counts ? "fac.voteStateRevealed" : "fac.voteStateClosed2";
    label($("vote-now"), state, { budget: tools.budget });
    $("reveal-votes").disabled = Boolean(tools.revealed) && !tools.voting;
  }

  /** A new countdown (or none): show it and say it once. */
  startTimer(endsAt) {
    this.timerEnds = endsAt;
    this.spoken = new Set();
    const box = $("timer");
    box.hidden = endsAt === null;
    $("timer-stop").disabled = endsAt === null;
    if (endsAt === null) return;
    const left = (endsAt - Date.now()) / 1000;
    if (left > 0) {
      this.say("timer.started", { time: spoken(left) });
      for (const m of MILESTONES) if (left <= m) this.spoken.add(m); // already past them
    } else this.spoken.add(0);
    this.tick();
  }

  tick() {
    if (this.timerEnds === null) return;
    const left = (this.timerEnds - Date.now()) / 1000;
    const box = $("timer");
    // a finished countdown clears itself: nobody has to stop it for the screen to be calm
    box.hidden = left < -OVER_SHOWN;
    label(box, left > 0 ? "timer.left" : "timer.over", { time: clock(left) });
    box.classList.toggle("urgent", left > 0 && left <= 60);
    box.classList.toggle("over", left <= 0);
    for (const m of MILESTONES) {
      if (left <= m && left > 0 && !this.spoken.has(m)) {
        this.spoken.add(m);
        this.say("timer.milestone", { time: spoken(left) });
      }
    }
    if (left <= 0 && !this.spoken.has(0)) {
      this.spoken.add(0);
      this.say("timer.end");
    }
  }

  say(key, params) {
    announce(t(key, params)); // the page's one live region
  }

  /** The coverage grid: how many findings of each orientation serve each ambition. */
  showCoverage(view) {
    const columns = liveColumns(view);
    const counts = new Map(columns.map((c) => [c.id, Object.fromEntries(AMBITIONS.map((a) => [a, 0]))]));
    for (const note of view.notes.values()) {
      const row = !note.deleted && counts.get(note.column);
      if (row) for (const a of note.ambitions) if (a in row) row[a] += 1;
    }
    // one pass over the notes each draw; the table itself is rebuilt only when it changes
    const signature = JSON.stringify(columns.map((c) => [c.title, counts.get(c.id)]));
    if (signature === this.coverage) return;
    this.coverage = signature;
    const caption = el("caption", "", "cover.caption");
    const head = el("thead");
    const headRow = el("tr");
    const corner = el("th", "", "cover.orientation");
    corner.scope = "col";
    headRow.append(corner);
    for (const code of AMBITIONS) {
      const th = el("th", "", `amb.short.${code}`);
      th.scope = "col";
      th.dataset.i18nLabel = `amb.${code}`;
      th.title = t(`amb.${code}`);
      headRow.append(th);
    }
    head.append(headRow);
    const body = el("tbody");
    const served = new Set();
    for (const column of columns) {
      const row = el("tr");
      const th = userText("th", "", column.title);
      th.scope = "row";
      row.append(th);
      for (const code of AMBITIONS) {
        const n = counts.get(column.id)[code];
        if (n) served.add(code);
        row.append(el("td", n ? "served" : "unserved", "cover.cell", { n }));
      }
      body.append(row);
    }
    const foot = el("tfoot");
    const footRow = el("tr");
    const footHead = el("th", "", "cover.served");
    footHead.scope = "row";
    footRow.append(footHead);
    for (const code of AMBITIONS) {
      footRow.append(el("td", served.has(code) ? "served" : "unserved", served.has(code) ? "cover.yes" : "cover.no"));
    }
    foot.append(footRow);
    $("coverage").replaceChildren(caption, head, body, foot);
  }
}

function spoken(seconds) {
  const s = Math.ceil(seconds);
  if (s >= 60) return t("timer.minutes", { n: Math.round(s / 60) });
  return t("timer.seconds", { n: s });
}
