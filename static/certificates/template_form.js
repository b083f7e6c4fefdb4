/* Record template form (templates/certificates/template_form.html): measurement points
 * and other conditions are Django formsets.  Progressive enhancement only: without this
 * file the page offers a few empty rows and blank rows are ignored.  With it:
 *  - "Add …" appends a copy of the formset's empty row and updates TOTAL_FORMS;
 *  - the × button removes a row and renumbers the others (names, ids, row numbers),
 *    so the indices the server reads stay 0..TOTAL_FORMS-1.
 * No inline script anywhere (CSP).
 */
(function () {
  "use strict";

  var ATTRS = ["name", "id", "for", "aria-describedby"];

  function rowsOf(container) {
    return container.querySelectorAll("[data-formset-rows] > [data-formset-row]");
  }

  function renumber(container) {
    var prefix = container.dataset.prefix;
    var pattern = new RegExp("(^|\\s)(id_)?" + prefix + "-(\\d+|__prefix__)-", "g");
    var rows = rowsOf(container);
    rows.forEach(function (row, index) {
      row.querySelectorAll("[name], [id], label[for], [aria-describedby]").forEach(function (el) {
        ATTRS.forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) {
            el.setAttribute(attr, value.replace(pattern, "$1$2" + prefix + "-" + index + "-"));
          }
        });
      });
      var number = row.querySelector("[data-row-number]");
      if (number) number.textContent = String(index + 1);
    });
    var total = container.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
    if (total) total.value = String(rows.length);
  }

  function enhanceRow(container, row) {
    row.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });
    var remove = row.querySelector("[data-formset-remove]");
    if (remove) {
      remove.addEventListener("click", function () {
        var next = row.nextElementSibling || row.previousElementSibling;
        row.remove();
        renumber(container);
        var focus = next && next.querySelector("input, select");
        if (focus) focus.focus();
      });
    }
  }

  function setUp(container) {
    var body = container.querySelector("[data-formset-rows]");
    var template = container.querySelector("template[data-formset-template]");
    var add = container.querySelector("[data-formset-add]");
    if (!body || !template || !add) return;
    container.querySelectorAll(":scope > [data-js-only]").forEach(function (el) { el.hidden = false; });
    container.querySelectorAll("[data-no-js-hint]").forEach(function (el) { el.hidden = true; });
    rowsOf(container).forEach(function (row) { enhanceRow(container, row); });
    add.addEventListener("click", function () {
      var row = template.content.cloneNode(true).querySelector("[data-formset-row]");
      body.appendChild(row);
      renumber(container);
      enhanceRow(container, row);
      var first = row.querySelector("input, select");
      if (first) first.focus();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-formset]").forEach(setUp);
  });
})();
