// Importing the diagnostic from a CSV file, in two steps: the server first says what it
// would do (`POST …/import?preview=1`: how many findings and action ideas, the columns it
// uses and those it does not, each refused row with its line and reason), the
// facilitator reads it and confirms, and only then is the same file imported. Findings
// land in « Constats à classer », signed « Diagnostic » (or the file's author column);
// rows typed « idée d'action » become action ideas under no orientation yet.

import { hasString, label, t } from "./i18n.js";
import { announce, toast } from "./notice.js";
import { $, el, nameIt, text } from "./dom.js";

/** The field names the server maps columns to, as the page words them. */
const FIELDS = ["text", "type", "theme", "source", "indicator", "ambitions", "author", "colour"];

/** Wire the import field and its preview dialog; api is api.js's Api. */
export function wireImport(api) {
  const input = $("import-file");
  const dialog = $("import-dialog");
  let pending = null; // {name, body} of the file previewed

  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    if (!file) return;
    const body = await file.arrayBuffer();
    input.value = ""; // the same file can be chosen again
    try {
      const report = await api.json("/import?preview=1", { method: "POST", body, type: "text/csv" });
      pending = { name: file.name, body };
      showPreview(file.name, report);
    } catch (error) {
      showUnreadable(file.name, error);
    }
    dialog.showModal();
    $("import-title").focus();
  });

  $("import-form").addEventListener("submit", async (event) => {
    if (event.submitter?.value !== "import") return; // « Annuler » just closes the dialog
    event.preventDefault();
    if (!pending) return;
    const { body } = pending;
    pending = null;
    dialog.close("import");
    input.focus(); // the dialog is gone: back to what opened it
    try {
      const result = await api.json("/import", { method: "POST", body, type: "text/csv" });
      // ops refused at commit time: the board changed since the preview (its limits…)
      const said = result.rejected.length
        ? t("import.doneLate", { added: result.added, late: result.rejected.length })
        : t("import.done", { findings: result.findings, ideas: result.ideas });
      toast(said);
      announce(said);
    } catch (error) {
      const said = t("fac.failed", { message: error.message });
      toast(said);
      announce(said);
    }
  });
  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "import") pending = null;
    if (document.activeElement === document.body || !document.activeElement) input.focus();
  });
}

function showPreview(name, report) {
  label($("import-title"), "import.title", { name });
  const body = $("import-body");
  const counts = el("p", "import-counts", "import.counts", { findings: report.findings, ideas: report.ideas });
  const parts = [counts];
  const used = Object.entries(report.columns.used);
  if (used.length) {
    const list = el("ul", "import-columns");
    for (const [header, field] of used) {
      const item = el("li");
      item.append(text("span", "import-header", header), " → ", el("span", "", `import.field.${FIELDS.includes(field) ? field : "other"}`));
      list.append(item);
    }
    parts.push(el("h3", "", "import.used", { n: used.length }), list);
  }
  if (report.columns.unused.length) {
    const list = el("ul", "import-columns");
    for (const header of report.columns.unused) list.append(text("li", "import-header", header));
    parts.push(el("h3", "", "import.unused", { n: report.columns.unused.length }), el("p", "hint", "import.unusedHint"), list);
  }
  if (report.refused.length) {
    const table = el("table", "import-refused");
    table.append(el("caption", "vh", "import.refused", { n: report.refused.length }));
    const head = el("tr");
    head.append(el("th", "", "import.line"), el("th", "", "import.reason"));
    for (const th of head.children) th.scope = "col";
    const thead = el("thead");
    thead.append(head);
    const tbody = el("tbody");
    for (const row of report.refused) {
      const tr = el("tr");
      const line = text("th", "", String(row.line));
      line.scope = "row";
      tr.append(line, refusal(row));
      tbody.append(tr);
    }
    table.append(thead, tbody);
    // a table that may scroll sideways: a region the keyboard can reach and scroll
    const scroll = el("div", "table-scroll");
    scroll.tabIndex = 0;
    scroll.setAttribute("role", "region");
    nameIt(scroll, "import.refused", { n: report.refused.length });
    scroll.append(table);
    parts.push(el("h3", "", "import.refused", { n: report.refused.length }), scroll);
  } else parts.push(el("p", "", "import.noneRefused"));
  body.replaceChildren(...parts);
  const go = $("import-go");
  go.hidden = false;
  go.disabled = report.findings + report.ideas === 0;
  label(go, "import.go", { findings: report.findings, ideas: report.ideas });
}

function showUnreadable(name, error) {
  label($("import-title"), "import.title", { name });
  const problem = el("p", "problem", "import.unreadable");
  const reason = el("p");
  const words = text("span", "", error.body?.reason ?? error.message);
  words.lang = "en"; // the server's reasons are English
  if (error.body?.line) reason.append(el("span", "", "import.lineN", { line: error.body.line }), " ");
  reason.append(words);
  $("import-body").replaceChildren(problem, reason);
  $("import-go").hidden = true;
}

/** A refused row's reason in the page's language when its code is known, else the
 * server's English sentence (marked as English). */
function refusal(row) {
  const key = `import.why.${row.code}`;
  if (row.code && hasString(key)) return el("td", "", key, { value: row.value ?? "" });
  const reason = text("td", "", row.reason);
  reason.lang = "en";
  return reason;
}
