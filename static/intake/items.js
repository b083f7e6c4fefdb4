/* Instrument-line formsets (order entry, request conversion, portal requests).
 *
 * Progressive enhancement of templates/intake/includes/_item_formset.html: the page works
 * without this file (three blank rows, disposition fields always shown).  With it:
 *  - "Add row" clones the formset's empty form and updates TOTAL_FORMS;
 *  - "Copy row" repeats a row below itself without its serial number;
 *  - "Remove row" deletes a row and renumbers the others;
 *  - the category datalist tells each row its proposed service, and (order forms only)
 *    warns when category x service is outside the authorised scope and shows the
 *    disposition fields.
 * Also: the order header's contact select only offers the chosen customer's contacts.
 * No inline script anywhere (CSP).
 */
(function () {
  "use strict";

  function fieldOf(row, name) {
    return row.querySelector('[data-field="' + name + '"]');
  }

  function renumber(container) {
    var prefix = container.dataset.prefix;
    var pattern = new RegExp("(^|\\s)(id_)?" + prefix + "-(\\d+|__prefix__)-", "g");
    var attrs = ["name", "id", "for", "aria-describedby"];
    var rows = container.querySelectorAll("[data-item-rows] > [data-item-row]");
    rows.forEach(function (row, index) {
      row.querySelectorAll("[name], [id], label[for], [aria-describedby]").forEach(function (el) {
        attrs.forEach(function (attr) {
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

  function findOption(container, text) {
    var value = (text || "").trim();
    if (!value) return null;
    var options = container.querySelectorAll("datalist option");
    var upper = value.toUpperCase();
    var code = value.split("\u2014")[0].trim().toUpperCase();
    for (var i = 0; i < options.length; i++) {
      var option = options[i];
      // The server also takes the bare Chinese name ("CODE — name" minus the code).
      var name = option.value.split("\u2014").slice(1).join("\u2014").trim();
      if (option.value === value || option.dataset.code.toUpperCase() === upper ||
          option.dataset.code.toUpperCase() === code || name === value) {
        return option;
      }
    }
    return null;
  }

  function setDispositionVisible(row, visible) {
    var block = row.querySelector("[data-disposition]");
    if (block) block.hidden = !visible;
  }

  function refreshRow(container, row) {
    var category = fieldOf(row, "category");
    var service = fieldOf(row, "service");
    var hint = row.querySelector("[data-proposed-hint]");
    var warning = row.querySelector("[data-scope-warning]");
    var option = category ? findOption(container, category.value) : null;
    if (hint) {
      hint.hidden = !option;
      if (option) {
        hint.querySelector("[data-proposed-label]").textContent = option.dataset.proposedLabel;
        hint.querySelector("[data-compulsory-flag]").hidden = option.dataset.compulsory !== "1";
      }
    }
    if (!warning) return;
    var outside = false;
    if (option && container.dataset.checkScope === "1") {
      var chosen = (service && service.value) || option.dataset.proposed;
      var scoped = (option.dataset.scoped || "").split(" ").filter(Boolean);
      outside = scoped.indexOf(chosen) === -1;
    }
    warning.hidden = !outside;
    var disposition = fieldOf(row, "disposition");
    var notAccepted = disposition && disposition.value && disposition.value !== "accept";
    var hasErrors = !!row.querySelector("[data-disposition] .invalid-feedback");
    var opened = row.dataset.dispositionOpen === "1";
    setDispositionVisible(row, outside || notAccepted || hasErrors || opened);
  }

  function newRow(container) {
    var template = container.querySelector("template[data-item-template]");
    var fragment = template.content.cloneNode(true);
    return fragment.querySelector("[data-item-row]");
  }

  function enhanceRow(container, row) {
    row.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });
    refreshRow(container, row);
  }

  function copyRow(container, source) {
    var row = newRow(container);
    source.querySelectorAll("[data-field]").forEach(function (input) {
      var name = input.dataset.field;
      var target = fieldOf(row, name);
      if (!target || name === "serial_number") return;
      if (input.type === "checkbox") {
        target.checked = input.checked;
      } else {
        target.value = input.value;
      }
    });
    row.dataset.dispositionOpen = source.dataset.dispositionOpen || "";
    source.after(row);
    renumber(container);
    enhanceRow(container, row);
    var serial = fieldOf(row, "serial_number");
    if (serial) serial.focus();
  }

  function setup(container) {
    var rows = container.querySelector("[data-item-rows]");
    container.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });
    container.querySelectorAll("[data-no-js-hint]").forEach(function (el) { el.hidden = true; });
    rows.querySelectorAll("[data-item-row]").forEach(function (row) { enhanceRow(container, row); });

    container.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button || !container.contains(button)) return;
      var row = button.closest("[data-item-row]");
      if (button.hasAttribute("data-item-add")) {
        var added = newRow(container);
        rows.appendChild(added);
        renumber(container);
        enhanceRow(container, added);
        var first = fieldOf(added, "instrument_name");
        if (first) first.focus();
      } else if (button.hasAttribute("data-item-copy") && row) {
        copyRow(container, row);
      } else if (button.hasAttribute("data-item-remove") && row) {
        row.remove();
        if (!rows.querySelector("[data-item-row]")) rows.appendChild(newRow(container));
        renumber(container);
        rows.querySelectorAll("[data-item-row]").forEach(function (r) {
          r.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });
        });
      } else if (button.hasAttribute("data-item-disposition-toggle") && row) {
        row.dataset.dispositionOpen = row.dataset.dispositionOpen === "1" ? "" : "1";
        refreshRow(container, row);
      }
    });

    function onChange(event) {
      var row = event.target.closest("[data-item-row]");
      if (row && container.contains(row)) refreshRow(container, row);
    }
    container.addEventListener("input", onChange);
    container.addEventListener("change", onChange);
  }

  function setupContacts() {
    var customer = document.querySelector("[data-customer-select]");
    var contact = document.querySelector("[data-contact-select]");
    if (!customer || !contact) return;
    function filter(autoPick) {
      var chosen = customer.value;
      Array.prototype.forEach.call(contact.options, function (option) {
        var owner = option.dataset.customer;
        var visible = !owner || owner === chosen;
        option.hidden = !visible;
        option.disabled = !visible;
        if (!visible && option.selected) contact.value = "";
      });
      if (autoPick === true && !contact.value) {
        // One contact for this customer: take it.
        var mine = Array.prototype.filter.call(contact.options, function (option) {
          return option.dataset.customer && option.dataset.customer === chosen;
        });
        if (mine.length === 1) contact.value = mine[0].value;
      }
    }
    customer.addEventListener("change", function () { filter(true); });
    filter(false);
  }

  function init() {
    document.querySelectorAll("[data-item-formset]").forEach(setup);
    setupContacts();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
