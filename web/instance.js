// The instance de co-décision in the drawer: « le cap du territoire », the place and date
// of the session, the members present by collège (typed in, or taken from the people in
// the room) and the list of collèges. The facilitator writes the instance down (the
// server checks every op); everyone else reads it here.
//
// A form is refilled from the board only while nobody is typing in it (dom.js's
// `dirty` mark), so a live change never overwrites what the facilitator is writing.

import { label, t } from "./i18n.js";
import { announce } from "./notice.js";
import { newId } from "./store.js";
import { focusLater } from "./focus.js";
import { $, CONTENT_LANG, clean, el, markDirty, nameIt, setDirty, syncChildren } from "./dom.js";

/** Time zones offered for the session: metropolitan France and the overseas ones. */
export const ZONES = [
  "Europe/Paris", "America/Guadeloupe", "America/Martinique", "America/Cayenne",
  "Indian/Reunion", "Indian/Mayotte", "America/Miquelon", "Pacific/Noumea", "Pacific/Tahiti",
  "Pacific/Wallis", "UTC",
];

function button(key, className, params) {
  const node = el("button", className, key, params);
  node.type = "button";
  return node;
}

/** The instance's fold; hooks: send(op), view() the board shown, people() who is in the room. */
export class Instance {
  constructor({ send, view, people }) {
    this.send = send;
    this.view = view;
    this.people = people;
    this.shown = null; // the council object last drawn
    this.editing = null; // the member being corrected, or null
    for (const form of ["cap-form", "meeting-form", "member-form", "colleges-form"]) markDirty($(form));
    this.wireCap();
    this.wireMeeting();
    this.wireMembers();
    this.wireColleges();
  }

