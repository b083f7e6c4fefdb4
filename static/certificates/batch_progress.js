// The batch approval's progress page (certificates/certificate_batch.html).  A help,
// never a rule: without this file the page shows the state at load time and a
// "Refresh" link.  With it, the page asks the status URL (JSON {total, issued,
// items: [{id, number, status, status_label, url}]}) every few seconds and updates the
// progress bar and each row until every certificate of the batch is issued.
// No inline script anywhere (CSP).
(function () {
  "use strict";

  var card = document.querySelector("[data-batch-progress]");
  if (!card || !window.fetch) return;
  var url = card.dataset.statusUrl;
  var bar = card.querySelector("[data-batch-bar]");
  var issuedText = card.querySelector("[data-batch-issued]");
  var totalText = card.querySelector("[data-batch-total]");
  var state = card.querySelector("[data-batch-state]");
  var BADGES = {
    draft: "text-bg-warning",
    issuing: "text-bg-info",
    issued: "text-bg-success",
    void: "text-bg-danger"
  };
  var INTERVAL = 2000;
  var MAX_INTERVAL = 30000;
  var delay = INTERVAL;

  function badge(item) {
    var span = document.createElement("span");
    span.className = "badge " + (BADGES[item.status] || "text-bg-secondary");
    span.dataset.testid = "certificate-status";
    span.dataset.status = item.status;
    span.textContent = item.status_label || item.status;
    return span;
  }

  function updateRow(item) {
    var row = document.querySelector('[data-batch-item="' + item.id + '"]');
    if (!row) return;
    var status = row.querySelector("[data-batch-status]");
    if (status && (!status.firstElementChild || status.firstElementChild.dataset.status !== item.status)) {
      status.replaceChildren(badge(item));
    }
    var number = row.querySelector("[data-batch-number]");
    if (number && item.number) {
      var link = document.createElement("a");
      link.href = item.url;
      link.className = "font-monospace";
      link.textContent = item.number;
      number.replaceChildren(link);
    }
  }

  function show(data) {
    bar.max = Math.max(data.total, 1);
    bar.value = data.issued;
    bar.textContent = data.issued + "/" + data.total;
    issuedText.textContent = String(data.issued);
    totalText.textContent = String(data.total);
    data.items.forEach(updateRow);
    return data.total > 0 && data.issued >= data.total;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        delay = INTERVAL;
        if (show(data)) {
          if (state) state.textContent = state.dataset.doneText;
          return;
        }
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        // The server or the network is busy: ask again, less often.
        delay = Math.min(delay * 2, MAX_INTERVAL);
        window.setTimeout(poll, delay);
      });
  }

  if (Number(bar.value) < Number(bar.max)) window.setTimeout(poll, INTERVAL);
})();
