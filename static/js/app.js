/* FireSafe page behaviour, loaded on every page. No inline scripts: the Content Security
 * Policy allows scripts from this site only, so pages declare behaviour with data attributes. */
(function () {
  "use strict";

  // <button data-print>: print the page.
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-print]");
    if (el) { ev.preventDefault(); window.print(); }
  });

  // <input type=checkbox data-check-all="CSS selector">: tick or untick every matching box.
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.matches && el.matches("input[data-check-all]")) {
      document.querySelectorAll(el.getAttribute("data-check-all")).forEach(function (c) { c.checked = el.checked; });
    }
    // <select data-autosubmit>: submit its form on change.
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) { el.form.submit(); }
  });

  // <select data-rule-set-select>: show only the element cards (.rule-set[data-rule-set]) of the chosen set.
  function showRuleSet(select) {
    document.querySelectorAll(".rule-set").forEach(function (card) {
      var on = card.dataset.ruleSet === select.value;
      card.hidden = !on;
      card.querySelectorAll("input").forEach(function (i) { i.disabled = !on; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-rule-set-select], form[data-rule-sets] select[name=rule_set]").forEach(function (select) {
      select.addEventListener("change", function () { showRuleSet(select); });
      showRuleSet(select);
    });
  });

  // Tables read as cards on a phone (static/css/app.css, "Phone"): every cell of a table with headings
  // carries its column's heading, shown before the value when the rows become cards. A table opts
  // out with class "fs-keep-table" (a grid whose columns matter more than its rows).
  function labelTables(root) {
    (root || document).querySelectorAll("main table.table:not(.fs-keep-table)").forEach(function (table) {
      var heads = table.tHead ? table.tHead.rows[table.tHead.rows.length - 1] : null;
      if (!heads) { return; }
      var labels = [];
      Array.prototype.forEach.call(heads.cells, function (th) {
        for (var i = 0; i < (th.colSpan || 1); i++) { labels.push(th.textContent.replace(/\s+/g, " ").trim()); }
      });
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (tr) {
          var col = 0;
          Array.prototype.forEach.call(tr.cells, function (td) {
            if (labels[col] && !td.hasAttribute("data-label")) { td.setAttribute("data-label", labels[col]); }
            col += td.colSpan || 1;
          });
        });
      });
      table.classList.add("fs-cards");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { labelTables(document); });
  document.addEventListener("htmx:afterSwap", function (ev) { labelTables(ev.target); });

  // <button data-all-pass="form selector">: every item of a checklist not answered yet is "pass";
  // the exceptions are then marked one by one.
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-all-pass]");
    if (!el) { return; }
    ev.preventDefault();
    var form = document.querySelector(el.getAttribute("data-all-pass"));
    if (!form) { return; }
    var groups = {};
    form.querySelectorAll("input[type=radio][name^='result-']").forEach(function (r) {
      groups[r.name] = groups[r.name] || r.checked;
    });
    Object.keys(groups).forEach(function (name) {
      if (groups[name]) { return; }
      var pass = form.querySelector("input[type=radio][name='" + name + "'][value=pass]");
      if (pass) { pass.checked = true; }
    });
  });
})();
