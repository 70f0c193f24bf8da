// Small DOM helpers shared by the flow's modules. Text always goes in with textContent
// (through i18n's label() for translated strings), never as HTML.

import { label, t } from "./i18n.js";

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** A new element, with a class and a translated label (key, params) if given. */
export function el(tag, className, key, params) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (key) label(node, key, params);
  return node;
}

/** A new element holding a value as plain text. */
export function text(tag, className, value) {
  const node = el(tag, className);
  node.textContent = value;
  return node;
}

/**
 * The language of what people write on the board (findings, titles, statements, ideas,
 * the debate): French, the language of the workshops Atelier is made for. Marked on
 * each such element, so that in English mode a screen reader still reads it as French.
 */
export const CONTENT_LANG = "fr";

/** A text area for what people write (an answer, an objection), up to the server's
 * 1,000 characters, marked with the board's language. */
export function contentArea(id, rows) {
  const area = el("textarea");
  area.id = id;
  area.rows = rows;
  area.maxLength = 1000;
  area.lang = CONTENT_LANG;
  return area;
}

/** A new element holding text people wrote, marked with its language. */
export function userText(tag, className, value) {
  const node = text(tag, className, value);
  node.lang = CONTENT_LANG;
  return node;
}

/** The diagnostic's four types of finding (AFOM), in the order they are listed. */
export const FINDING_TYPES = ["atout", "faiblesse", "opportunite", "menace"];

/** A mark for each type, so that a type is told by its shape as well as its colour. */
export const FINDING_MARKS = { atout: "+", faiblesse: "−", opportunite: "↗", menace: "!" };

/**
 * Keep parent's children in step with items, one node per key, reused across calls so
 * that focus, typing and scroll inside a node survive: make(item) builds a node the first
 * time a key is seen, fill(node, item) runs on each call; nodes of gone keys are removed.
 */
export function syncChildren(parent, items, keyOf, make, fill) {
  const nodes = new Map();
  for (const child of parent.children) if (child.dataset.key !== undefined) nodes.set(child.dataset.key, child);
  let cursor = parent.firstElementChild;
  const kept = new Set();
  for (const item of items) {
    const key = String(keyOf(item));
    let node = nodes.get(key);
    if (!node) {
      node = make(item);
      node.dataset.key = key;
    }
    fill(node, item);
    kept.add(node);
    if (node === cursor) cursor = cursor.nextElementSibling;
    else parent.insertBefore(node, cursor);
  }
  for (const node of nodes.values()) if (!kept.has(node)) node.remove();
}

/** Mark a form dirty as soon as someone types in it: a live refill then leaves it alone. */
export function markDirty(form) {
  const mark = () => setDirty(form);
  form.addEventListener("input", mark);
  form.addEventListener("change", mark);
}

/** Mark a form as holding what someone typed, not yet sent. */
export function setDirty(form) {
  form.dataset.dirty = "1";
}

/** The form holds what the board says again (sent, or cancelled). */
export function clean(form) {
  delete form.dataset.dirty;
}

/** A button's name and tooltip from a key (relabelled on a language switch). */
export function nameIt(node, key, params) {
  node.dataset.i18nLabel = key;
  if (params) node.dataset.i18nArgs = JSON.stringify(params);
  else delete node.dataset.i18nArgs;
  node.setAttribute("aria-label", t(key, params));
  node.title = node.getAttribute("aria-label");
}
