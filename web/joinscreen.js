// The « Rejoindre l'atelier » screen, made for the projector: the participant link's QR code,
// large, and the link itself. It only ever shows a participant link: the facilitator's link
// gives every right and must never reach a wall.
//
// The server keeps link secrets hashed, so only the browser that created the workshop knows
// its participant link (kept with the workshop in localStorage). Elsewhere the facilitator
// pastes it once; the page checks with the server that it is this workshop's participant
// link before showing it.

import { label, t } from "./i18n.js";
import { pref, setPref } from "./store.js";
import { $ } from "./dom.js";

const LOOPBACK = /^(localhost|127(\.\d+){3}|\[::1\])$/;

/** The participant link this browser knows for a workshop, or null. */
export function knownParticipantLink(workshop) {
  return pref("workshops", []).find((w) => w.id === workshop)?.links?.participant ?? null;
}

function rememberParticipantLink(workshop, title, link) {
  const recent = pref("workshops", []);
  const old = recent.find((w) => w.id === workshop);
  const entry = { id: workshop, title: old?.title ?? title, links: { ...old?.links, participant: link } };
  setPref("workshops", [entry, ...recent.filter((w) => w.id !== workshop)].slice(0, 10));
}

/** A QR code of `link`, drawn by the server (the link goes in a body, never a URL). */
export async function loadQr(img, link) {
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

/** Whether `link` is the participant link of `workshop` (asked of the server). */
async function isParticipantLink(workshop, link) {
  let url;
  try {
    url = new URL(link, location.href);
  } catch {
    return false;
  }
  const secret = new URLSearchParams(url.hash.slice(1)).get("k");
  if (url.origin !== location.origin || url.pathname.replace(/\/$/, "") !== `/w/${workshop}` || !secret) return false;
  const response = await fetch(`/api/workshops/${workshop}`, { headers: { authorization: `Bearer ${secret}` } });
  return response.ok && (await response.json()).role === "participant";
}

/**
 * A short join link for the participant link (`/j/CODE`, 12 h), asked with the
 * facilitator's key; null when it cannot be had (an older server, offline…).
 */
async function shortLink(workshop, token, link) {
  const secret = new URLSearchParams(new URL(link, location.href).hash.slice(1)).get("k");
  if (!token || !secret) return null;
  try {
    const response = await fetch(`/api/workshops/${workshop}/join-code`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ participant: secret }),
    });
    if (!response.ok) return null;
    return (await response.json()).url;
  } catch {
    return null;
  }
}

/** A link as people type it: without « https:// ». */
function typed(url) {
  return url.replace(/^https?:\/\//, "");
}

/**
 * Show the join screen of a workshop (its participant link, or a way to give it).
 * `token` is the facilitator's key, to ask for a short link to show instead.
 */
export function showJoinScreen({ workshop, title, link = null, token = null }) {
  const dialog = $("join-screen");
  const known = link ?? knownParticipantLink(workshop);
  $("join-screen-workshop").textContent = title ?? "";
  const form = $("join-screen-paste");
  if (known) {
    $("join-screen-known").hidden = false;
    form.hidden = true;
    // the whole link first, then its short form once the server gives one
    $("join-screen-link").textContent = known;
    $("join-screen-link").classList.remove("short");
    // a link on this machine's loopback address opens nothing on a phone: say so, here
    $("join-screen-warn").hidden = !LOOPBACK.test(new URL(known, location.href).hostname);
    const qr = $("join-screen-qr");
    qr.alt = t("joinscreen.qr");
    qr.dataset.i18nLabel = "joinscreen.qr";
    shortLink(workshop, token, known).then((short) => {
      if (short) {
        $("join-screen-link").textContent = typed(short);
        $("join-screen-link").classList.add("short");
      }
      return loadQr(qr, short ?? known);
    });
  } else {
    $("join-screen-known").hidden = true;
    form.hidden = false;
    form.onsubmit = async (event) => {
      event.preventDefault();
      const input = $("join-screen-input");
      const pasted = input.value.trim();
      if (!(await isParticipantLink(workshop, pasted))) {
        input.setCustomValidity(t("joinscreen.notParticipant"));
        input.reportValidity();
        return;
      }
      input.value = "";
      rememberParticipantLink(workshop, title, pasted);
      showJoinScreen({ workshop, title, link: pasted, token });
    };
    $("join-screen-input").oninput = (event) => event.target.setCustomValidity("");
  }
  label($("join-screen-title"), "joinscreen.title");
  if (!dialog.open) dialog.showModal();
  if (!known) $("join-screen-input").focus();
}
