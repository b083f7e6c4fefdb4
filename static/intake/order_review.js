// Contract review: keep the fee total in step with the per-unit fees typed in.
(function () {
  "use strict";
  function recompute() {
    var total = 0;
    document.querySelectorAll("input.js-fee").forEach(function (input) {
      var fee = parseFloat(input.value);
      var quantity = parseInt(input.dataset.quantity, 10) || 0;
      if (!isNaN(fee)) {
        total += Math.round(fee * 100) * quantity;
      }
    });
    var cell = document.getElementById("review-fee-total");
    if (cell) {
      cell.textContent = (total / 100).toFixed(2);
    }
  }
  recompute();
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("input.js-fee")) {
      recompute();
    }
  });
})();
