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
import { el } from "./dom.js";

function action(key, className, run, params) {
  const node = el("button", className, key, params);
  node.type = "button";
  node.addEventListener("click", run);
  return node;
}

/** The parts of every orientation column; hooks: onOp(op), drafts {load, save}. */
export class OrientationParts {
  constructor({ onOp, drafts }) {
    this.onOp = onOp;
    this.drafts = drafts;
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
    // an orientation not yet worded: who may word it sees the button in its place
    const editStatement = action("orientation.formulate", "quiet statement-add editor-only shaper-only unlocked-only",
      () => this.openStatement(id));
    statementBox.append(statementLabel, statement, editStatement);
    const badges = el("span", "col-badges");
    const lockBadge = el("span", "badge lock");
    const tally = el("span", "badge tally");
    badges.append(lockBadge, tally);
    const menuStatement = action("orientation.formulate", "unlocked-only", () => this.openStatement(id));
    const lock = action("orientation.lock", "facilitator-only", () => {
      const column = this.view.columns.get(id);
      this.onOp({ kind: column.locked ? "column.unlock" : "column.lock", id });
    });
    const votes = el("div", "votes editor-only");
    const voteRemove = action("vote.remove", "vote-remove", () => this.vote(id, "vote.remove"));
    const mineBox = el("span", "vote-mine");
    const voteAdd = action("vote.add", "primary vote-add", () => this.vote(id, "vote.add"));
    votes.append(voteRemove, mineBox, voteAdd);
    top.append(statementBox, votes);

    const bottom = el("details", "ideas");
    const summary = el("summary");
    const ideaList = el("ul", "idea-list");
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
      votes, voteAdd, voteRemove, mineBox, summary, ideaList, shown: null,
    });
    return { top, bottom, badges, items: [menuStatement, lock] };
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
      part.statement.classList.remove("empty");
    } else {
      label(part.statement, "orientation.noStatement");
      part.statement.classList.add("empty");
    }
    part.statementBox.classList.toggle("is-empty", !column.statement);
    for (const node of [part.editStatement, part.menuStatement]) {
      node.dataset.i18nLabel = "orientation.formulateIn";
      node.dataset.i18nArgs = JSON.stringify({ column: title });
      node.setAttribute("aria-label", t("orientation.formulateIn", { column: title }));
    }
    if (column.locked) label(part.lockBadge, "orientation.locked");
    else {
      delete part.lockBadge.dataset.i18n;
      part.lockBadge.textContent = "";
    }
    label(part.lock, column.locked ? "orientation.unlock" : "orientation.lock");
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
    part.ideaList.replaceChildren(...ideas.map((idea) => {
      const item = el("li", "idea");
      const text = el("span", "idea-text");
      text.textContent = idea.text;
      const by = el("span", "idea-author", "note.by", { name: idea.author });
      const drop = action("idea.delete", "icon editor-only", () => {
        this.onOp({ kind: "idea.delete", id: idea.id });
        announce(t("idea.deleted"));
      });
      drop.textContent = "✕";
      drop.setAttribute("aria-label", t("idea.deleteIt", { text: idea.text.slice(0, 60) }));
      item.append(text, by, drop);
      return item;
    }));
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
