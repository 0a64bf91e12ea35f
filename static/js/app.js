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
})();
