// The export job page (apps/core/templates/core/export_job.html): polls the job's status every
// two seconds until it is done or failed, and shows the progress and the download link.
(function () {
  "use strict";
  var box = document.getElementById("export-job");
  if (!box) { return; }
  var url = box.getAttribute("data-export-status");
  var bar = box.querySelector("[data-export-progress]");
  var link = box.querySelector("[data-export-download]");

  function setBar(done, total, finished) {
    var pct = finished ? 100 : (total > 0 ? Math.min(99, Math.floor(done * 100 / total)) : 0);
    bar.style.width = pct + "%";
    bar.textContent = pct + "%";
  }

  function show(data) {
    ["state_label", "rows_done", "rows_total", "error"].forEach(function (name) {
      var el = box.querySelector('[data-export-field="' + name + '"]');
      if (el && data[name] !== undefined && data[name] !== null) { el.textContent = data[name]; }
    });
    setBar(data.rows_done, data.rows_total, data.state === "done");
    if (data.state === "done" && data.download_url) {
      link.setAttribute("href", data.download_url);
      link.classList.remove("d-none");
    }
    return data.state === "done" || data.state === "failed";
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && show(data)) { return; }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  if (bar.getAttribute("data-done")) { setBar(1, 1, true); return; }
  poll();
}());
