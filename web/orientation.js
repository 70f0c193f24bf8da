// The workshop flow's parts of one orientation column: its statement, its lock, the dot
// votes on it and its « idées d'actions » parking lot.
//
// board.js asks make(key) for the nodes when it builds a column and calls update() after
// each draw; these parts are refreshed only when their column, the ideas or the flow
// object changed (model.js replaces them, never mutates them). Text goes in with
// textContent; who may do what is the server's call, the page only hides what it would
// refuse (observers, a frozen board, a locked column).

import { label, t } from "./i18n.js";
import { announce } from "./notice.js";
import { newId } from "./store.js";
import { CONTENT_LANG, el } from "./dom.js";
import { IdeaList } from "./ideas.js";

/** The framework documents an orientation may feed (the codes the server knows). */
export const DOCUMENTS = ["scot", "plui", "plh", "pcaet", "projet_territoire"];
/** A decision's outcomes, and a mark for each (the word says it; the mark is for the eye). */
export const OUTCOMES = { adoptee: "✓", amendee: "✎", ecartee: "✕", ajournee: "⏸" };

function action(key, className, run, params) {
  const node = el("button", className, key, params);
  node.type = "button";
  node.addEventListener("click", run);
  return node;
}

/** The parts of every orientation column; hooks: onOp(op), drafts {load, save}. */
export class OrientationParts {
  constructor({ onOp, drafts, onDebate = () => {}, onShow = () => {} }) {
    this.onOp = onOp;
    this.drafts = drafts;
    this.onDebate = onDebate; // open the orientation's debate in the drawer
    this.onShow = onShow; // point the presentation screens at it (or at the whole board)
    this.parts = new Map(); // column id -> its nodes and what they last showed
    this.view = null;
  }

