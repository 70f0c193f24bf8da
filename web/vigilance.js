// The facilitator's points of vigilance, from the server's `vigilance` frames: the
// method's three points, each in the method's own words (the seed's French, kept French
// in either language) with the signals Atelier raises for it and a field for the
// facilitator's answer (kept in the record); then Atelier's own advice, labelled as
// Atelier's and not the method's; then the objections still unanswered.
//
// Items are kept by key, so an answer being typed survives the frames that follow.

import { label, t } from "./i18n.js";
import { announce } from "./notice.js";
import { $, CONTENT_LANG, clean, contentArea, el, markDirty, syncChildren, text } from "./dom.js";

/** A check in words, in the page's language (a code this page does not know: the
 * server's French message). `titles` maps column ids to titles; `objections` objection
 * ids to their text. */
export function checkText(check, titles, objections = new Map()) {
  const column = check.column ? titles.get(check.column) ?? "" : "";
  const node = el("span");
  try {
    label(node, `vig.${check.code}`, {
      n: check.count ?? 0, total: check.total ?? 0, column,
      ambition: check.ambition ? { key: `amb.${check.ambition}` } : "",
      objection: objections.get(check.objection) ?? "",
    });
  } catch {
    delete node.dataset.i18n; // not in the dictionaries: the server's own French words
    delete node.dataset.i18nArgs;
    node.textContent = check.message;
    node.lang = CONTENT_LANG;
  }
  return node;
}

/** A method point's title in the page's language (the server's French one if unknown). */
export function pointTitle(check) {
  const node = el("span");
  try {
    label(node, `vig.point.${check.point}`);
  } catch {
    node.textContent = check.title;
    node.lang = CONTENT_LANG;
  }
  return node;
}

/** The quote of the method, as a block in French. */
export function quoteOf(check) {
  const quote = el("blockquote", "vquote");
  quote.lang = CONTENT_LANG;
  quote.append(text("p", "", `« ${check.quote} »`));
  return quote;
}

/** The vigilance fold of the drawer; hooks: send(op), view() the board shown. */
export class Vigilance {
  constructor({ send, view }) {
    this.send = send;
    this.view = view;
    this.checks = [];
    this.named = null;
    this.show();
  }

  /** The server's latest checks (a `vigilance` frame). */
  set(checks) {
    this.checks = checks;
    this.show();
  }

  /** Orientation titles and objection texts may reach the page after the checks that
   * name them, with no new frame: word the checks again then. */
  update(view) {
    const named = [
      ...[...view.columns.values()].map((c) => `${c.id}\n${c.title}`),
      ...[...(view.council?.objections.values() ?? [])].map((o) => `${o.id}\n${o.text}`),
    ].join("\n");
    if (named === this.named) return;
    this.named = named;
    this.show();
  }

  titleMap() {
    const titles = new Map();
    for (const [id, column] of this.view()?.columns ?? []) titles.set(id, column.title);
    return titles;
  }

  /** What the freeze dialog lists: the method's points without an answer, the
   * objections without one. */
  openItems() {
    return {
      points: this.checks.filter((c) => c.source === "method" && c.open),
      objections: this.checks.filter((c) => c.code === "objection_unanswered"),
    };
  }

  show() {
    const titles = this.titleMap();
    const points = this.checks.filter((c) => c.source === "method");
    const advice = this.checks.filter((c) => c.source === "atelier");
    const debate = this.checks.filter((c) => c.source === "debate");
    const open = points.filter((c) => c.open).length + debate.length;
    label($("vigilance-summary"), open ? "vig.titleOpen" : "vig.titleDone", { n: open });
    syncChildren($("vig-points"), points, (c) => c.point, (c) => this.pointItem(c.point),
      (item, c) => this.fillPoint(item, c, titles));
    const adviceList = $("vig-advice");
    adviceList.replaceChildren(...advice.map((c) => {
      const item = el("li", `check check-${c.code}`);
      item.append(checkText(c, titles));
      return item;
    }));
    if (!advice.length) adviceList.append(el("li", "check check-ok", "vig.noAdvice"));
    $("vig-debate").hidden = debate.length === 0;
    const said = new Map([...(this.view()?.council?.objections.values() ?? [])].map((o) => [o.id, o.text]));
    $("vig-objections").replaceChildren(...debate.map((c) => {
      const item = el("li", "check");
      item.append(checkText(c, titles, said));
      return item;
    }));
  }

  pointItem(point) {
    const item = el("li", "vpoint");
    const head = el("h4", "vpoint-head");
    const state = el("span", "badge vstate");
    const quote = el("div", "vquote-box");
    const signals = el("div", "vsignals");
    const form = el("form", "stack");
    const input = contentArea(`answer-${point}`, 3);
    const caption = el("label", "", "vig.answer");
    caption.htmlFor = input.id;
    const save = el("button", "primary", "vig.answerSave");
    save.type = "submit";
    form.append(caption, input, save);
    markDirty(form);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const answer = input.value.trim();
      this.send({ kind: "vigilance.answer", point, text: answer });
      clean(form);
      announce(t(answer ? "vig.answered" : "vig.answerCleared"));
    });
    item.append(head, state, quote, signals, form);
    item.parts = { head, state, quote, signals, form, input };
    return item;
  }

  fillPoint(item, check, titles) {
    const { head, state, quote, signals, form, input } = item.parts;
    const number = el("span", "vnum");
    number.textContent = String(check.number);
    head.replaceChildren(number, " ", pointTitle(check));
    item.classList.toggle("is-open", check.open);
    label(state, check.open ? "vig.open" : "vig.done");
    if (quote.dataset.quote !== check.quote) {
      quote.dataset.quote = check.quote;
      quote.replaceChildren(el("p", "vcite", "vig.methodSays"), quoteOf(check));
    }
    const list = el("ul", "vsignal-list");
    for (const signal of check.signals) {
      const entry = el("li", `check check-${signal.code}`);
      entry.append(checkText(signal, titles));
      list.append(entry);
    }
    signals.replaceChildren(
      el("p", "vcite", check.signals.length ? "vig.signals" : "vig.noSignal", { n: check.signals.length }),
      ...(check.signals.length ? [list] : []),
    );
    if (!form.dataset.dirty && document.activeElement !== input) input.value = check.answer;
  }

  /** Put the focus on the first point still waiting for an answer (from the freeze dialog). */
  focusFirstOpen() {
    $("panel-vigilance").open = true;
    const first = this.openItems().points[0];
    const input = first ? $(`answer-${first.point}`) : $("vig-objections").querySelector("li");
    (input ?? $("vigilance-summary")).focus();
    input?.scrollIntoView({ block: "center" });
  }
}

