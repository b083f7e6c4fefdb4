// The record entry page (certificates/record_entry.html).  Everything here is a help,
// never a rule: the server parses, rounds (GB/T 8170, on Decimal) and judges every value,
// and its results replace the preview once the readings are saved.
(function () {
  "use strict";

  // --- equipment: narrow the select by what is typed in the search box ---------------
  document.querySelectorAll("[data-filter-select]").forEach(function (input) {
    var select = document.getElementById(input.dataset.filterSelect);
    if (!select) return;
    input.addEventListener("input", function () {
      var words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      var firstMatch = null;
      Array.prototype.forEach.call(select.options, function (option) {
        if (!option.value) return;
        var text = option.textContent.toLowerCase();
        var match = words.every(function (w) { return text.indexOf(w) !== -1; });
        option.hidden = !match;
        if (match && firstMatch === null) firstMatch = option;
      });
      if (firstMatch && (!select.value || select.selectedOptions[0].hidden)) firstMatch.selected = true;
    });
  });

  // --- readings: a live preview of mean and error, in exact decimal arithmetic -------
  var NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;

  function parse(text) {
    var s = (text || "").trim().replace(/[，,]/g, ".").replace("−", "-");
    if (!NUMBER.test(s)) return null;
    var sign = s[0] === "-" ? "-" : "";
    s = s.replace(/^[+-]/, "");
    var parts = s.split(".");
    var frac = parts[1] || "";
    return { v: BigInt(sign + (parts[0] || "0") + frac), s: frac.length };
  }

  function at(d, scale) { return d.v * (10n ** BigInt(scale - d.s)); }

  // num / den rounded half to even (den > 0).
  function roundHalfEven(num, den) {
    var q = num / den, r = num % den;
    if (r < 0n) { q -= 1n; r += den; }
    var twice = 2n * r;
    if (twice > den || (twice === den && q % 2n !== 0n)) q += 1n;
    return q;
  }

  // Like certificates.evaluation.decimal_text: no trailing zeros, never "-0".
  function text(value, scale) {
    var negative = value < 0n;
    var digits = (negative ? -value : value).toString().padStart(scale + 1, "0");
    var out = scale ? digits.slice(0, -scale) + "." + digits.slice(-scale) : digits;
    if (scale) out = out.replace(/0+$/, "").replace(/\.$/, "");
    return out === "0" ? "0" : (negative ? "-" : "") + out;
  }

  function preview(row) {
    var inputs = row.querySelectorAll(".reading-input");
    var meanOut = row.querySelector('[data-preview="mean"]');
    var errorOut = row.querySelector('[data-preview="error"]');
    if (!meanOut || !errorOut) return;
    meanOut.textContent = errorOut.textContent = "";
    var changed = false, values = [];
    inputs.forEach(function (input) {
      if (input.value !== input.defaultValue) changed = true;
      var d = parse(input.value);
      if (d) values.push(d);
    });
    var step = parse(row.dataset.step), nominal = parse(row.dataset.nominal);
    if (!changed || !step || !nominal || values.length !== inputs.length || values.length === 0) return;
    var scale = Math.max(step.s, nominal.s, Math.max.apply(null, values.map(function (d) { return d.s; })));
    var sum = values.reduce(function (acc, d) { return acc + at(d, scale); }, 0n);
    var stepAt = at(step, scale);
    var mean = roundHalfEven(sum, BigInt(values.length) * stepAt) * stepAt;
    var error = roundHalfEven(mean - at(nominal, scale), stepAt) * stepAt;
    meanOut.textContent = "≈ " + text(mean, scale);
    errorOut.textContent = "≈ " + text(error, scale);
  }

  document.querySelectorAll("[data-reading-row]").forEach(function (row) {
    row.addEventListener("input", function () { preview(row); });
  });

  // --- inspection items: a finding is required when an item does not meet ------------
  document.querySelectorAll("[data-inspection]").forEach(function (row) {
    var finding = row.querySelector("[data-finding]");
    function sync() {
      var notMet = row.querySelector('input[type="radio"][value="no"]:checked') !== null;
      if (finding) finding.required = notMet;
    }
    row.addEventListener("change", sync);
    sync();
  });

  // --- warn before leaving a section with unsaved input ------------------------------
  var dirty = new Set();
  document.querySelectorAll(".record-section form").forEach(function (form) {
    form.addEventListener("input", function () { dirty.add(form); });
    form.addEventListener("change", function () { dirty.add(form); });
    form.addEventListener("submit", function () { dirty.delete(form); });
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty.size) { event.preventDefault(); event.returnValue = ""; }
  });
})();
