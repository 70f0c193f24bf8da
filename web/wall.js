// What the wall shows: the facilitator may point every screen in presentation mode at
// one orientation (`focus`, kept in the board, so a wall that joins late follows too),
// or at the whole board again. Each screen chooses whether it follows (« Suivre
// l'animation », on by default, kept per browser); a screen that follows shows that
// orientation alone, large, and says which one it is.

import { label, t } from "./i18n.js";
import { announce } from "./notice.js";
import { liveColumns } from "./model.js";
import { pref, setPref } from "./store.js";
import { $, el } from "./dom.js";

const WHOLE = "";

/** The drawer's « Présentation » part and the board's following of the focus. */
export class Wall {
  constructor({ send, view }) {
    this.send = send;
    this.view = view;
    this.focus = undefined; // the focus last drawn (undefined: nothing drawn yet)
    this.columns = null;
    this.follow = pref("follow", true);
    $("follow-toggle").checked = this.follow;
    $("follow-toggle").addEventListener("change", (event) => {
      this.follow = event.target.checked;
      setPref("follow", this.follow);
      this.show(true);
    });
    $("focus-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.point($("focus-column").value || null);
    });
  }

  /** Point the presentation screens at an orientation (null: the whole board). */
  point(column) {
    this.send({ kind: "focus", column });
    const title = column ? this.view().columns.get(column)?.title ?? "" : "";
    announce(column ? t("wall.pointed", { column: title }) : t("wall.whole"));
  }

  /** Draw what changed: the list of orientations to show, and which one is shown. */
  update(view) {
    if (view.columns !== this.columns) {
      this.columns = view.columns;
      const select = $("focus-column");
      const chosen = select.value;
      const whole = el("option", "", "wall.wholeBoard");
      whole.value = WHOLE;
      select.replaceChildren(whole, ...liveColumns(view).map((column, i) => {
        const option = el("option");
        option.value = column.id;
        option.textContent = `${i + 1}. ${column.title}`;
        return option;
      }));
      select.value = chosen;
    }
    const focus = view.flow.focus ?? null;
    if (focus !== this.focus) {
      const first = this.focus === undefined;
      this.focus = focus;
      this.show(!first);
    }
  }

  /** Mark the focused orientation; a presenting screen that follows shows it alone. */
  show(tell) {
    const focus = this.focus ?? null;
    const view = this.view();
    const column = focus && view.columns.get(focus);
    const number = focus ? liveColumns(view).findIndex((c) => c.id === focus) + 1 : 0;
    for (const section of document.querySelectorAll(".columns > .col")) {
      section.classList.toggle("focused", section.dataset.col === focus);
    }
    const following = this.follow && Boolean(column);
    document.body.classList.toggle("following", following);
    // the orientation shown alone keeps its number (the others no longer count it)
    const grid = document.querySelector(".columns");
    if (grid) grid.style.counterReset = following ? `orientation ${number - 1}` : "";
    if (column) label($("wall-now"), "wall.now", { n: number, column: column.title });
    else label($("wall-now"), "wall.nowWhole");
    $("focus-column").value = focus ?? WHOLE;
    if (!tell) return;
    const presenting = document.body.classList.contains("presenting");
    if (presenting && this.follow) {
      scrollTo(0, 0);
      announce(column ? t("wall.showing", { n: number, column: column.title }) : t("wall.showingWhole"));
    }
  }
}
