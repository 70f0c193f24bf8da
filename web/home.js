// The first page: create a workshop, then show its three links: the participant's and
// the observer's with a QR code drawn by the server, the facilitator's without one and
// hidden until asked for. The links carry their secret after "#", so it is posted in a
// body to get the QR code and never travels in a URL the server could log.

import { label, t } from "./i18n.js";
import { toast } from "./notice.js";
import { pref, setPref } from "./store.js";
import { loadQr, showJoinScreen } from "./joinscreen.js";

const ROLES = ["facilitator", "participant", "observer"];
const RECENT_KEPT = 10;

/** Wire the home page's form. */
export function startHome() {
  document.getElementById("home").hidden = false;
  showRecent();
  const form = document.getElementById("create-form");
  const submit = form.querySelector("button[type=submit]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    submit.disabled = true;
    label(submit, "home.creating");
    try {
      const response = await fetch("/api/workshops", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          title: data.get("title"), territory: data.get("territory"), phase: Number(data.get("phase")),
        }),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.message ?? response.statusText);
      showLinks(body);
      // the facilitator's links are shown once: keep them here so closing the tab loses nothing
      const recent = pref("workshops", []).filter((w) => w.id !== body.id);
      setPref("workshops", [{ id: body.id, title: body.title, links: body.links }, ...recent].slice(0, RECENT_KEPT));
      showRecent();
    } catch (error) {
      toast(t("home.failed", { message: error.message }));
    } finally {
      submit.disabled = false;
      label(submit, "home.create");
    }
  });
}

function showRecent() {
  const recent = pref("workshops", []);
  const list = document.getElementById("recent-list");
  list.replaceChildren(...recent.map((workshop) => {
    const item = document.createElement("li");
    const open = document.createElement("a");
    open.href = workshop.links.facilitator;
    open.textContent = workshop.title;
    const links = document.createElement("button");
    links.type = "button";
    label(links, "home.links");
    links.addEventListener("click", () => showLinks(workshop));
    item.append(open, " ", links);
    return item;
  }));
  document.getElementById("recent").hidden = recent.length === 0;
}

function showLinks(workshop) {
  const box = document.getElementById("links");
  const list = document.getElementById("link-list");
  document.getElementById("links-title").textContent = workshop.title;
  list.replaceChildren(...ROLES.filter((role) => workshop.links[role]).map((role) => (
    linkCard(role, workshop.links[role], { workshop: workshop.id, title: workshop.title, facilitator: workshop.links.facilitator })
  )));
  box.hidden = false;
  box.querySelector("h2").focus();
}

/**
 * A link's card. The participant's and observer's carry a QR code; the facilitator's never
 * does, and its text stays hidden until asked for: a home page or a drawer may end up on
 * the projector, and that link gives every right over the workshop.
 */
export function linkCard(role, link, { workshop = null, title = null, facilitator = null } = {}) {
  const card = document.createElement("li");
  card.className = `link-card role-${role}`;
  const heading = document.createElement("h3");
  label(heading, `role.${role}`);
  const hint = document.createElement("p");
  hint.className = "hint";
  label(hint, role === "facilitator" ? "home.facHint" : `link.${role}Hint`);
  const url = document.createElement("a");
  url.className = "link-url";
  url.href = link;
  url.textContent = link;
  const actions = document.createElement("div");
  actions.className = "link-actions";
  const copy = document.createElement("button");
  copy.type = "button";
  label(copy, "link.copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(link);
      label(copy, "link.copied");
    } catch {
      url.hidden = false;
      getSelection().selectAllChildren(url); // no clipboard (plain http): select it for Ctrl+C
    }
  });
  const open = document.createElement("a");
  open.className = "button";
  open.href = link;
  open.target = "_blank";
  open.rel = "noopener";
  label(open, "link.open");
  if (role === "facilitator") {
    label(heading, "home.facTitle");
    open.className = "button primary";
    open.target = "_self";
    label(open, "home.openBoard");
    url.hidden = true;
    const show = document.createElement("button");
    show.type = "button";
    label(show, "home.facShow");
    show.setAttribute("aria-expanded", "false");
    show.addEventListener("click", () => {
      url.hidden = !url.hidden;
      show.setAttribute("aria-expanded", String(!url.hidden));
    });
    actions.append(open, copy, show);
    card.append(heading, hint, actions, url);
    return card;
  }
  const qr = document.createElement("img");
  qr.className = `qr qr-${role}`;
  qr.width = role === "participant" ? 220 : 120;
  qr.height = qr.width;
  qr.dataset.i18nLabel = "link.qr";
  qr.dataset.i18nArgs = JSON.stringify({ role: { key: `role.${role}` } });
  qr.alt = t("link.qr", { role: { key: `role.${role}` } });
  loadQr(qr, link);
  actions.append(copy, open);
  if (role === "participant" && workshop) {
    const project = document.createElement("button");
    project.type = "button";
    project.className = "primary";
    label(project, "home.joinScreen");
    // the facilitator's key asks the server for a short link to show (/j/CODE)
    const token = facilitator && new URLSearchParams(new URL(facilitator, location.href).hash.slice(1)).get("k");
    project.addEventListener("click", () => showJoinScreen({ workshop, title, link, token }));
    actions.prepend(project);
  }
  card.append(heading, hint, qr, url, actions);
  return card;
}
