// The official record of a frozen board, drawn from the server's stored record (the
// `record` snapshot), as a council would annex it: the session (date, place, time of the
// freeze in the workshop's time zone), the members present by collège, « le cap du
// territoire », each orientation with its decision, the debate, the documents it feeds,
// its grounds, ambitions, votes and the ideas parked for phase 5; the ideas under no
// orientation; the method's points of vigilance with the answers given, Atelier's advice
// apart; what was still open; and the hash.

import { t } from "./i18n.js";
import { el, text, userText } from "./dom.js";
import { OUTCOMES } from "./orientation.js";
import { tallyTable } from "./decision.js";
import { formatDay } from "./instance.js";
import { checkText, pointTitle, quoteOf } from "./vigilance.js";

/** When the board was frozen, in the workshop's time zone (« 14 mars 2025 à 18:30 »). */
export function formatMoment(iso, zone) {
  const options = { dateStyle: "long", timeStyle: "short" };
  try {
    return new Intl.DateTimeFormat(document.documentElement.lang, { ...options, timeZone: zone }).format(new Date(iso));
  } catch {
    return iso; // a zone this browser does not know: the server's own words, with their offset
  }
}

function listItem(child, className = "") {
  const item = el("li", className);
  item.append(child);
  return item;
}

function section(key, params, ...children) {
  const box = el("section", "record-part");
  box.append(el("h3", "", key, params), ...children);
  return box;
}

function finding(f) {
  const item = el("li", "record-finding");
  if (f.type) {
    const kind = el("span", `ftype ftype-${f.type}`, `ftype.${f.type}`);
    item.append(kind, " ");
  }
  item.append(userText("span", "", f.text));
  const facts = [f.theme, f.indicator, f.source].filter(Boolean);
  if (facts.length) item.append(" ", userText("span", "record-facts-line", `(${facts.join(" · ")})`));
  item.append(" ", el("span", "record-by", "note.by", { name: f.author }));
  return item;
}

function ideaList(ideas) {
  const list = el("ul", "record-ideas");
  for (const idea of ideas) {
    const item = el("li");
    item.append(userText("span", "", idea.text), " ", el("span", "record-by", "note.by", { name: idea.author }));
    list.append(item);
  }
  return list;
}

function orientation(o, colleges) {
  const item = el("li", "record-orientation");
  item.append(userText("h4", "", o.title));
  item.append(o.statement ? userText("p", "statement", o.statement) : el("p", "statement empty", "orientation.noStatement"));
  const decision = el("p", "record-decision");
  decision.append(el("strong", "", "record.decision"), " ");
  if (o.decision) {
    const mark = el("span");
    mark.textContent = `${OUTCOMES[o.decision.outcome]} `;
    mark.setAttribute("aria-hidden", "true");
    decision.append(mark, el("span", `decision-${o.decision.outcome}`, `decision.${o.decision.outcome}`), " ",
      el("span", "", `decision.said.${o.decision.method}`));
  } else decision.append(el("span", "", "decision.noneAtFreeze"));
  item.append(decision);
  if (o.decision?.amendment) {
    const amendment = el("p");
    amendment.append(el("strong", "", "decision.amendmentIs"), " ", userText("span", "", o.decision.amendment));
    item.append(amendment);
  }
  if (o.decision?.tally?.length) item.append(tallyTable(o.decision.tally, colleges));
  if (o.objections.length) {
    item.append(el("h5", "", "objection.title", { n: o.objections.length }));
    const list = el("ol", "record-objections");
    for (const x of o.objections) {
      const entry = el("li");
      entry.append(userText("p", "", `« ${x.text} »`));
      if (x.by) entry.append(el("p", "record-by", "objection.raisedBy", { name: x.by }));
      const answer = el("p");
      if (x.answer) answer.append(el("strong", "", "objection.answerIs"), " ", userText("span", "", x.answer));
      else answer.append(el("strong", "objection-open", "objection.open"));
      entry.append(answer);
      list.append(entry);
    }
    item.append(list);
  }
  const facts = el("dl", "record-facts record-facts-o");
  const named = [...o.documents.map((code) => t(`doc.${code}`)), ...o.others];
  facts.append(el("dt", "", "doc.feedsTitle"), named.length ? userText("dd", "", named.join(" · ")) : el("dd", "", "doc.none"));
  facts.append(el("dt", "", "record.ambitionsTitle"),
    text("dd", "", o.ambitions.length ? o.ambitions.map((a) => t(`amb.${a}`)).join(" · ") : t("record.noAmbition")));
  facts.append(el("dt", "", "record.votes"), el("dd", "", "vote.count", { n: o.votes }));
  item.append(facts);
  item.append(el("h5", "", "record.findings", { n: o.findings.length }));
  const findings = el("ul", "record-findings");
  for (const f of o.findings) findings.append(finding(f));
  item.append(findings);
  if (o.ideas.length) item.append(el("h5", "", "idea.title", { n: o.ideas.length }), ideaList(o.ideas));
  return item;
}

