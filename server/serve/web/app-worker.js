// ctlens service worker (a go-app ServiceWorkerTemplate). It precaches the
// app shell for this version and answers from that cache, so the app opens
// with no network, on any of its routes. The model and the sample study
// are not precached here: the app stores those itself (the model in its
// weights cache, studies in IndexedDB).
const cacheName = "ctlens-{{.Version}}";
const resourcesToCache = {{.ResourcesToCache}};
// Paths that are data, not pages: a navigation there goes to the network.
const dataPrefixes = ["/weights/", "/sample/", "/web/"];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(cacheName);
    // cache: "reload" bypasses the HTTP cache: what is stored is this
    // version's bytes, not an older copy.
    await cache.addAll(resourcesToCache.map((u) => new Request(u, { cache: "reload" })));
    await self.skipWaiting();
  })());
});

// No clients.claim(): the first visit stays uncontrolled (it loaded from
// the network anyway) and every later load goes through this worker.
// Claiming would make go-app's app.js, which takes a worker activating
// under a controlled page for a new version, report an update on the
// very first visit.
self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key !== cacheName) {
        await caches.delete(key);
      }
    }
  })());
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") {
    return;
  }
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (req.mode === "navigate" && !dataPrefixes.some((p) => url.pathname.startsWith(p))) {
    event.respondWith(page(req));
    return;
  }
  if (resourcesToCache.includes(url.pathname)) {
    event.respondWith(cached(req));
  }
  // Anything else (weights, sample, range requests) goes to the network
  // untouched.
});

// page answers a navigation from the cached shell, whatever the route:
// the shell routes on the client to what the URL names. Cache first, as
// go-app does, so the app opens at once and offline; a new version comes
// with a new worker (go-app then tells the app an update is ready).
async function page(req) {
  const cache = await caches.open(cacheName);
  const shell = await cache.match("/");
  if (shell) {
    return shell;
  }
  return fetch(req);
}

// cached answers a precached resource from the cache, else the network.
async function cached(req) {
  const cache = await caches.open(cacheName);
  const hit = await cache.match(req, { ignoreSearch: true, ignoreVary: true });
  return hit || fetch(req);
}
