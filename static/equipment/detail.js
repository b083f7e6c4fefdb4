/* The equipment page and its forms (templates/equipment/equipment_detail.html,
 * detail_corrections_form.html).  Progressive enhancement only: every form works
 * without this file.  No inline script anywhere (CSP).
 *  - Correction table: "Add row" clones the formset's empty row and updates TOTAL_FORMS.
 *  - Status form: the reason select is shown only for "out of service".
 */
(function () {
  "use strict";

  function setUpCorrections(container) {
    var prefix = container.dataset.prefix;
    var rows = container.querySelector("[data-correction-rows]");
    var template = container.querySelector("template[data-correction-template]");
    var total = container.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
    var add = container.querySelector("[data-correction-add]");
    if (!rows || !template || !total || !add) return;
    container.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });
    container.querySelectorAll("[data-no-js-hint]").forEach(function (el) { el.hidden = true; });
    add.addEventListener("click", function () {
      var index = parseInt(total.value, 10) || 0;
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var added = rows.lastElementChild;
      var number = added && added.querySelector("[data-row-number]");
      if (number) number.textContent = String(index + 1);
      var first = added && added.querySelector("input");
      if (first) first.focus();
    });
  }

  function setUpStatus(form) {
    var status = form.querySelector('select[name$="status"]');
    var reason = form.querySelector('select[name$="reason"]');
    if (!status || !reason) return;
    var wrapper = reason.closest(".mb-3") || reason.parentElement;
    function sync() {
      wrapper.hidden = status.value !== "out_of_service";
    }
    status.addEventListener("change", sync);
    sync();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-correction-formset]").forEach(setUpCorrections);
    document.querySelectorAll("[data-status-form]").forEach(setUpStatus);
  });
})();
