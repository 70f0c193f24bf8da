// The service worker: keeps the page's own files, so a reload while the server is out of
// reach (town-hall Wi-Fi) still opens the board, from the last board and outbox kept in
// localStorage. Network first, always: when the server answers, it is the truth; its copy
// is only the fallback. The API and the websocket never pass through here.

const CACHE = "atelier-shell-v3";
// every module the page imports (tests/node/shell.test.mjs checks none is missing: one
// left out and the page cannot start offline)
const SHELL = [
  "/", "/style.css", "/flow.css", "/main.js", "/api.js", "/board.js", "/council.js",
  "/decision.js", "/dom.js", "/drag.js", "/facilitator.js", "/filters.js", "/flow.js",
  "/focus.js", "/home.js", "/i18n.js", "/ideas.js", "/importer.js", "/instance.js",
  "/joinscreen.js", "/model.js", "/notice.js", "/orientation.js", "/record.js", "/screen.js",
  "/snapshots.js", "/socket.js", "/store.js", "/vigilance.js", "/wall.js",
];
const PATIENCE = 4000; // ms a hanging network gets before the kept copy is shown

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  // every page of the app is the same index.html; other files only if they are ours
  const key = event.request.mode === "navigate" ? "/" : url.pathname;
  if (event.request.mode === "navigate" ? !isPage(url.pathname) : !SHELL.includes(key)) return;
  event.respondWith(networkFirst(event.request, key));
});

function isPage(path) {
  return path === "/" || path === "/index.html" || /^\/w\/[A-Za-z0-9_-]+\/?$/.test(path);
}

async function networkFirst(request, key) {
  // revalidate every time (a cheap 304): after an upgrade, all the modules change together
  const network = fetch(request.url, { cache: "no-cache" }).then(async (response) => {
    if (response.ok) await (await caches.open(CACHE)).put(key, response.clone());
    return response;
  });
  const timeout = new Promise((resolve) => setTimeout(resolve, PATIENCE, null));
  const first = await Promise.race([network.catch(() => null), timeout]);
  if (first) return first;
  const kept = await caches.match(key);
  return kept ?? network; // nothing kept: wait for (or fail with) the network
}
