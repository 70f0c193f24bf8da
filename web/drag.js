// Drag and drop of notes with pointer events: one code path for mouse, pen and touch.
//
// A mouse drags a note from anywhere on it; a finger only from its grip, so swiping
// over notes still scrolls the page on a phone (the grip alone has touch-action: none).
// While dragging, a ghost copy follows the pointer and a marker shows where the note
// will land; the drop reports (note id, column key, index among the other notes).

const THRESHOLD = 6; // px of travel before a press becomes a drag (a click stays a click)
const EDGE = 48; // px from a viewport edge where the page scrolls by itself
const SCROLL_STEP = 14;

/** Make the notes under root draggable; hooks: canStart, onStart, onMove, onDrop, onEnd. */
export function enableDrag(root, hooks) {
  let press = null; // a pointer down on a note, not yet a drag
  let drag = null;

  root.addEventListener("pointerdown", (event) => {
    if (press || drag || !hooks.canStart()) return;
    const li = event.target.closest(".note");
    if (!li || !root.contains(li) || li.classList.contains("editing") || li.classList.contains("moving")) return;
    if (event.pointerType === "mouse") {
      if (event.button !== 0 || event.target.closest("button, input, textarea, select, a, label")) return;
    } else if (!event.target.closest(".grip")) {
      return;
    } else {
      event.preventDefault(); // no text selection, no emulated mouse events from the grip
    }
    press = { li, id: li.dataset.id, pointerId: event.pointerId, x: event.clientX, y: event.clientY };
  });

  window.addEventListener("pointermove", (event) => {
    if (!press || event.pointerId !== press.pointerId) return;
    if (!drag) {
      if (Math.hypot(event.clientX - press.x, event.clientY - press.y) < THRESHOLD) return;
      begin();
    }
    event.preventDefault();
    drag.x = event.clientX;
    drag.y = event.clientY;
    follow();
    hooks.onMove(drag.id);
  }, { passive: false });

  window.addEventListener("pointerup", (event) => {
    if (press && event.pointerId === press.pointerId) finish(true);
  });
  window.addEventListener("pointercancel", (event) => {
    if (press && event.pointerId === press.pointerId) finish(false);
  });
  window.addEventListener("keydown", (event) => {
    if (drag && event.key === "Escape") finish(false);
  });

  function begin() {
    const { li } = press;
    const rect = li.getBoundingClientRect();
    const ghost = li.cloneNode(true);
    ghost.classList.add("ghost");
    ghost.removeAttribute("tabindex");
    ghost.setAttribute("aria-hidden", "true");
    ghost.style.width = `${rect.width}px`; // CSSOM, not a style attribute: the CSP allows it
    document.body.append(ghost);
    const marker = document.createElement("li");
    marker.className = "drop-marker";
    marker.setAttribute("aria-hidden", "true");
    li.classList.add("drag-source");
    document.body.classList.add("dragging");
    try {
      li.setPointerCapture(press.pointerId); // the release still reaches us outside the window
    } catch {
      // the pointer is already gone: the next pointerup or pointercancel ends the drag
    }
    window.getSelection()?.removeAllRanges();
    drag = {
      id: press.id, li, ghost, marker, target: null,
      dx: press.x - rect.left, dy: press.y - rect.top, x: press.x, y: press.y, frame: 0,
    };
    drag.frame = requestAnimationFrame(autoScroll);
    hooks.onStart(drag.id);
  }

  function follow() {
    const { ghost, marker, x, y } = drag;
    ghost.style.transform = `translate(${x - drag.dx}px, ${y - drag.dy}px) rotate(1.5deg)`;
    const column = document.elementFromPoint(x, y)?.closest(".col");
    if (!column || !root.contains(column) || !column.querySelector(".notes")) {
      marker.remove();
      drag.target = null;
      return;
    }
    const list = column.querySelector(".notes");
    let index = 0;
    let before = null;
    for (const item of list.children) {
      if (!item.classList.contains("note") || item === drag.li) continue;
      const box = item.getBoundingClientRect();
      if (y < box.top + box.height / 2) {
        before = item;
        break;
      }
      index += 1;
    }
    if (marker.parentNode !== list || marker.nextElementSibling !== before) list.insertBefore(marker, before);
    drag.target = { column: column.dataset.col, index };
  }

  function autoScroll() {
    if (!drag) return;
    const { x, y } = drag;
    let moved = false;
    if (y < EDGE) { window.scrollBy(0, -SCROLL_STEP); moved = true; }
    if (y > window.innerHeight - EDGE) { window.scrollBy(0, SCROLL_STEP); moved = true; }
    const lanes = root.querySelector(".lanes");
    if (lanes && lanes.scrollWidth > lanes.clientWidth) {
      const box = lanes.getBoundingClientRect();
      if (x < box.left + EDGE) { lanes.scrollLeft -= SCROLL_STEP; moved = true; }
      if (x > box.right - EDGE) { lanes.scrollLeft += SCROLL_STEP; moved = true; }
    }
    // a list that scrolls by itself (the pool shows a few rows): scroll it near its edges
    const inner = document.elementFromPoint(x, y)?.closest(".scroll-y");
    if (inner && inner.scrollHeight > inner.clientHeight) {
      const box = inner.getBoundingClientRect();
      if (y < box.top + EDGE / 2) { inner.scrollTop -= SCROLL_STEP; moved = true; }
      if (y > box.bottom - EDGE / 2) { inner.scrollTop += SCROLL_STEP; moved = true; }
    }
    if (moved) follow();
    drag.frame = requestAnimationFrame(autoScroll);
  }

  function finish(drop) {
    const done = drag;
    press = null;
    drag = null;
    if (!done) return;
    cancelAnimationFrame(done.frame);
    done.ghost.remove();
    done.marker.remove();
    done.li.classList.remove("drag-source");
    document.body.classList.remove("dragging");
    if (drop && done.target) hooks.onDrop(done.id, done.target.column, done.target.index);
    hooks.onEnd(done.id);
  }
}
