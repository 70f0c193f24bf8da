// Messages to people: the one live region screen readers hear (polite), and short-lived
// toasts for what needs an answer or says a refusal.
//
// The live region is throttled. What this page says of its own actions, their outcome,
// rejections and the flow (phases, votes, the reveal, the freeze) is said as it comes,
// messages arriving together joined into one. Changes made by other people are counted
// for a couple of seconds and said as one summary (« 3 constats déplacés par d'autres »),
// so a busy room never floods a screen reader.

import { t } from "./i18n.js";

const TOAST_TIME = 5000; // ms a plain message stays
const ACTION_TIME = 8000; // ms a message with a button stays: long enough to reach « Annuler »
// older toasts make way: a burst of messages must not cover the board (one on a phone,
// where the toast is a thin strip at the bottom and the page keeps room for it)
const NARROW = "(max-width: 40rem)";
const GATHER = 250; // ms: messages said within this are said together
const SUMMARY_EVERY = 2500; // ms between two summaries of other people's changes

let pending = []; // what waits to be said
let sayTimer = 0;
const others = new Map(); // kind -> {n, name}: other people's changes not yet said
let summaryTimer = 0;

/** Say something to screen readers (the same text twice is still announced). */
export function announce(text) {
  pending.push(text);
  clearTimeout(sayTimer);
  sayTimer = setTimeout(flush, GATHER);
}

function flush() {
  const region = document.getElementById("live");
  const text = pending.join(" ");
  pending = [];
  if (!text) return;
  region.textContent = region.textContent === text ? `${text}\u00a0` : text;
}

/**
 * Count a change someone else made (`kind`: a key of the « others.* » strings), to be
 * said in the next summary; `name` is what it touched, said when it is the only one.
 */
export function noteOthers(kind, name = "") {
  const seen = others.get(kind) ?? { n: 0, name };
  seen.n += 1;
  seen.name = name;
  others.set(kind, seen);
  summaryTimer ||= setTimeout(summarize, SUMMARY_EVERY);
}

function summarize() {
  summaryTimer = 0;
  const parts = [...others].map(([kind, { n, name }]) => (
    n === 1 ? t(`others.${kind}.one`, { name }) : t(`others.${kind}.many`, { n })
  ));
  others.clear();
  if (parts.length) announce(parts.join(" "));
}

/** Show a toast for a few seconds, with an optional action button. */
export function toast(text, action = null) {
  const box = document.getElementById("toasts");
  const item = document.createElement("div");
  item.className = "toast";
  const words = document.createElement("span");
  words.textContent = text;
  item.append(words);
  const close = () => item.remove();
  if (action) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = action.label;
    button.addEventListener("click", () => {
      close();
      action.run();
    });
    item.append(button);
  }
  box.append(item);
  const shown = matchMedia(NARROW).matches ? 1 : 2;
  while (box.children.length > shown) box.firstElementChild.remove();
  setTimeout(close, action ? ACTION_TIME : TOAST_TIME);
  return item;
}
