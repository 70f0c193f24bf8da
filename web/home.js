// The first page: create a workshop, then show its three links, each with a QR code
// drawn by the server. The links carry their secret after "#", so it is posted in a
// body to get the QR code and never travels in a URL the server could log.

import { label, t } from "./i18n.js";
import { toast } from "./notice.js";
import { pref, setPref } from "./store.js";

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
        body: JSON.stringify({ title: data.get("title"), territory: data.get("territory") }),
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
  list.replaceChildren(...ROLES.map((role) => linkCard(role, workshop.links[role])));
  box.hidden = false;
  box.querySelector("h2").focus();
}

/** A link's card: its role, QR code, the link itself, copy and open buttons. */
export function linkCard(role, link) {
  const card = document.createElement("li");
  card.className = `link-card role-${role}`;
  const title = document.createElement("h3");
  label(title, `role.${role}`);
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
      getSelection().selectAllChildren(url); // no clipboard (plain http): select it for Ctrl+C
    }
  });
  const open = document.createElement("a");
  open.className = "button";
  open.href = link;
  open.target = "_blank";
  open.rel = "noopener";
  label(open, "link.open");
  actions.append(copy, open);
  const qr = document.createElement("img");
  qr.className = "qr";
  qr.width = 220;
  qr.height = 220;
  qr.dataset.i18nLabel = "link.qr";
  qr.dataset.i18nArgs = JSON.stringify({ role: { key: `role.${role}` } });
  qr.alt = t("link.qr", { role: { key: `role.${role}` } });
  loadQr(qr, link);
  card.append(title, qr, url, actions);
  return card;
}

async function loadQr(img, link) {
  const response = await fetch("/api/qr", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ link }),
  });
  if (!response.ok) return;
  const svg = await response.text();
  // a data: URL is what the CSP allows for images; an <img> never runs what is inside
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}
