// The debate and the decision on each orientation, in the drawer: the framework
// documents it feeds, the consent round (each objection and its answer) and the
// instance's decision (adoptée, adoptée avec amendement, écartée, ajournée), taken by
// consent or by vote, a vote counted for the whole instance or collège by collège.
//
// One fold per orientation, kept by key (the open one, the focus and what is being typed
// survive live changes); a form is refilled from the board only while nobody types in it.
// The facilitator writes the debate down; everyone else reads it here.

import { label, t } from "./i18n.js";
import { announce } from "./notice.js";
import { newId } from "./store.js";
import { liveColumns } from "./model.js";
import { DOCUMENTS, OUTCOMES } from "./orientation.js";
import { CONTENT_LANG, clean, contentArea, el, markDirty, nameIt, syncChildren, userText } from "./dom.js";

const METHODS = ["consent", "vote"];
const COUNTS = ["for", "against", "abstain"];
const WHOLE = ""; // the tally line of the whole instance (college null)

function short(text) {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function button(key, className, params) {
  const node = el("button", className, key, params);
  node.type = "button";
  return node;
}

function field(form, key, control, params) {
  const caption = el("label", "", key, params);
  caption.htmlFor = control.id;
  form.append(caption, control);
  return control;
}

/** A group of radio buttons under a legend; returns the fieldset. */
function radios(name, legendKey, values, keyOf) {
  const set = el("fieldset", "choices");
  set.append(el("legend", "", legendKey));
  for (const value of values) {
    const option = el("label", "check");
    const radio = el("input");
    radio.type = "radio";
    radio.name = name;
    radio.value = value;
    option.append(radio, el("span", "", keyOf(value)));
    set.append(option);
  }
  return set;
}

/** The drawer's « Débat et décisions »; hooks: send(op), view() the board shown. */
export class Debates {
  constructor(root, { send, view }) {
    this.root = root;
    this.send = send;
    this.view = view;
    this.shown = null;
  }

  /** Open an orientation's fold and put the focus on it (from the orientation's menu). */
  reveal(id) {
    const fold = this.root.querySelector(`:scope > [data-key="${CSS.escape(id)}"]`);
    if (!fold) return;
    fold.open = true;
    fold.querySelector("summary").focus();
    fold.scrollIntoView({ block: "nearest" });
  }

  /** Draw what changed: one fold per live orientation, in board order. */
  update(view, canShape) {
    const council = view.council;
    const columns = council ? liveColumns(view) : [];
    // columns and the council are replaced when they change, never mutated: compare them
    // one by one (a draw for someone else's finding leaves these folds alone)
    const signature = [council, canShape, ...columns];
    const same = this.shown?.length === signature.length && this.shown.every((x, i) => x === signature[i]);
    if (same) return;
    this.shown = signature;
    this.canShape = canShape;
    const objections = council ? [...council.objections.values()] : [];
    const items = columns.map((column, i) => ({
      column, number: i + 1, objections: objections.filter((o) => o.column === column.id),
    }));
    syncChildren(this.root, items, (item) => item.column.id, (item) => this.make(item.column.id),
      (fold, item) => this.fill(fold, item, council));
  }

  make(id) {
    const fold = el("details", "debate");
    const summary = el("summary");
    const title = el("span", "debate-title");
    title.lang = CONTENT_LANG;
    const state = el("span", "debate-state");
    summary.append(title, state);
    const documents = this.documentsPart(id);
    const objections = this.objectionsPart(id);
    const decision = this.decisionPart(id);
    // in the order of the debate: the objections, then the decision, then what it feeds
    fold.append(summary, objections.box, decision.box, documents.box);
    fold.parts = { title, state, documents, objections, decision };
    return fold;
  }

  fill(fold, { column, number, objections }, council) {
    const { title, state, documents, objections: debate, decision } = fold.parts;
    title.textContent = `${number}. ${column.title}`;
    const open = objections.filter((o) => !o.answer).length;
    const outcome = { key: column.decision ? `decision.${column.decision.outcome}` : "decision.none" };
    label(state, open ? "debate.stateOpen" : "debate.state", { outcome, n: open }); // relabelled on a switch
    this.fillDocuments(documents, column);
    this.fillObjections(debate, objections, council);
    this.fillDecision(decision, column, council);
  }

  // -- the framework documents it feeds ---------------------------------------------

  documentsPart(id) {
    const box = el("section", "debate-part");
    const heading = el("h4", "", "doc.title");
    const said = el("p", "debate-said");
    const form = el("form", "stack shaper-form");
    form.append(el("p", "hint", "doc.hint"));
    const set = el("fieldset", "choices");
    set.append(el("legend", "vh", "doc.title"));
    for (const code of DOCUMENTS) {
      const option = el("label", "check");
      const box2 = el("input");
      box2.type = "checkbox";
      box2.name = "documents";
      box2.value = code;
      const name = el("span", "", `doc.${code}`);
      name.lang = CONTENT_LANG;
      option.append(box2, name);
      set.append(option);
    }
    const others = el("input");
    others.id = `others-${id}`;
    others.maxLength = 5 * 82;
    others.autocomplete = "off";
    others.lang = CONTENT_LANG;
    form.append(set);
    field(form, "doc.others", others);
    const save = el("button", "", "doc.save");
    save.type = "submit";
    form.append(save);
    markDirty(form);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const documents = [...form.querySelectorAll("input[name=documents]:checked")].map((b) => b.value);
      const names = others.value.split(/[,;]/).map((x) => x.trim()).filter(Boolean).slice(0, 5);
      this.send({ kind: "column.documents", id, documents, others: names });
      clean(form);
      announce(t("doc.saved", { column: this.title(id) }));
    });
    box.append(heading, said, form);
    return { box, said, form, others };
  }

  fillDocuments(part, column) {
    part.form.hidden = !this.canShape || column.locked; // the server refuses it on a locked one
    const named = [...(column.documents ?? []).map((code) => t(`doc.${code}`)), ...(column.others ?? [])];
    if (named.length) {
      part.said.replaceChildren(userText("span", "", named.join(" · ")));
      delete part.said.dataset.i18n;
    } else label(part.said, "doc.none");
    if (part.form.dataset.dirty) return;
    for (const box of part.form.querySelectorAll("input[name=documents]")) {
      box.checked = (column.documents ?? []).includes(box.value);
    }
    part.others.value = (column.others ?? []).join(", ");
  }

  // -- the consent round: objections and their answers ---------------------------------

  objectionsPart(id) {
    const box = el("section", "debate-part");
    const heading = el("h4");
    const list = el("ol", "objection-list");
    const none = el("p", "hint", "objection.none");
    const form = el("form", "stack facilitator-only");
    const text = contentArea(`objection-${id}`, 2);
    text.required = true;
    field(form, "objection.new", text);
    const by = el("input");
    by.id = `objection-by-${id}`;
    by.maxLength = 80;
    by.autocomplete = "off";
    by.setAttribute("list", "member-names");
    field(form, "objection.by", by);
    const add = el("button", "", "objection.add");
    add.type = "submit";
    form.append(add);
    markDirty(form);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const words = text.value.trim();
      if (!words) return;
      const op = { kind: "objection.add", id: newId("x"), column: id, text: words };
      if (by.value.trim()) op.by = by.value.trim();
      this.send(op);
      text.value = "";
      by.value = "";
      clean(form);
      announce(t("objection.added", { column: this.title(id) }));
      text.focus();
    });
    box.append(heading, list, none, form);
    return { box, heading, list, none };
  }

  fillObjections(part, objections) {
    label(part.heading, "objection.title", { n: objections.length });
    part.none.hidden = objections.length > 0;
    syncChildren(part.list, objections, (o) => o.id, (o) => this.objectionItem(o.id),
      (item, o) => this.fillObjection(item, o));
  }

  objectionItem(id) {
    const item = el("li", "objection");
    const words = userText("p", "objection-text", "");
    const by = el("p", "objection-by");
    const answer = el("p", "objection-answer");
    const form = el("form", "stack facilitator-only answer-form");
    const input = contentArea(`answer-${id}`, 2);
    field(form, "objection.answer", input);
    const row = el("div", "row");
    const save = el("button", "primary", "objection.answerSave");
    save.type = "submit";
    const drop = button("objection.delete", "quiet danger-text");
    row.append(save, drop);
    form.append(row);
    markDirty(form);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send({ kind: "objection.answer", id, answer: input.value.trim() });
      clean(form);
      item.dataset.saved = "1"; // its event will fold the form away
      announce(t(input.value.trim() ? "objection.answered" : "objection.unanswered"));
    });
    drop.addEventListener("click", () => {
      // the item goes: the focus goes to the next one, or to the field to add one
      const next = item.nextElementSibling ?? item.previousElementSibling;
      this.send({ kind: "objection.delete", id });
      announce(t("objection.deleted"));
      (next?.querySelector("textarea") ?? item.closest(".debate-part").querySelector(":scope > form textarea"))?.focus();
    });
    // an answered objection shows its answer; its form opens on demand to change it
    const change = button("objection.change", "quiet answer-toggle facilitator-only");
    change.setAttribute("aria-expanded", "false");
    change.addEventListener("click", () => {
      form.hidden = false;
      change.hidden = true;
      input.focus();
    });
    item.append(words, by, answer, change, form);
    item.parts = { words, by, answer, form, input, drop, change };
    return item;
  }

  fillObjection(item, objection) {
    const { words, by, answer, form, input, drop } = item.parts;
    words.textContent = `« ${objection.text} »`;
    by.hidden = !objection.by;
    if (objection.by) label(by, "objection.raisedBy", { name: objection.by });
    item.classList.toggle("answered", Boolean(objection.answer));
    if (objection.answer) {
      answer.replaceChildren(el("strong", "", "objection.answerIs"), " ", userText("span", "", objection.answer));
    } else answer.replaceChildren(el("strong", "objection-open", "objection.open"));
    nameIt(drop, "objection.deleteIt", { text: short(objection.text) });
    if (form.dataset.dirty) return; // being answered: the board's word waits
    input.value = objection.answer;
    const had = form.contains(document.activeElement);
    const saved = item.dataset.saved === "1" && objection.answer;
    if (saved) delete item.dataset.saved;
    form.hidden = Boolean(objection.answer) && (!had || saved);
    item.parts.change.hidden = !form.hidden;
    // the answer saved, its form folds away: the focus goes to the button that opens it again
    if (had && form.hidden) item.parts.change.focus();
  }

  // -- the decision --------------------------------------------------------------------

  decisionPart(id) {
    const box = el("section", "debate-part");
    const heading = el("h4", "", "decision.title");
    const said = el("div", "debate-said decision-said");
    const form = el("form", "stack facilitator-only decision-form");
    const outcome = radios(`outcome-${id}`, "decision.outcome", Object.keys(OUTCOMES), (v) => `decision.${v}`);
    const method = radios(`method-${id}`, "decision.method", METHODS, (v) => `decision.by.${v}`);
    const amendment = contentArea(`amendment-${id}`, 2);
    const amendBox = el("div", "stack");
    field(amendBox, "decision.amendment", amendment);
    const tallyBox = el("fieldset", "tally-box");
    tallyBox.append(el("legend", "", "tally.title"));
    const byCollege = el("label", "switch");
    const split = el("input");
    split.type = "checkbox";
    split.setAttribute("role", "switch");
    byCollege.append(split, el("span", "", "tally.byCollege"));
    const table = el("table", "tally");
    tallyBox.append(byCollege, table);
    const row = el("div", "row");
    const save = el("button", "primary", "decision.save");
    save.type = "submit";
    const drop = button("decision.clear", "quiet danger-text");
    row.append(save, drop);
    form.append(outcome, method, amendBox, tallyBox, row);
    markDirty(form);
    // a decision taken shows in words; its form opens on demand to change it
    const change = button("decision.change", "quiet answer-toggle facilitator-only");
    change.addEventListener("click", () => {
      form.hidden = false;
      change.hidden = true;
      form.querySelector("input[type=radio]:checked, input[type=radio]").focus();
    });
    const part = { box, said, form, outcome, method, amendBox, amendment, tallyBox, split, table, drop, change, id };
    form.addEventListener("change", () => this.showDecisionForm(part));
    split.addEventListener("change", () => this.tallyRows(part, null));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const decision = this.readDecision(part);
      if (!decision) {
        announce(t("decision.pick"));
        form.querySelector("input[type=radio]").focus();
        return;
      }
      // its event (a decision other than the one shown now) folds the form away
      part.savedFrom = this.view().columns.get(id)?.decision ?? null;
      this.send({ kind: "decision.set", column: id, decision });
      clean(form);
      announce(t("decision.saved", { column: this.title(id), outcome: { key: `decision.${decision.outcome}` } }));
    });
    drop.addEventListener("click", () => {
      this.send({ kind: "decision.set", column: id, decision: null });
      clean(form);
      announce(t("decision.cleared", { column: this.title(id) }));
      save.focus(); // « Retirer » hides with the decision gone
    });
    box.append(heading, said, change, form);
    return part;
  }

  readDecision(part) {
    const outcome = part.form.querySelector(`input[name="outcome-${part.id}"]:checked`)?.value;
    const method = part.form.querySelector(`input[name="method-${part.id}"]:checked`)?.value ?? "consent";
    if (!outcome) return null;
    const decision = { outcome, method };
    if (outcome === "amendee" && part.amendment.value.trim()) decision.amendment = part.amendment.value.trim();
    if (method === "vote") {
      decision.tally = [...part.table.querySelectorAll("tbody tr")].map((tr) => {
        const line = { college: tr.dataset.college === WHOLE ? null : tr.dataset.college };
        for (const key of COUNTS) line[key] = Math.max(0, Math.min(100000, Number(tr.querySelector(`[data-count=${key}]`).value) || 0));
        return line;
      });
    }
    return decision;
  }

  /** Show the amendment only for « adoptée avec amendement », the count only for a vote. */
  showDecisionForm(part) {
    const outcome = part.form.querySelector(`input[name="outcome-${part.id}"]:checked`)?.value;
    const method = part.form.querySelector(`input[name="method-${part.id}"]:checked`)?.value;
    part.amendBox.hidden = outcome !== "amendee";
    part.tallyBox.hidden = method !== "vote";
  }

  /** The count's table: one line for the whole instance, or one per collège. */
  tallyRows(part, tally) {
    const colleges = this.view().council?.colleges ?? [];
    const lines = part.split.checked
      ? colleges.map((c) => ({ key: c.id, name: c.label }))
      : [{ key: WHOLE, name: t("tally.whole") }];
    const known = new Map((tally ?? []).map((line) => [line.college ?? WHOLE, line]));
    const body = el("tbody");
    for (const line of lines) {
      const tr = el("tr");
      tr.dataset.college = line.key;
      const th = el("th");
      th.scope = "row";
      th.textContent = line.name;
      tr.append(th);
      for (const key of COUNTS) {
        const td = el("td");
        const input = el("input");
        input.type = "number";
        input.min = "0";
        input.max = "100000";
        input.inputMode = "numeric";
        input.dataset.count = key;
        input.value = String(known.get(line.key)?.[key] ?? 0);
        nameIt(input, "tally.cell", { what: { key: `tally.${key}` }, college: line.name });
        input.removeAttribute("title");
        td.append(input);
        tr.append(td);
      }
      body.append(tr);
    }
    part.table.replaceChildren(el("caption", "vh", "tally.title"), tallyHead(), body);
  }

  fillDecision(part, column) {
    const decision = column.decision ?? null;
    const colleges = this.view().council?.colleges;
    if (part.shownDecision === decision && part.shownColleges === colleges && part.shownOnce) return;
    part.shownOnce = true;
    part.shownDecision = decision;
    part.shownColleges = colleges;
    part.drop.hidden = !decision;
    part.said.replaceChildren(...this.describe(decision));
    if (part.form.dataset.dirty) return; // being written: the board's word waits
    const had = part.form.contains(document.activeElement);
    const saved = part.savedFrom !== undefined && decision !== part.savedFrom && Boolean(decision);
    if (saved) delete part.savedFrom;
    part.form.hidden = Boolean(decision) && (!had || saved);
    part.change.hidden = !part.form.hidden;
    // the decision saved, its form folds away: the focus goes to the button that opens it again
    if (had && part.form.hidden) part.change.focus();
    for (const radio of part.form.querySelectorAll(`input[name="outcome-${part.id}"]`)) radio.checked = radio.value === decision?.outcome;
    const method = decision?.method ?? "consent";
    for (const radio of part.form.querySelectorAll(`input[name="method-${part.id}"]`)) radio.checked = radio.value === method;
    part.amendment.value = decision?.amendment ?? "";
    const tally = decision?.tally ?? [];
    part.split.checked = tally.some((line) => line.college !== null);
    this.tallyRows(part, tally);
    this.showDecisionForm(part);
  }

  /** A decision in words: its outcome and how it was taken, the amendment, the count. */
  describe(decision) {
    if (!decision) return [el("p", "hint", "decision.noneYet")];
    const line = el("p", `decision-line decision-${decision.outcome}`);
    const mark = el("span");
    mark.textContent = `${OUTCOMES[decision.outcome]} `;
    mark.setAttribute("aria-hidden", "true");
    line.append(mark, el("strong", "", `decision.${decision.outcome}`), " ", el("span", "", `decision.said.${decision.method}`));
    const out = [line];
    if (decision.amendment) {
      const amendment = el("p");
      amendment.append(el("strong", "", "decision.amendmentIs"), " ", userText("span", "", decision.amendment));
      out.push(amendment);
    }
    if (decision.tally?.length) out.push(tallyTable(decision.tally, this.view().council?.colleges ?? []));
    return out;
  }

  title(id) {
    return this.view().columns.get(id)?.title ?? "";
  }
}

/** A decision's count as a read-only table (collège, pour, contre, abstention). */
export function tallyTable(tally, colleges) {
  const names = new Map(colleges.map((c) => [c.id, c.label]));
  const table = el("table", "tally");
  table.append(el("caption", "vh", "tally.title"));
  const body = el("tbody");
  for (const line of tally) {
    const tr = el("tr");
    const th = el("th");
    th.scope = "row";
    if (line.college === null) label(th, "tally.whole");
    else th.textContent = names.get(line.college) ?? line.college;
    tr.append(th, ...COUNTS.map((key) => {
      const td = el("td");
      td.textContent = String(line[key]);
      return td;
    }));
    body.append(tr);
  }
  table.append(tallyHead(), body);
  return table;
}

/** A count's header row: collège, pour, contre, abstention. */
function tallyHead() {
  const head = el("thead");
  const row = el("tr");
  row.append(el("th", "", "tally.college"), ...COUNTS.map((key) => el("th", "", `tally.${key}`)));
  for (const th of row.children) th.scope = "col";
  head.append(row);
  return head;
}
