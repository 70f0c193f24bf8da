// Focus by rule: after any action the focus lands on what the action produced, or on its
// nearest stable neighbour, never on the page's body; and a change made by someone else
// never moves anyone's focus without saying so.
//
// Two tools. focusLater(find) keeps a wish for an element that an answer from the
// server will bring (« Clore le vote » once the vote is open, the record's title once
// the board is frozen): settle(), run after each draw, grants it as soon as the element
// shows. And when the focused element disappears (hidden or removed by a draw), settle()
// puts the focus on the nearest landing place that still shows: an ancestor marked
// `data-focus-home` (a column, the drawer, a fold…) or a focusable ancestor, and says
// where the focus went through the live region.

import { t } from "./i18n.js";
import { announce } from "./notice.js";

const WISH_TIME = 15000; // ms a wish waits for its element (a slow server, a busy room)

let last = null; // the element that had the focus last
let trail = []; // its ancestors when it got the focus (they may be gone since)
let wish = null; // {find, until}

/** Whether an element shows on screen (connected, rendered, not in a closed branch). */
export function shows(node) {
  return Boolean(node?.isConnected && node.getClientRects().length && node.checkVisibility({ visibilityProperty: true }));
}

function focusable(node) {
  return node.matches("a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]");
}

/** Start following the focus: which element had it last, and where it sat. */
export function trackFocus() {
  document.addEventListener("focusin", (event) => {
    last = event.target;
    trail = [];
    for (let node = last.parentElement; node && node !== document.body; node = node.parentElement) trail.push(node);
  });
}

/** Focus `find()`'s element once it shows (after the server's answer), within 15 s. */
export function focusLater(find) {
  wish = { find, until: Date.now() + WISH_TIME };
  settle();
}

/** Focus an element now, scrolled into view if needed, unless it does not show. */
export function focusOn(node) {
  if (!shows(node)) return false;
  node.focus({ preventScroll: false });
  return document.activeElement === node;
}

/** Where the focus may land in an ancestor of what had it: a fold's summary, a marked
 * home (a column, a group of tools), or an ancestor that takes the focus itself. */
function landingOf(node) {
  if (!shows(node)) return null;
  if (node.localName === "details") return node.querySelector(":scope > summary");
  return node.hasAttribute("data-focus-home") || focusable(node) ? node : null;
}

/** A readable name for where the focus landed (its label, heading or text). */
function nameOf(node) {
  const labelled = node.getAttribute("aria-labelledby");
  const by = labelled && document.getElementById(labelled.split(" ")[0]);
  const legend = node.localName === "fieldset" ? node.querySelector(":scope > legend") : null;
  const name = node.getAttribute("aria-label") ?? by?.textContent ?? legend?.textContent ?? node.textContent ?? "";
  return name.replace(/\s+/g, " ").trim().slice(0, 80);
}

/**
 * After a draw (or any change to the page): grant a wish whose element now shows; and if
 * the focused element went away, land on the nearest place that still shows and say so.
 */
export function settle() {
  if (wish) {
    const target = wish.find();
    if (target && shows(target)) {
      wish = null;
      target.focus();
      return;
    }
    if (Date.now() > wish.until) wish = null;
  }
  const active = document.activeElement;
  const gone = (node) => !shows(node) || node.disabled; // a disabled button takes no focus
  const lost = !active || active === document.body || (active === last && gone(active));
  if (!lost || !last || !gone(last) || document.querySelector("dialog[open]")) return;
  const landing = trail.map(landingOf).find(Boolean) ?? document.getElementById("board");
  last = null;
  if (!landing) return;
  landing.focus({ preventScroll: false });
  if (wish) return; // an action of this page's own: its wish will say where it ends
  announce(t("focus.moved", { where: nameOf(landing) }));
}
