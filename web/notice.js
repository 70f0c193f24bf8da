// Messages to people: the live region screen readers announce, and short-lived toasts.

const TOAST_TIME = 5000; // ms a plain message stays
const ACTION_TIME = 8000; // ms a message with a button stays: long enough to reach « Annuler »
// older toasts make way: a burst of messages must not cover the board (one on a phone,
// where the toast is a thin strip at the bottom and the page keeps room for it)
const NARROW = "(max-width: 40rem)";

/** Say something to screen readers (the same text twice is still announced). */
export function announce(text) {
  const region = document.getElementById("live");
  region.textContent = region.textContent === text ? `${text}\u00a0` : text;
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
