// Small DOM helpers shared by the flow's modules. Text always goes in with textContent
// (through i18n's label() for translated strings), never as HTML.

import { label } from "./i18n.js";

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
