/* The offline patrol app (inspections/patrol_offline.html): a round and its checkpoint visits are
 * recorded into IndexedDB with the phone's time and a key each, then sent in the order they were
 * recorded when the network is there. The server stores each key once (sent twice: stored once);
 * a conflict (the checkpoint changed meanwhile) stays on the phone with the reason until the
 * patroller sends it anyway or removes it. Nothing here runs inline (Content Security Policy). */
(function () {
  "use strict";
  var app = document.getElementById("offline-app");
  if (!app) { return; }
  var data = JSON.parse(document.getElementById("offline-data").textContent);
  var words = document.getElementById("offline-words").dataset;
  var DB_NAME = "fs-patrol", STORE = "records";
  var openKey = "fs-patrol-open-" + data.user;
  var syncing = false;
  var $ = function (id) { return document.getElementById(id); };

  // --- IndexedDB --------------------------------------------------------------------------------
  var dbPromise = new Promise(function (resolve, reject) {
    var req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "key" }); };
    req.onsuccess = function () { resolve(req.result); };
    req.onerror = function () { reject(req.error); };
  });
  function tx(mode, fn) {
    return dbPromise.then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), store = t.objectStore(STORE), out;
        out = fn(store);
        t.oncomplete = function () { resolve(out instanceof IDBRequest ? out.result : undefined); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function put(rec) { return tx("readwrite", function (s) { s.put(rec); }); }
  function get(key) { return tx("readonly", function (s) { return s.get(key); }); }
  function del(key) { return tx("readwrite", function (s) { s.delete(key); }); }
  function all() {
    return tx("readonly", function (s) { return s.getAll(); }).then(function (rows) {
      return (rows || []).filter(function (r) { return r.user === data.user; })
        .sort(function (a, b) { return a.seq - b.seq; });
    });
  }

  var lastSeq = 0;
  function nextSeq() { lastSeq = Math.max(Date.now() * 1000, lastSeq + 1); return lastSeq; }
  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function hhmm(iso) {
    var d = new Date(iso);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
  function institution(id) {
    return data.institutions.filter(function (i) { return i.id === id; })[0];
  }

  // --- starting, recording, finishing ---------------------------------------------------------
  var select = $("offline-institution");
  data.institutions.forEach(function (inst) {
    var o = document.createElement("option");
    o.value = inst.id; o.textContent = inst.name;
    if (inst.id === data.own_institution) { o.selected = true; }
    select.appendChild(o);
  });
  if (!data.institutions.length) {
    $("round-begin").disabled = true;
    $("round-start").insertAdjacentHTML("afterbegin", "<div class=\"alert alert-warning p-2 small\"></div>");
    $("round-start").querySelector(".alert").textContent = words.noInstitution;
  }
  $("offline-patroller").value = data.patroller || "";

  var current = null, chosen = null;

  function showRound() {
    showChecklists();
    $("round-start").hidden = !!current;
    $("round-open").hidden = !current;
    $("visit-entry").hidden = true;
    if (!current) { return; }
    var inst = institution(current.institution) || { name: "#" + current.institution, checkpoints: [] };
    $("round-title").textContent = inst.name + " · " + current.patroller_name + " · " + words.started + " " + hhmm(current.started_at);
    var list = $("checkpoint-buttons");
    list.innerHTML = "";
    if (!inst.checkpoints.length) {
      list.insertAdjacentHTML("beforeend", "<div class=\"list-group-item text-secondary\"></div>");
      list.lastChild.textContent = words.none;
    }
    inst.checkpoints.forEach(function (c) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "list-group-item list-group-item-action fs-target d-flex justify-content-between align-items-center";
      b.dataset.checkpoint = c.id;
      b.innerHTML = "<span><i class=\"bi bi-geo-alt\"></i> <span class=\"cp-name\"></span> <span class=\"small text-secondary cp-place\"></span></span><span class=\"cp-done small\"></span>";
      b.querySelector(".cp-name").textContent = c.name;
      b.querySelector(".cp-place").textContent = c.location || "";
      b.addEventListener("click", function () { choose(c); });
      list.appendChild(b);
    });
    markDone();
  }

  function markDone() {
    if (!current) { return; }
    all().then(function (rows) {
      var seen = {};
      rows.forEach(function (r) { if (r.type === "visit" && r.round_key === current.key) { seen[r.checkpoint] = r.visited_at; } });
      document.querySelectorAll("#checkpoint-buttons [data-checkpoint]").forEach(function (b) {
        var t = seen[b.dataset.checkpoint];
        b.querySelector(".cp-done").innerHTML = t ? "<i class=\"bi bi-check-circle-fill text-success\"></i> " + hhmm(t) : "";
      });
    });
  }

  function choose(c) {
    chosen = c;
    $("visit-checkpoint").textContent = c.name;
    $("visit-place").textContent = c.location || "";
    $("offline-ok-1").checked = true;
    $("offline-finding").value = "";
    $("offline-hazard").checked = false;
    $("offline-photo").value = "";
    $("visit-error").hidden = true;
    $("visit-entry").hidden = false;
    $("visit-entry").scrollIntoView({ block: "nearest" });
  }

  $("round-begin").addEventListener("click", function () {
    var inst = parseInt(select.value, 10);
    if (!inst) { return; }
    current = {
      key: uuid(), type: "round", seq: nextSeq(), user: data.user, state: "pending",
      institution: inst, started_at: new Date().toISOString(),
      patroller_name: $("offline-patroller").value.trim() || data.patroller
    };
    put(current).then(function () {
      localStorage.setItem(openKey, current.key);
      showRound(); render(); sync();
    });
  });

  $("visit-entry").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!current || !chosen) { return; }
    var ok = $("offline-ok-1").checked, finding = $("offline-finding").value.trim();
    if (!ok && !finding) { $("visit-error").hidden = false; $("offline-finding").focus(); return; }
    var file = $("offline-photo").files[0] || null;
    var rec = {
      key: uuid(), type: "visit", seq: nextSeq(), user: data.user, state: "pending",
      round_key: current.key, checkpoint: chosen.id, checkpoint_name: chosen.name,
      checkpoint_location: chosen.location || "", visited_at: new Date().toISOString(),
      ok: ok, finding: finding, open_hazard: !ok && $("offline-hazard").checked,
      photo: file, photo_name: file ? file.name : ""
    };
    put(rec).then(function () {
      $("visit-entry").hidden = true;
      markDone(); render(); sync();
    });
  });

  $("round-finish").addEventListener("click", function () {
    localStorage.removeItem(openKey);
    current = null; showRound(); render(); sync();
  });

  // --- the day's checklist, filled in without signal ---------------------------------------------
  var checklist = null;
  function checklistsOf(instId) {
    var inst = institution(instId);
    return (data.checklists || []).filter(function (t) { return inst && inst.checklists.indexOf(t.id) !== -1; });
  }
  // The day's patrol checklist and the self-inspection checklists: the same form, the same outbox.
  function showChecklists() {
    var instId = current ? current.institution : parseInt(select.value, 10);
    var lists = checklistsOf(instId);
    [["checklist-buttons", true, words.noChecklist, "checklist-open"],
     ["inspection-buttons", false, words.noInspection, "inspection-open"]].forEach(function (spec) {
      var box = $(spec[0]);
      box.innerHTML = "";
      var mine = lists.filter(function (t) { return !!t.patrol === spec[1]; });
      if (!mine.length) {
        box.insertAdjacentHTML("beforeend", "<div class=\"small text-secondary\"></div>");
        box.lastChild.textContent = spec[2];
      }
      mine.forEach(function (t) {
        var b = button(t.name, "btn-outline-primary text-start " + spec[3], function () { openChecklist(t, instId); });
        b.dataset.template = t.id;
        box.appendChild(b);
      });
    });
  }
  select.addEventListener("change", showChecklists);

  function openChecklist(t, instId) {
    checklist = { template: t, institution: instId };
    $("checklist-title").textContent = t.name;
    var box = $("checklist-items");
    box.innerHTML = "";
    t.items.forEach(function (item, n) {
      var card = document.createElement("div");
      card.className = "card mb-2 checklist-item";
      card.dataset.item = item.id;
      var name = "ck-" + item.id;
      card.innerHTML = "<div class=\"card-body p-2\"><div class=\"small text-secondary ck-cat\"></div><div class=\"fw-semibold mb-1 ck-text\"></div>" +
        "<div class=\"btn-group w-100 mb-1\" role=\"group\">" +
        ["pass", "fail", "na"].map(function (v) {
          var cls = { pass: "btn-outline-success", fail: "btn-outline-danger", na: "btn-outline-secondary" }[v];
          return "<input type=\"radio\" class=\"btn-check\" name=\"" + name + "\" id=\"" + name + "-" + v + "\" value=\"" + v + "\">" +
            "<label class=\"btn " + cls + " fs-target\" for=\"" + name + "-" + v + "\"></label>";
        }).join("") + "</div>" +
        "<input class=\"form-control mb-1 ck-note\" maxlength=\"300\">" +
        "<input class=\"form-control ck-photo\" type=\"file\" accept=\"image/*\" capture=\"environment\" multiple>" +
        "<div class=\"text-danger small ck-error\" hidden></div></div>";
      card.querySelector(".ck-cat").textContent = (n + 1) + ". " + item.category;
      card.querySelector(".ck-text").textContent = item.text;
      card.querySelector("label[for='" + name + "-pass']").textContent = words.pass;
      card.querySelector("label[for='" + name + "-fail']").textContent = words.fail;
      card.querySelector("label[for='" + name + "-na']").textContent = words.na;
      card.querySelector(".ck-note").placeholder = words.note;
      box.appendChild(card);
    });
    $("checklist-inspector").value = (current && current.patroller_name) || $("offline-patroller").value || data.patroller;
    $("checklist-error").hidden = true;
    $("checklist-entry").hidden = false;
    $("checklist-entry").scrollIntoView({ block: "start" });
  }

  $("checklist-all-pass").addEventListener("click", function () {
    document.querySelectorAll("#checklist-items .checklist-item").forEach(function (card) {
      if (!card.querySelector("input[type=radio]:checked")) { card.querySelector("input[value=pass]").checked = true; }
    });
  });

  $("checklist-entry").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!checklist) { return; }
    var results = [], photos = [], bad = false;
    document.querySelectorAll("#checklist-items .checklist-item").forEach(function (card) {
      var picked = card.querySelector("input[type=radio]:checked");
      var note = card.querySelector(".ck-note").value.trim();
      var err = card.querySelector(".ck-error");
      var missing = !picked || (picked.value === "fail" && !note);
      card.classList.toggle("border-danger", missing);
      err.hidden = !missing;
      err.textContent = missing ? (picked ? words.note : words.pass + " / " + words.fail + " / " + words.na) : "";
      if (missing) { bad = true; return; }
      var item = parseInt(card.dataset.item, 10);
      results.push({ item: item, result: picked.value, note: note });
      Array.prototype.forEach.call(card.querySelector(".ck-photo").files, function (file) {
        photos.push({ item: item, blob: file, name: file.name });
      });
    });
    var inspector = $("checklist-inspector").value.trim(), responsible = $("checklist-responsible").value.trim();
    $("checklist-inspector").classList.toggle("is-invalid", !inspector);
    $("checklist-responsible").classList.toggle("is-invalid", !responsible);
    if (bad || !inspector || !responsible) { $("checklist-error").hidden = false; return; }
    var d = new Date();
    var rec = {
      key: uuid(), type: "inspection", seq: nextSeq(), user: data.user, state: "pending",
      institution: checklist.institution, template: checklist.template.id, template_name: checklist.template.name,
      patrol: !!checklist.template.patrol,
      inspected_on: d.getFullYear() + "-" + ("0" + (d.getMonth() + 1)).slice(-2) + "-" + ("0" + d.getDate()).slice(-2),
      recorded_at: d.toISOString(), inspector_name: inspector, responsible_name: responsible,
      results: results, photos: photos
    };
    put(rec).then(function () {
      checklist = null;
      $("checklist-entry").hidden = true;
      render(); sync();
    });
  });

  // --- the outbox ---------------------------------------------------------------------------------
  function label(r) {
    if (r.type === "inspection") {
      return (r.patrol === false ? words.inspection : words.checklist) + " · " + r.template_name + " · " + hhmm(r.recorded_at) +
        (r.photos && r.photos.length ? " · \uD83D\uDCF7" : "");
    }
    if (r.type === "round") {
      var inst = institution(r.institution);
      return words.round + " · " + (inst ? inst.name : "#" + r.institution) + " · " + hhmm(r.started_at);
    }
    return hhmm(r.visited_at) + " · " + r.checkpoint_name + " · " + (r.ok ? words.normal : r.finding) +
      (r.photo ? " · \uD83D\uDCF7" : "");
  }

  function render() {
    return all().then(function (rows) {
      var box = $("outbox");
      box.innerHTML = "";
      var waiting = 0;
      rows.forEach(function (r) {
        if (r.state === "pending") { waiting += 1; }
        var li = document.createElement("li");
        li.className = "list-group-item d-flex flex-wrap gap-1 align-items-center";
        li.dataset.key = r.key; li.dataset.state = r.state;
        var cls = { pending: "text-bg-warning", sent: "text-bg-success", conflict: "text-bg-danger", rejected: "text-bg-danger" }[r.state];
        li.innerHTML = "<span class=\"badge " + cls + "\"></span> <span class=\"flex-grow-1 rec-label\"></span>";
        li.querySelector(".badge").textContent = words[r.state];
        li.querySelector(".rec-label").textContent = label(r);
        if (r.state === "sent" && r.url) {
          var a = document.createElement("a"); a.href = r.url; a.textContent = words.open; li.appendChild(a);
        }
        if (r.reason) {
          var why = document.createElement("div"); why.className = "w-100 small text-danger rec-reason";
          why.textContent = r.reason; li.appendChild(why);
        }
        if (r.state === "conflict" || r.state === "rejected") {
          if (r.state === "conflict" && r.type === "visit") {
            li.appendChild(button(words.force, "btn-outline-primary rec-force", function () {
              r.state = "pending"; r.force = true; r.reason = ""; put(r).then(function () { render(); sync(); });
            }));
          }
          li.appendChild(button(words.discard, "btn-outline-secondary rec-discard", function () {
            if (window.confirm(words.confirmDiscard)) { del(r.key).then(render); }
          }));
        }
        box.appendChild(li);
      });
      if (!rows.length) {
        box.innerHTML = "<li class=\"list-group-item text-secondary\"></li>";
        box.firstChild.textContent = app.querySelector("#outbox").dataset.empty;
      }
      $("sync-state").textContent = syncing ? words.sending : (waiting ? waiting + " " + words.waiting : words.allSent);
      $("sync-state").dataset.waiting = waiting;
      return rows;
    });
  }

  function button(text, cls, fn) {
    var b = document.createElement("button");
    b.type = "button"; b.className = "btn btn-sm fs-target " + cls; b.textContent = text;
    b.addEventListener("click", fn);
    return b;
  }

  function showNet() {
    var el = $("net-state");
    el.textContent = navigator.onLine ? el.dataset.online : el.dataset.offline;
    el.className = "badge rounded-pill " + (navigator.onLine ? "text-bg-success" : "text-bg-secondary");
    el.dataset.state = navigator.onLine ? "online" : "offline";
  }

  // --- sending, in order, each once ---------------------------------------------------------------
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) { return decodeURIComponent(m[1]); }
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function body(r) {
    var fd = new FormData();
    fd.append("key", r.key);
    if (r.type === "inspection") {
      ["institution", "template", "inspected_on", "recorded_at", "inspector_name", "responsible_name"].forEach(function (k) { fd.append(k, r[k]); });
      fd.append("results", JSON.stringify(r.results));
      (r.photos || []).forEach(function (p) { if (p.blob) { fd.append("photo-" + p.item, p.blob, p.name || "photo.jpg"); } });
    } else if (r.type === "round") {
      fd.append("institution", r.institution);
      fd.append("started_at", r.started_at);
      fd.append("patroller_name", r.patroller_name || "");
    } else {
      fd.append("round_key", r.round_key);
      fd.append("checkpoint", r.checkpoint);
      fd.append("visited_at", r.visited_at);
      fd.append("ok", r.ok ? "true" : "false");
      fd.append("finding", r.finding || "");
      fd.append("open_hazard", r.open_hazard ? "true" : "false");
      fd.append("checkpoint_name", r.checkpoint_name);
      fd.append("checkpoint_location", r.checkpoint_location);
      if (r.force) { fd.append("force", "true"); }
      if (r.photo) { fd.append("photo", r.photo, r.photo_name || "photo.jpg"); }
    }
    return fd;
  }

  function reasonOf(json) {
    if (!json) { return ""; }
    if (json.detail) { return String(json.detail); }
    return Object.keys(json).map(function (k) { return k + ": " + [].concat(json[k]).join(" "); }).join("；");
  }

  function sendOne(r) {
    var url = { round: data.round_url, visit: data.visit_url, inspection: data.inspection_url }[r.type];
    return fetch(url, {
      method: "POST", body: body(r), credentials: "same-origin", redirect: "manual",
      headers: { "X-CSRFToken": csrf(), "Accept": "application/json" }
    }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (json) { return { res: res, json: json }; });
    });
  }

  function sync() {
    if (syncing || !navigator.onLine) { return Promise.resolve(); }
    syncing = true; render();
    var stop = false;
    return all().then(function (rows) {
      var byKey = {};
      rows.forEach(function (r) { byKey[r.key] = r; });
      var queue = rows.filter(function (r) { return r.state === "pending"; });
      return queue.reduce(function (p, r) {
        return p.then(function () {
          if (stop) { return; }
          if (r.type === "visit" && byKey[r.round_key] && byKey[r.round_key].state !== "sent") { return; }
          return sendOne(r).then(function (out) {
            var s = out.res.status;
            if (s === 200 || s === 201) {
              r.state = "sent"; r.url = out.json && out.json.url; r.reason = ""; r.photo = null; r.photos = [];
            } else if (s === 409) {
              r.state = "conflict"; r.reason = reasonOf(out.json);
            } else if (s === 401 || s === 403 || out.res.type === "opaqueredirect") {
              stop = true; $("sync-state").textContent = words.login; return;
            } else if (s >= 400 && s < 500 && s !== 408 && s !== 429) {
              r.state = "rejected"; r.reason = reasonOf(out.json);
            } else { stop = true; return; }  // the server is unwell: try again later
            return put(r);
          }, function () { stop = true; });  // no network after all
        });
      }, Promise.resolve());
    }).then(function () { syncing = false; return render(); }, function () { syncing = false; return render(); });
  }

  window.addEventListener("online", function () { showNet(); sync(); });
  window.addEventListener("offline", showNet);
  $("sync-now").addEventListener("click", function () { sync(); });

  // --- start ------------------------------------------------------------------------------------
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(app.dataset.worker, { scope: app.dataset.scope }).catch(function () {});
  }
  showNet();
  var open = localStorage.getItem(openKey);
  (open ? get(open) : Promise.resolve(null)).then(function (rec) {
    current = rec && rec.type === "round" ? rec : null;
    showRound();
    return render();
  }).then(function () {
    app.dataset.ready = "1";
    return sync();
  });
})();
