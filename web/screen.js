// What the screen shows around the board: the side drawer of tools, presentation mode for
// the wall, zoom and the whole-board overview. Presentation only: nothing here sends an op,
// and every choice is this browser's own (kept in localStorage).
//
// Zoom uses the CSS `zoom` property on the board, so the board is laid out again at the
// new size (columns re-wrap, nothing scrolls sideways) and pointer coordinates stay right
// for drag and drop. The overview is the zoom at which the whole board fits the window.

import { label } from "./i18n.js";
import { pref, setPref } from "./store.js";
import { $ } from "./dom.js";

const ZOOMS = [40, 50, 67, 80, 90, 100, 110, 125, 150, 175];
const FIT_MIN = 25; // % : the overview never shrinks the board past this
const FIT_EVERY = 400; // ms between two fits of the overview while the board changes

/** The drawer, presentation mode, zoom and overview of one board page. */
export class Screen {
  constructor() {
    this.zoom = ZOOMS.includes(pref("zoom", 100)) ? pref("zoom", 100) : 100;
    this.overview = false;
    this.presenting = false;
    this.fitTimer = null;
    this.drawerReturn = null;
    this.fullscreen = false; // presentation mode asked the browser for the full screen
    $("zoom-in").addEventListener("click", () => this.step(1));
    $("zoom-out").addEventListener("click", () => this.step(-1));
    $("zoom-reset").addEventListener("click", () => this.setZoom(100));
    $("overview").addEventListener("click", () => this.setOverview(!this.overview));
    $("present").addEventListener("click", () => this.present(true));
    $("present-2").addEventListener("click", () => this.present(true));
    $("present-exit").addEventListener("click", () => this.present(false));
    $("drawer-toggle").addEventListener("click", () => this.drawer(!this.drawerOpen()));
    $("drawer-close").addEventListener("click", () => this.drawer(false));
    document.addEventListener("keydown", (event) => {
      // Escape closes the drawer, or leaves presentation mode; a dialog or a menu takes
      // it first (the focus may be anywhere: on the board, or lost with a closed dialog)
      if (event.key !== "Escape" || event.defaultPrevented || document.querySelector("dialog[open]")) return;
      if (this.drawerOpen()) {
        event.preventDefault();
        this.drawer(false);
      } else if (this.presenting) this.present(false);
    });
    addEventListener("resize", () => this.fitSoon());
    document.addEventListener("fullscreenchange", () => {
      if (!document.fullscreenElement && this.fullscreen) {
        this.fullscreen = false;
        if (this.presenting) this.present(false);
      }
    });
    // the drawer starts under the header, whose height changes with its content
    new ResizeObserver(() => {
      document.documentElement.style.setProperty("--top-h", `${$("top").offsetHeight}px`);
    }).observe($("top"));
    this.showZoom();
  }

  step(direction) {
    const at = ZOOMS.findIndex((z) => z >= this.zoom);
    const index = Math.min(ZOOMS.length - 1, Math.max(0, (at < 0 ? ZOOMS.length - 1 : at) + direction));
    this.setZoom(ZOOMS[index]);
  }

  /** Set the board's zoom (percent); leaves the overview. */
  setZoom(percent) {
    this.overview = false;
    this.zoom = percent;
    setPref("zoom", percent);
    this.apply(percent);
  }

  apply(percent) {
    $("board").style.zoom = String(percent / 100); // CSSOM: the CSP allows it
    this.shown = percent;
    this.showZoom();
  }

  showZoom() {
    label($("zoom-reset"), "zoom.level", { n: Math.round(this.shown ?? this.zoom) });
    $("overview").setAttribute("aria-pressed", String(this.overview));
    $("zoom-out").disabled = !this.overview && this.zoom <= ZOOMS[0];
    $("zoom-in").disabled = !this.overview && this.zoom >= ZOOMS.at(-1);
  }

  /** The whole board in the window (or back to the chosen zoom). */
  setOverview(on) {
    this.overview = on;
    if (on) {
      scrollTo(0, 0);
      this.fit();
    } else this.apply(this.zoom);
  }

  /** Fit the board's height to the window; the width never overflows anyway. */
  fit() {
    if (!this.overview) return;
    const board = $("board");
    const room = innerHeight - board.offsetTop - 8; // the header is sticky, in the flow
    let zoom = 1;
    // a smaller zoom gives the grid more room across, so the board gets shorter than
    // in proportion: measure again and grow back, a few times at most
    for (let i = 0; i < 3; i += 1) {
      board.style.zoom = String(zoom);
      const height = board.getBoundingClientRect().height;
      if (height <= room + 1 && (zoom >= 1 || height >= room * 0.95)) break;
      zoom = Math.min(1, Math.max(FIT_MIN / 100, zoom * (room / height)));
    }
    this.shown = zoom * 100;
    this.showZoom();
  }

  /** Fit again soon, at most every FIT_EVERY ms (the board changes, the window resizes). */
  fitSoon() {
    if (!this.overview || this.fitTimer) return;
    this.fitTimer = setTimeout(() => {
      this.fitTimer = null;
      this.fit();
    }, FIT_EVERY);
  }

  /**
   * Presentation mode: large type, no controls, every orientation at once. Asked for by a
   * click, it also fills the screen: the browser's address bar, which holds this link's
   * key, is then off the wall; leaving full screen (Escape) leaves presentation mode too.
   */
  present(on, { focus = true } = {}) {
    this.presenting = on;
    document.body.classList.toggle("presenting", on);
    $("present-bar").hidden = !on;
    if (on) this.drawer(false);
    if (on && focus) {
      document.documentElement.requestFullscreen?.().then(() => {
        this.fullscreen = true;
      }).catch(() => {
        // refused (no user gesture, an iframe, a kiosk): presentation mode still holds
      });
    } else if (!on && document.fullscreenElement) {
      this.fullscreen = false;
      document.exitFullscreen().catch(() => {});
    }
    if (focus) (on ? $("present-exit") : $("present")).focus();
    this.fitSoon();
  }

  drawerOpen() {
    return !$("drawer").hidden;
  }

  /** Open or close the side drawer; it lies over the board, or beside it on a wide screen. */
  drawer(open) {
    const drawer = $("drawer");
    if (open === this.drawerOpen()) return;
    drawer.hidden = !open;
    document.body.classList.toggle("drawer-open", open);
    $("drawer-toggle").setAttribute("aria-expanded", String(open));
    if (open) {
      this.drawerReturn = document.activeElement;
      $("drawer-title").focus();
    } else if (drawer.contains(document.activeElement) || document.activeElement === document.body) {
      (this.drawerReturn?.isConnected ? this.drawerReturn : $("drawer-toggle")).focus();
    }
    this.fitSoon();
  }
}
