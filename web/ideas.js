// The action ideas parked for phase 5: an idea's item (its text, who proposed it, a way
// to delete it and to place it under another orientation, or under none), and the list
// of ideas under no orientation yet (a CSV's « idée d'action » rows arrive there, and an
// orientation's ideas go there when it is deleted), shown above the orientations.
//
// Lists are kept in step by key (dom.js's syncChildren), so a placing form left open, or
// the focus on an idea's button, survives other people's changes.

import { label, t } from "./i18n.js";
import { announce } from "./notice.js";
import { liveColumns } from "./model.js";
import { focusLater } from "./focus.js";
import { el, nameIt, syncChildren, userText } from "./dom.js";

const NONE = "";

function short(text) {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function glyph(symbol, className) {
  const node = el("button", className);
  node.type = "button";
  node.textContent = symbol;
  return node;
}

function button(key, className, params) {
  const node = el("button", className, key, params);
  node.type = "button";
  return node;
}

/** Where an idea can go: under no orientation, or under each orientation, numbered. */
function targets(view) {
  return [
    [NONE, t("idea.noOrientation")],
    ...liveColumns(view).map((column, i) => [column.id, `${i + 1}. ${column.title}`]),
  ];
}

/** Ideas' items in one list; hooks: onOp(op), view() the board shown, title(id) a column's. */
export class IdeaList {
  constructor(list, { onOp, view }) {
    this.list = list;
    this.onOp = onOp;
    this.view = view;
  }

  /** Show these ideas (in this order), reusing the items already there. */
  show(ideas) {
    syncChildren(this.list, ideas, (idea) => idea.id, (idea) => this.make(idea), (node, idea) => this.fill(node, idea));
  }

  make(idea) {
    const item = el("li", "idea");
    const words = userText("span", "idea-text", "");
    const by = el("span", "idea-author");
    // glyph buttons: their names come from nameIt() (a data-i18n text would replace the glyph)
    const place = glyph("⇆", "icon editor-only idea-place");
    place.addEventListener("click", () => this.openPlacer(item));
    const drop = glyph("✕", "icon editor-only");
    drop.addEventListener("click", () => {
      const text = item.querySelector(".idea-text").textContent;
      this.onOp({ kind: "idea.delete", id: item.dataset.key });
      announce(t("idea.deleted", { text: short(text) }));
    });
    item.append(words, by, place, drop);
    item.parts = { words, by, place, drop };
    return item;
  }

  fill(item, idea) {
    const { words, by, place, drop } = item.parts;
    if (words.textContent !== idea.text) words.textContent = idea.text;
    label(by, "note.by", { name: idea.author });
    item.dataset.column = idea.column ?? NONE;
    nameIt(place, "idea.placeIt", { text: short(idea.text) });
    nameIt(drop, "idea.deleteIt", { text: short(idea.text) });
  }

  /** Place an idea under another orientation (or none): choose, then confirm. */
  openPlacer(item) {
    if (item.querySelector(".idea-placer")) return;
    const id = item.dataset.key;
    const form = el("form", "idea-placer");
    const select = el("select");
    select.id = `place-${id}`;
    const caption = el("label", "", "idea.placeUnder");
    caption.htmlFor = select.id;
    for (const [value, title] of targets(this.view())) {
      const option = el("option");
      option.value = value;
      option.textContent = title;
      select.append(option);
    }
    const here = item.dataset.column;
    // preselect the first orientation it is not under: the usual move
    select.value = [...select.options].find((o) => o.value !== here && o.value !== NONE)?.value ?? NONE;
    const ok = el("button", "primary", "idea.placeOk");
    ok.type = "submit";
    const cancel = button("note.cancel", "");
    const close = () => {
      form.remove();
      item.parts.place.focus();
    };
    cancel.addEventListener("click", close);
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation(); // closes this form, not the drawer
        close();
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const column = select.value === NONE ? null : select.value;
      form.remove();
      if (column === (here || null)) return;
      this.onOp({ kind: "idea.move", id, column });
      const where = column === null ? t("idea.noOrientation") : this.view().columns.get(column)?.title ?? "";
      announce(t("idea.placed", { text: short(item.parts.words.textContent), column: where }));
      // the item moves to another list (a new item there): the focus follows it, or goes
      // to the summary of the closed fold it lands in
      focusLater(() => {
        const moved = document.querySelector(`.idea[data-key="${CSS.escape(id)}"][data-column="${CSS.escape(column ?? NONE)}"]`);
        const place = moved?.querySelector(".idea-place");
        return place?.checkVisibility() ? place : moved?.closest("details")?.querySelector(":scope > summary");
      });
    });
    const row = el("div", "panel-actions");
    row.append(ok, cancel);
    form.append(caption, select, row);
    item.append(form);
    select.focus();
  }
}

/** The ideas under no orientation yet, above the orientations (hidden when there are none). */
export class UnplacedIdeas {
  constructor({ onOp, view }) {
    this.root = el("section", "unplaced");
    this.root.id = "unplaced";
    this.root.setAttribute("aria-labelledby", "unplaced-title");
    const title = el("h2", "unplaced-title");
    title.id = "unplaced-title";
    const hint = el("p", "hint", "idea.unplacedHint");
    const list = el("ul", "idea-list");
    this.title = title;
    this.root.append(title, hint, list);
    this.ideas = new IdeaList(list, { onOp, view });
    this.shown = null;
  }

  /** Refresh when the ideas changed. */
  update(view) {
    if (this.shown === view.ideas && this.columns === view.columns) return;
    this.shown = view.ideas;
    this.columns = view.columns;
    const ideas = [...view.ideas.values()].filter((i) => !i.deleted && i.column === null);
    this.root.hidden = ideas.length === 0;
    label(this.title, "idea.unplaced", { n: ideas.length });
    this.ideas.show(ideas);
  }
}