/** The record's nodes; `workshop` is {title, territory} as the header shows them. */
export function recordNodes(snapshot, workshop) {
  const { record } = snapshot;
  const zone = record.meeting?.timezone ?? "Europe/Paris";
  const facts = el("dl", "record-facts");
  const fact = (key, value, params) => {
    facts.append(el("dt", "", key, params), value instanceof Node ? value : text("dd", "", value));
  };
  fact("record.workshop", userText("dd", "", workshop.title));
  if (workshop.territory) fact("record.territory", userText("dd", "", workshop.territory));
  fact("record.day", formatDay(record.date));
  if (record.meeting?.place) fact("record.place", userText("dd", "", record.meeting.place));
  fact("record.frozenAt", t("record.frozenAtValue", { when: formatMoment(record.frozen_at, zone), zone }));
  fact("record.facilitator", record.facilitator);
  fact("record.devices", t("record.devicesValue", { n: record.devices }));
  fact("record.phase", `${record.phase.number}. ${t(`phase.${record.phase.number}`)}`);
  const nodes = [facts];

  const members = el("div", "record-members");
  for (const group of record.members) {
    const line = el("p");
    line.append(el("strong", "", "member.group", { college: group.label, n: group.names.length }), " ",
      text("span", "", group.names.join(", ")));
    members.append(line);
  }
  if (!record.members.length) members.append(el("p", "hint", "record.noMembers"));
  nodes.push(section("record.members", null, members));
  nodes.push(section("cap.title", null, record.cap ? userText("blockquote", "record-cap", record.cap) : el("p", "hint", "record.noCap")));

  const list = el("ol", "record-orientations");
  for (const o of record.orientations) list.append(orientation(o, record.colleges));
  nodes.push(section("record.orientations", { n: record.orientations.length }, list));
  if (record.ideas.length) nodes.push(section("idea.unplaced", { n: record.ideas.length }, ideaList(record.ideas)));
  if (record.unsorted.length) {
    const unsorted = el("ul", "record-findings");
    for (const f of record.unsorted) unsorted.append(finding(f));
    nodes.push(section("record.unsorted", { n: record.unsorted.length }, unsorted));
  }

  const titles = new Map(record.orientations.map((o) => [o.id, o.title]));
  const said = new Map(record.orientations.flatMap((o) => o.objections.map((x) => [x.id, x.text])));
  const points = el("ol", "record-points");
  for (const check of record.vigilance.filter((c) => c.source === "method")) {
    const item = el("li", "vpoint");
    const head = el("h4");
    head.append(pointTitle(check));
    item.append(head, quoteOf(check));
    const answer = el("p");
    if (check.answer) answer.append(el("strong", "", "vig.answerIs"), " ", userText("span", "", check.answer));
    else answer.append(el("strong", "objection-open", "vig.noAnswer"));
    item.append(answer);
    if (check.signals.length) {
      const signals = el("ul");
      for (const signal of check.signals) signals.append(listItem(checkText(signal, titles)));
      item.append(el("p", "vcite", "vig.signals", { n: check.signals.length }), signals);
    }
    points.append(item);
  }
  nodes.push(section("record.vigilance", null, points));
  const advice = el("ul", "vigilance-list");
  for (const check of record.vigilance.filter((c) => c.source !== "method")) {
    advice.append(listItem(checkText(check, titles, said), "check"));
  }
  if (advice.children.length) nodes.push(section("record.advice", null, el("p", "hint", "vig.atelierHint"), advice));
  const open = record.open ?? { points: [], objections: [] };
  if (open.points.length || open.objections.length) {
    nodes.push(section("record.open", null, el("p", "", "record.openLine", {
      points: open.points.length, objections: open.objections.length,
    })));
  }
  const hash = el("p", "record-hash");
  hash.append(el("strong", "", "record.hash"), " ", text("code", "", record.hash));
  nodes.push(hash);
  return nodes;
}

