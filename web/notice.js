// Messages to people: the live region screen readers announce, and short-lived toasts.

const TOAST_TIME = 8000; // ms: long enough to reach the undo button
const TOASTS_SHOWN = 3; // older toasts make way: a burst of news must not cover the board

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
  while (box.children.length > TOASTS_SHOWN) box.firstElementChild.remove();
  setTimeout(close, TOAST_TIME);
  return item;
}
