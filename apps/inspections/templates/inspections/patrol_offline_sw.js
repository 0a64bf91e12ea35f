/* Service worker of the offline patrol app (served by the platform: inspections.views.patrol_offline_worker).
 * The page itself: network first, the cached copy without signal. Its assets: from the cache.
 * Records are not sent from here: the page keeps them in IndexedDB and sends them in order. */
"use strict";
var CACHE = "fs-patrol-{{ version }}";
var PAGE = {{ page_json|safe }};
var ASSETS = {{ assets_json|safe }};

self.addEventListener("install", function (ev) {
  ev.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(ASSETS.concat([PAGE])); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (ev) {
  ev.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("fs-patrol-") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (ev) {
  var req = ev.request;
  if (req.method !== "GET") { return; }
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname === PAGE) {
    ev.respondWith(fetch(req).then(function (res) {
      // Only a real page is kept (not the login page a lapsed session is redirected to).
      if (res.ok && !res.redirected) {
        var copy = res.clone();
        caches.open(CACHE).then(function (c) { c.put(PAGE, copy); });
      }
      return res;
    }).catch(function () { return caches.match(PAGE); }));
    return;
  }
  if (ASSETS.indexOf(url.pathname) !== -1) {
    ev.respondWith(caches.match(url.pathname).then(function (hit) { return hit || fetch(req); }));
  }
});