  wireCap() {
    $("cap-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = $("cap-input").value.trim();
      this.send({ kind: "cap.set", text });
      clean($("cap-form"));
      announce(t(text ? "cap.saved" : "cap.cleared"));
    });
  }

  wireMeeting() {
    const zone = $("meeting-zone");
    zone.replaceChildren(...ZONES.map((name) => {
      const option = el("option");
      option.value = name;
      option.textContent = name;
      return option;
    }));
    $("meeting-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send({
        kind: "meeting.set", place: $("meeting-place").value.trim(), date: $("meeting-date").value,
        timezone: zone.value,
      });
      clean($("meeting-form"));
      announce(t("meeting.saved"));
    });
  }

  wireMembers() {
    $("member-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const name = $("member-name").value.trim();
      if (!name) return;
      this.addMember(name, this.editing);
      $("member-name").focus();
    });
    $("member-cancel").addEventListener("click", () => this.stopEditing());
    $("member-college").addEventListener("change", () => this.showRoom());
  }

  /** Record a member (a new one, or a correction of `id`) in the collège chosen. */
  addMember(name, id = null) {
    const college = $("member-college").value;
    const title = this.college(college)?.label ?? "";
    this.send({ kind: "member.set", id: id ?? newId("m"), name, college });
    announce(t(id ? "member.corrected" : "member.added", { name, college: title }));
    this.stopEditing();
  }

  stopEditing() {
    this.editing = null;
    $("member-name").value = "";
    clean($("member-form"));
    label($("member-save"), "member.add");
    $("member-cancel").hidden = true;
  }

  /** Correct a member: the form takes its name and collège. */
  edit(member) {
    this.editing = member.id;
    $("member-name").value = member.name;
    $("member-college").value = member.college;
    label($("member-save"), "member.save");
    $("member-cancel").hidden = false;
    $("member-name").focus();
  }

  wireColleges() {
    $("college-add").addEventListener("click", () => {
      const input = $("college-new");
      const name = input.value.trim();
      if (!name) return;
      this.collegeRow({ id: newId("g"), label: name }, $("colleges-list"));
      input.value = "";
      setDirty($("colleges-form"));
      input.focus();
    });
    $("college-new").addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        $("college-add").click();
      }
    });
    $("colleges-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const colleges = [...$("colleges-list").children].map((row) => ({
        id: row.dataset.key, label: row.querySelector("input").value.trim(),
      })).filter((c) => c.label);
      if (!colleges.length) return;
      this.send({ kind: "colleges.set", colleges });
      clean($("colleges-form"));
      announce(t("college.saved", { n: colleges.length }));
    });
  }

  college(id) {
    return this.view().council?.colleges.find((c) => c.id === id) ?? null;
  }

  /** Draw what changed; `canShape`: may write the cap (the facilitator, or shaping open). */
  update(view, role, canShape) {
    const council = view.council;
    $("panel-instance").hidden = !council;
    if (!council) return;
    $("cap-form").hidden = !canShape;
    this.showRoom();
    if (council === this.shown) return;
    const before = this.shown;
    this.shown = council;
    if (!before || before.cap !== council.cap) this.showCap(council.cap);
    if (!before || before.meeting !== council.meeting) this.showMeeting(council.meeting);
    if (!before || before.members !== council.members || before.colleges !== council.colleges) {
      this.showMembers(council);
    }
    if (!before || before.colleges !== council.colleges) this.showColleges(council);
    else if (before.members !== council.members) this.markUsed(council);
  }

  /** A collège members sit in cannot be removed (the server refuses it: college_in_use). */
  markUsed(council) {
    const used = new Set([...council.members.values()].map((m) => m.college));
    for (const row of $("colleges-list").children) {
      const drop = row.querySelector("button");
      drop.disabled = used.has(row.dataset.key);
      drop.title = drop.disabled ? t("college.inUse") : "";
    }
  }

  showCap(cap) {
    const text = $("cap-text");
    text.hidden = !cap;
    text.textContent = cap;
    text.lang = CONTENT_LANG;
    $("cap-none").hidden = Boolean(cap);
    if (!$("cap-form").dataset.dirty) $("cap-input").value = cap;
  }

  showMeeting(meeting) {
    const parts = [];
    if (meeting.date) parts.push(formatDay(meeting.date));
    if (meeting.place) parts.push(meeting.place);
    label($("meeting-text"), parts.length ? "meeting.line" : "meeting.none", {
      what: parts.join(" · "), zone: meeting.timezone,
    });
    if ($("meeting-form").dataset.dirty) return;
    $("meeting-place").value = meeting.place;
    $("meeting-date").value = meeting.date;
    const zone = $("meeting-zone");
    if (![...zone.options].some((o) => o.value === meeting.timezone)) {
      const option = el("option");
      option.value = meeting.timezone;
      option.textContent = meeting.timezone;
      zone.append(option);
    }
    zone.value = meeting.timezone;
  }

  /** The members present, by collège (in the collèges' order), each with its buttons. */
  showMembers(council) {
    const members = [...council.members.values()];
    label($("members-title"), "member.title", { n: members.length });
    $("members-none").hidden = members.length > 0;
    const groups = council.colleges
      .map((college) => ({ college, members: members.filter((m) => m.college === college.id) }))
      .filter((group) => group.members.length);
    syncChildren($("members-list"), groups, (g) => g.college.id, () => {
      const box = el("div", "member-group");
      const title = el("h4");
      const list = el("ul", "member-list");
      box.append(title, list);
      return box;
    }, (box, group) => {
      const [title, list] = box.children;
      label(title, "member.group", { college: group.college.label, n: group.members.length });
      syncChildren(list, group.members, (m) => m.id, () => this.memberItem(), (item, m) => this.fillMember(item, m));
    });
    const select = $("member-college");
    const chosen = select.value;
    select.replaceChildren(...council.colleges.map((college) => {
      const option = el("option");
      option.value = college.id;
      option.textContent = college.label;
      return option;
    }));
    if (council.colleges.some((c) => c.id === chosen)) select.value = chosen;
    const names = $("member-names");
    names.replaceChildren(...members.map((m) => {
      const option = el("option");
      option.value = m.name;
      return option;
    }));
  }

  memberItem() {
    const item = el("li", "member");
    const name = el("span", "member-name");
    const fix = button("member.correct", "quiet facilitator-only");
    const drop = button("member.remove", "quiet danger-text facilitator-only");
    fix.addEventListener("click", () => this.edit(item.member));
    drop.addEventListener("click", () => {
      // the member goes: the focus to the next one's « Retirer », or to the name field
      const members = [...$("members-list").querySelectorAll(".member")];
      const next = members[members.indexOf(item) + 1] ?? members[members.indexOf(item) - 1];
      this.send({ kind: "member.remove", id: item.member.id });
      announce(t("member.removed", { name: item.member.name }));
      focusLater(() => (next?.isConnected ? next.lastElementChild : $("member-name")));
    });
    item.append(name, fix, drop);
    return item;
  }

  fillMember(item, member) {
    item.member = member;
    const [name, fix, drop] = item.children;
    name.textContent = member.name;
    nameIt(fix, "member.correctIt", { name: member.name });
    nameIt(drop, "member.removeIt", { name: member.name });
  }

  /** The participants in the room who are not members yet: one button each to add them. */
  showRoom() {
    const council = this.view().council;
    if (!council) return;
    const known = new Set([...council.members.values()].map((m) => m.name));
    const names = [...new Set(this.people().filter((p) => p.role === "participant").map((p) => p.name))]
      .filter((name) => !known.has(name))
      .sort((a, b) => a.localeCompare(b, "fr"));
    const college = this.college($("member-college").value)?.label ?? "";
    const signature = JSON.stringify([names, college]);
    if (signature === this.roomShown) return;
    this.roomShown = signature;
    $("room-people").hidden = names.length === 0;
    syncChildren($("room-people-list"), names, (name) => name, (name) => {
      const item = el("li");
      const add = button("member.fromRoom", "quiet", { name });
      add.addEventListener("click", () => this.addMember(name));
      item.append(add);
      return item;
    }, (item, name) => {
      nameIt(item.firstElementChild, "member.fromRoomIt", { name, college });
    });
  }

  /** The collèges' editor, refilled from the board while nobody edits it. */
  showColleges(council) {
    if ($("colleges-form").dataset.dirty) return;
    const list = $("colleges-list");
    list.replaceChildren();
    for (const college of council.colleges) this.collegeRow(college, list);
    this.markUsed(council);
  }

  collegeRow(college, list) {
    const row = el("li", "college-row");
    row.dataset.key = college.id;
    const input = el("input");
    input.id = `college-${college.id}`;
    input.maxLength = 80;
    input.value = college.label;
    input.lang = CONTENT_LANG;
    input.setAttribute("aria-label", t("college.labelOf", { n: list.children.length + 1 }));
    const drop = button("college.remove", "quiet danger-text");
    drop.setAttribute("aria-label", t("college.removeIt", { college: college.label }));
    drop.addEventListener("click", () => {
      const next = row.nextElementSibling ?? row.previousElementSibling;
      row.remove();
      setDirty($("colleges-form"));
      (next?.querySelector("input") ?? $("college-new")).focus();
    });
    row.append(input, drop);
    list.append(row);
  }
}

/** A day (YYYY-MM-DD) in words, in the page's language; no time zone can shift it. */
export function formatDay(day) {
  const [y, m, d] = day.split("-").map(Number);
  return new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: "full", timeZone: "UTC" })
    .format(new Date(Date.UTC(y, m - 1, d)));
}

