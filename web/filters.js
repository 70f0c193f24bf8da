// Filters on the findings, as the diagnostic made them: by type (atout, faiblesse,
// opportunité, menace), by theme and by ambition, on the pool and the orientations
// alike. Within one kind a finding matches any box ticked; across kinds it must match
// each. A filter is this browser's own view (kept per workshop): it hides findings from
// this screen only, never from anyone else.

import { label, t } from "./i18n.js";
import { AMBITIONS } from "./model.js";
import { pref, setPref } from "./store.js";
import { $, CONTENT_LANG, FINDING_TYPES, el } from "./dom.js";

const NO_THEME = "";

/** The filter popover in the toolbar and the banner that says a filter is on. */
export class Filters {
  /** onChange(matches | null): the predicate on notes, or null when nothing filters. */
  constructor({ workshop, onChange }) {
    this.key = `filters.${workshop}`;
    this.onChange = onChange;
    const kept = pref(this.key, {});
    this.types = new Set((kept.types ?? []).filter((x) => FINDING_TYPES.includes(x)));
    this.ambitions = new Set((kept.ambitions ?? []).filter((x) => AMBITIONS.includes(x)));
    this.theme = typeof kept.theme === "string" ? kept.theme : NO_THEME;
    this.themes = [];
    this.build();
    $("filter-clear").addEventListener("click", () => this.clear());
    $("filter-banner-clear").addEventListener("click", () => {
      this.clear();
      $("filters").querySelector("summary").focus(); // the banner's button is gone
    });
  }

  build() {
    const boxes = (fieldset, name, codes, chosen, key) => {
      for (const code of codes) {
        const option = el("label", "check");
        const box = el("input");
        box.type = "checkbox";
        box.name = name;
        box.value = code;
        box.checked = chosen.has(code);
        box.addEventListener("change", () => {
          if (box.checked) chosen.add(code);
          else chosen.delete(code);
          this.changed();
        });
        option.append(box, el("span", "", `${key}.${code}`));
        fieldset.append(option);
      }
    };
    boxes($("filter-types"), "filter-type", FINDING_TYPES, this.types, "ftype");
    boxes($("filter-ambitions"), "filter-ambition", AMBITIONS, this.ambitions, "amb");
    $("filter-theme").addEventListener("change", (event) => {
      this.theme = event.target.value;
      this.changed();
    });
  }

  /** Whether any filter is on. */
  active() {
    return this.types.size > 0 || this.ambitions.size > 0 || this.theme !== NO_THEME;
  }

  /** Whether a note shows under the filters. */
  matches(note) {
    if (this.types.size && !this.types.has(note.type)) return false;
    if (this.theme !== NO_THEME && (note.theme ?? "") !== this.theme) return false;
    if (this.ambitions.size && !note.ambitions.some((a) => this.ambitions.has(a))) return false;
    return true;
  }

  clear() {
    this.types.clear();
    this.ambitions.clear();
    this.theme = NO_THEME;
    for (const box of $("filters").querySelectorAll("input[type=checkbox]")) box.checked = false;
    $("filter-theme").value = NO_THEME;
    this.changed();
  }

  changed() {
    setPref(this.key, { types: [...this.types], ambitions: [...this.ambitions], theme: this.theme });
    this.onChange(this.active() ? (note) => this.matches(note) : null);
  }

  /** Offer the themes the findings have; say how many findings the filters show. */
  update(view) {
    const themes = new Set();
    let total = 0;
    let shown = 0;
    for (const note of view.notes.values()) {
      if (note.deleted) continue;
      total += 1;
      if (note.theme) themes.add(note.theme);
      if (this.matches(note)) shown += 1;
    }
    const sorted = [...themes].sort((a, b) => a.localeCompare(b, "fr"));
    if (this.theme !== NO_THEME && !themes.has(this.theme)) sorted.unshift(this.theme); // kept
    if (sorted.join("\n") !== this.themes.join("\n")) {
      this.themes = sorted;
      const all = el("option", "", "filter.allThemes");
      all.value = NO_THEME;
      $("filter-theme").replaceChildren(all, ...sorted.map((theme) => {
        const option = el("option");
        option.value = theme;
        option.textContent = theme;
        option.lang = CONTENT_LANG;
        return option;
      }));
      $("filter-theme").value = this.theme;
    }
    $("filter-theme-row").hidden = sorted.length === 0;
    const on = this.active();
    const count = this.types.size + this.ambitions.size + (this.theme !== NO_THEME ? 1 : 0);
    const badge = $("filter-count");
    badge.hidden = !on;
    badge.textContent = String(count);
    badge.setAttribute("aria-label", t("filter.countLabel", { n: count }));
    $("filters").classList.toggle("is-on", on);
    $("filter-banner").hidden = !on;
    if (on) label($("filter-banner-text"), "filter.banner", { shown, total, what: this.describe() });
  }

  /** The filters on, in words (« Faiblesse, Menace · Emploi »). */
  describe() {
    const parts = [];
    if (this.types.size) parts.push(FINDING_TYPES.filter((x) => this.types.has(x)).map((x) => t(`ftype.${x}`)).join(", "));
    if (this.theme !== NO_THEME) parts.push(this.theme);
    if (this.ambitions.size) parts.push(AMBITIONS.filter((x) => this.ambitions.has(x)).map((x) => t(`amb.short.${x}`)).join(", "));
    return parts.join(" · ");
  }
}
