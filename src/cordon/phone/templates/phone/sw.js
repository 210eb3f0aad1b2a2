// Cordon field app: the service worker (scope /app/). It keeps the app's own files (shell, modules, styles,
// icons, manifest) so the app opens with no network; the data live in IndexedDB, encrypted, never here.
// The shell is asked from the network first (a fresh one when online; the sign-in page when signed out) and
// taken from the cache when the network fails; the app's files come from the cache of this version.
"use strict";
const VERSION = "__VERSION__";
const CACHE = "cordon-phone-" + VERSION;
const FILES = __FILES__;
const SHELL = FILES[0];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("cordon-phone-") && k !== CACHE)
      .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;  // data: never cached
  if (req.mode === "navigate" && url.pathname === SHELL) {
    event.respondWith(fetch(req).then((resp) => {
      if (resp.ok && resp.type === "basic") {
        const copy = resp.clone();
        caches.open(CACHE).then((c) => c.put(SHELL, copy));
      }
      return resp;
    }).catch(() => caches.match(SHELL, {ignoreSearch: true})));
    return;
  }
  if (FILES.indexOf(url.pathname) >= 0) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(req)));
  }
});