  /**
   * The nodes of a new column: top goes under its heading, bottom under its composer,
   * badges (lock, votes) beside its title, items into its menu.
   */
  make(id) {
    const top = el("div", "orientation");
    const statementBox = el("div", "statement-box");
    const statementLabel = el("h3", "statement-label vh", "orientation.statement");
    const statement = el("p", "statement");
    const documents = el("p", "documents-fed");
    documents.hidden = true;
    // an orientation not yet worded: who may word it sees the button in its place
    const editStatement = action("orientation.formulate", "quiet statement-add editor-only shaper-only unlocked-only",
      () => this.openStatement(id));
    statementBox.append(statementLabel, statement, editStatement, documents);
    const badges = el("span", "col-badges");
    const lockBadge = el("span", "badge lock");
    const decision = el("span", "badge decision");
    const tally = el("span", "badge tally");
    badges.append(decision, lockBadge, tally);
    const menuStatement = action("orientation.formulate", "unlocked-only", () => this.openStatement(id));
    // a toggle: its name stays, its state is pressed or not (and said so)
    const lock = action("orientation.lock", "facilitator-only lock-toggle", () => {
      const column = this.view.columns.get(id);
      this.onOp({ kind: column.locked ? "column.unlock" : "column.lock", id });
      announce(t(column.locked ? "orientation.unlocking" : "orientation.locking", { column: column.title }));
    });
    lock.setAttribute("aria-pressed", "false");
    const debate = action("orientation.debate", "facilitator-only", () => this.onDebate(id));
    const show = action("orientation.showOnWall", "facilitator-only lock-toggle", () => {
      this.onShow(this.view.flow.focus === id ? null : id);
    });
    show.setAttribute("aria-pressed", "false");
    const votes = el("div", "votes editor-only");
    const voteRemove = action("vote.remove", "vote-remove", () => this.vote(id, "vote.remove"));
    const mineBox = el("span", "vote-mine");
    const voteAdd = action("vote.add", "primary vote-add", () => this.vote(id, "vote.add"));
    votes.append(voteRemove, mineBox, voteAdd);
    top.append(statementBox, votes);

    const bottom = el("details", "ideas");
    const summary = el("summary");
    const ideaList = el("ul", "idea-list");
    const ideas = new IdeaList(ideaList, { onOp: this.onOp, view: () => this.view });
    const form = el("form", "idea-form editor-only");
    const inputId = `idea-${id}`;
    const caption = el("label", "", "idea.new");
    caption.htmlFor = inputId;
    const input = el("input");
    input.id = inputId;
    input.maxLength = 1000;
    input.autocomplete = "off";
    input.value = this.drafts.load(`idea.${id}`) ?? "";
    input.addEventListener("input", () => this.drafts.save(`idea.${id}`, input.value || null));
    const park = el("button", "", "idea.add");
    park.type = "submit";
    form.append(caption, input, park);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      this.onOp({ kind: "idea.add", id: newId("i"), column: id, text });
      input.value = "";
      this.drafts.save(`idea.${id}`, null);
      announce(t("idea.parked", { column: this.title(id) }));
    });
    bottom.append(summary, ideaList, form);
    this.parts.set(id, {
      top, bottom, statement, statementBox, editStatement, menuStatement, lockBadge, lock, tally,
      votes, voteAdd, voteRemove, mineBox, summary, ideas, documents, decision, show, shown: null,
    });
    return { top, bottom, badges, items: [menuStatement, debate, show, lock] };
  }

  title(id) {
    return this.view?.columns.get(id)?.title ?? "";
  }

  vote(id, kind) {
    this.onOp({ kind, column: id });
    announce(t(kind === "vote.add" ? "vote.added" : "vote.removed", { column: this.title(id) }));
  }

  /** Refresh the parts whose column, ideas or flow changed since the last draw. */
  update(view, columns) {
    this.view = view;
    for (const [id, part] of this.parts) {
      const column = view.columns.get(id);
      if (!column || column.deleted || !columns.has(id)) {
        this.parts.delete(id);
        continue;
      }
      const shown = part.shown;
      if (shown && shown.column === column && shown.ideas === view.ideas && shown.flow === view.flow) continue;
      part.shown = { column, ideas: view.ideas, flow: view.flow };
      this.fill(id, part, column, view, columns.get(id).section);
    }
  }

  fill(id, part, column, view, section) {
    const title = column.title;
    section.classList.toggle("locked", Boolean(column.locked));
    if (column.statement) {
      part.statement.textContent = column.statement;
      delete part.statement.dataset.i18n;
      part.statement.lang = CONTENT_LANG;
      part.statement.classList.remove("empty");
    } else {
      label(part.statement, "orientation.noStatement");
      part.statement.removeAttribute("lang");
      part.statement.classList.add("empty");
    }
    this.fillRecordParts(part, column);
    part.statementBox.classList.toggle("is-empty", !column.statement);
    for (const node of [part.editStatement, part.menuStatement]) {
      node.dataset.i18nLabel = "orientation.formulateIn";
      node.dataset.i18nArgs = JSON.stringify({ column: title });
      node.setAttribute("aria-label", t("orientation.formulateIn", { column: title }));
    }
    if (column.locked) {
      // the padlock is for the eye: a screen reader hears « verrouillée », not the emoji's name
      const mark = el("span");
      mark.textContent = "🔒 ";
      mark.setAttribute("aria-hidden", "true");
      part.lockBadge.replaceChildren(mark, el("span", "", "orientation.locked"));
    } else part.lockBadge.replaceChildren();
    part.lock.setAttribute("aria-pressed", String(Boolean(column.locked)));
    part.show.setAttribute("aria-pressed", String(view.flow.focus === id));
    const flow = view.flow;
    const mine = flow.mine?.[id] ?? 0;
    // counts are everyone's once revealed; before that, only the reader's own ballot shows
    if (flow.counts) label(part.tally, "vote.count", { n: flow.counts[id] ?? 0 });
    else {
      delete part.tally.dataset.i18n;
      part.tally.textContent = "";
    }
    const open = Boolean(flow.tools?.voting);
    part.votes.hidden = !open;
    if (open) label(part.mineBox, "vote.mine", { n: mine });
    part.voteAdd.disabled = !flow.left;
    part.voteRemove.disabled = !mine;
    for (const [button, key] of [[part.voteAdd, "vote.addTo"], [part.voteRemove, "vote.removeFrom"]]) {
      button.dataset.i18nLabel = key;
      button.dataset.i18nArgs = JSON.stringify({ column: title });
      button.setAttribute("aria-label", t(key, { column: title }));
      button.title = t(key, { column: title });
    }
    const ideas = [...view.ideas.values()].filter((i) => i.column === id && !i.deleted);
    label(part.summary, "idea.title", { n: ideas.length });
    part.ideas.show(ideas);
  }

  /** What the co-decision record says of the orientation: its decision and the documents it feeds. */
  fillRecordParts(part, column) {
    const decision = column.decision;
    if (decision) {
      part.decision.className = `badge decision decision-${decision.outcome}`;
      const mark = el("span");
      mark.textContent = `${OUTCOMES[decision.outcome]} `;
      mark.setAttribute("aria-hidden", "true");
      part.decision.replaceChildren(mark, el("span", "", `decision.${decision.outcome}`));
    } else part.decision.replaceChildren();
    const named = [...(column.documents ?? []).map((code) => t(`doc.${code}`)), ...(column.others ?? [])];
    part.documents.hidden = named.length === 0;
    if (named.length) {
      const list = el("span");
      list.textContent = named.join(" · ");
      list.lang = CONTENT_LANG;
      part.documents.replaceChildren(el("span", "documents-label", "doc.feeds"), " ", list);
    }
  }

  /** Write or rewrite an orientation's statement, the draft kept as it is typed. */
  openStatement(id) {
    const part = this.parts.get(id);
    if (!part || part.statementBox.querySelector("form")) return;
    const column = this.view.columns.get(id);
    const form = el("form", "statement-form");
    const inputId = `statement-${id}`;
    const caption = el("label", "", "orientation.statementOf", { column: column.title });
    caption.htmlFor = inputId;
    const input = el("textarea");
    input.id = inputId;
    input.rows = 3;
    input.maxLength = 1000;
    input.value = this.drafts.load(`stmt.${id}`) ?? column.statement ?? "";
    input.addEventListener("input", () => this.drafts.save(`stmt.${id}`, input.value));
    const save = el("button", "primary", "note.save");
    save.type = "submit";
    const cancel = action("note.cancel", "", () => close());
    const actions = el("div", "panel-actions");
    actions.append(save, cancel);
    form.append(caption, input, actions);
    const close = () => {
      this.drafts.save(`stmt.${id}`, null);
      form.remove();
      part.editStatement.hidden = false;
      part.statement.hidden = false;
      part.statement.closest(".col")?.querySelector(".col-menu > summary")?.focus();
    };
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); close(); }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const statement = input.value.trim();
      if (statement !== (this.view.columns.get(id)?.statement ?? "")) {
        this.onOp({ kind: "column.state", id, statement });
      }
      close();
    });
    part.editStatement.hidden = true;
    part.statement.hidden = true;
    part.statementBox.append(form);
    input.focus();
  }

  /** Reopen the statement editors whose drafts survived a reload. */
  restoreDrafts(subjects) {
    for (const subject of subjects) {
      if (!subject.startsWith("stmt.")) continue;
      const id = subject.slice(5);
      if (this.parts.has(id)) this.openStatement(id);
      else this.drafts.save(subject, null);
    }
  }
}
