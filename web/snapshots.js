// Snapshots and exports: the list of the workshop's snapshots (each phase closed, each
// named one, the official record), one opened read-only, two compared, and the files
// (JSON, Markdown, CSV, ODT, print-ready HTML) of the board, a snapshot or the record.
//
// Every call goes through api.js with the link's secret in a header; what the server
// returns is already filtered for this link's role.

import { label, t } from "./i18n.js";
import { liveColumns, liveNotes, boardFromState } from "./model.js";
import { announce, toast } from "./notice.js";
import { $, el, text } from "./dom.js";

function option(value, key, params, raw) {
  const node = document.createElement("option");
  node.value = value;
  if (raw !== undefined) node.textContent = raw;
  else label(node, key, params);
  return node;
}

/** The snapshots panel of one workshop. */
export class Snapshots {
  constructor(api) {
    this.api = api;
    this.list = [];
    this.stale = true;
    $("panel-snapshots").addEventListener("toggle", () => {
      if ($("panel-snapshots").open) this.refresh();
    });
    $("diff-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.compare($("diff-a").value, $("diff-b").value);
    });
    $("export-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.download($("export-source").value, $("export-format").value);
    });
    $("snapshot-list").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-snapshot]");
      if (button) this.open(button.dataset.snapshot);
    });
    this.fillSelects();
  }

  /** A snapshot was taken (or the board frozen): list them again when next looked at. */
  changed() {
    this.stale = true;
    if ($("panel-snapshots").open) this.refresh();
  }

  async refresh() {
    if (!this.stale) return;
    this.stale = false;
    try {
      this.list = (await this.api.json("/snapshots")).snapshots;
    } catch (error) {
      this.stale = true;
      toast(t("fac.failed", { message: error.message }));
      return;
    }
    this.show();
  }

  nameOf(snapshot) {
    if (snapshot.id === "record") return t("record.title");
    const when = new Date(snapshot.at).toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
    return t("snap.name", { label: snapshot.label, time: when });
  }

  show() {
    const list = $("snapshot-list");
    list.replaceChildren(...this.list.map((snapshot) => {
      const item = el("li", "snapshot");
      const title = text("span", "snapshot-name", this.nameOf(snapshot));
      const facts = el("span", "snapshot-facts", "snap.facts", {
        phase: { key: `phase.${snapshot.phase}` }, by: snapshot.by, hash: snapshot.hash.slice(0, 12),
      });
      const open = el("button", "", "snap.open");
      open.type = "button";
      open.dataset.snapshot = snapshot.id;
      open.setAttribute("aria-label", t("snap.openIt", { name: this.nameOf(snapshot) }));
      item.append(title, facts, open);
      return item;
    }));
    $("snapshot-none").hidden = this.list.length > 0;
    this.fillSelects();
    // the list came in after the user moved on into the panel: keep what has the focus
    // in view (it moved down by the list's height)
    const focused = document.activeElement;
    if (focused && focused !== document.body && list.closest("details")?.contains(focused)) {
      focused.scrollIntoView({ block: "nearest" });
    }
  }

  fillSelects() {
    const sources = [option("now", "snap.now"), ...this.list.map((s) => option(s.id, null, null, this.nameOf(s)))];
    for (const id of ["diff-a", "diff-b", "export-source"]) {
      const select = $(id);
      const chosen = select.value;
      select.replaceChildren(...sources.map((o) => o.cloneNode(true)));
      if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
    }
    // the usual comparison: the last snapshot against the board now
    if (!$("diff-a").value || $("diff-a").value === "now") {
      const last = this.list.filter((s) => s.id !== "record").at(-1);
      if (last) $("diff-a").value = last.id;
    }
    $("diff-b").value ||= "now";
  }

  /** Open one snapshot read-only, in a dialog. */
  async open(id) {
    let snapshot;
    try {
      snapshot = await this.api.json(`/snapshots/${id}`);
    } catch (error) {
      toast(t("fac.failed", { message: error.message }));
      return;
    }
    $("snapshot-view-title").textContent = this.nameOf(snapshot);
    const board = boardFromState(snapshot.state);
    const body = $("snapshot-view-body");
    const lanes = el("div", "snapshot-lanes");
    const pool = el("section", "snapshot-col");
    pool.append(el("h3", "", "pool.title"), this.noteList(liveNotes(board, null)));
    lanes.append(pool);
    for (const column of liveColumns(board)) {
      const section = el("section", "snapshot-col");
      section.append(text("h3", "", column.title));
      if (column.statement) section.append(text("p", "statement", column.statement));
      section.append(this.noteList(liveNotes(board, column.id)));
      lanes.append(section);
    }
    body.replaceChildren(el("p", "snapshot-facts", "snap.facts", {
      phase: { key: `phase.${snapshot.phase}` }, by: snapshot.by, hash: snapshot.hash.slice(0, 12),
    }), lanes);
    $("snapshot-view").showModal();
  }

  noteList(notes) {
    const list = el("ul", "snapshot-notes");
    for (const note of notes) {
      const item = el("li", "");
      item.dataset.colour = note.colour;
      item.append(text("span", "", note.text), text("span", "note-author", ` — ${note.author}`));
      list.append(item);
    }
    if (!notes.length) list.append(el("li", "empty", "snap.empty"));
    return list;
  }

  /** What changed between two snapshots (or a snapshot and now). */
  async compare(a, b) {
    const out = $("diff-result");
    let result;
    try {
      result = await this.api.json(`/snapshots/${a}/diff/${b}`);
    } catch (error) {
      toast(t("fac.failed", { message: error.message }));
      return;
    }
    const parts = [];
    const section = (key, items, line) => {
      if (!items.length) return;
      parts.push(el("h4", "", key, { n: items.length }));
      const list = el("ul");
      for (const item of items) list.append(text("li", "", line(item)));
      parts.push(list);
    };
    section("diff.notesAdded", result.notes.added, (n) => n.text);
    section("diff.notesRemoved", result.notes.removed, (n) => n.text);
    section("diff.notesMoved", result.notes.moved, (n) => n.text);
    section("diff.notesEdited", result.notes.edited, (n) => n.text ? `${n.text.before} → ${n.text.after}` : n.id);
    section("diff.columnsAdded", result.columns.added, (c) => c.title);
    section("diff.columnsRemoved", result.columns.removed, (c) => c.title);
    section("diff.columnsRenamed", result.columns.renamed, (c) => `${c.before} → ${c.after}`);
    if (!parts.length) parts.push(el("p", "", "diff.none"));
    out.replaceChildren(el("h3", "", "diff.title"), ...parts);
    out.focus();
    announce(t("diff.done"));
  }

  async download(source, format) {
    const query = source === "now" ? "" : `?snapshot=${encodeURIComponent(source)}`;
    try {
      const name = await this.api.download(`/export.${format}${query}`);
      announce(t("export.done", { name }));
    } catch (error) {
      toast(t("fac.failed", { message: error.message }));
    }
  }

  /** The official record, once frozen. */
  async record() {
    return this.api.json("/snapshots/record");
  }
}
