/* The self-assessment entry page: the running total and the veto warning while typing. */
(function () {
  "use strict";
  var form = document.getElementById("assessment-form");
  if (!form) return;
  var maxTotal = parseFloat(form.dataset.maxTotal) || 0;
  function update() {
    var total = 0, veto = false;
    form.querySelectorAll("input[type=number]").forEach(function (el) {
      var v = parseFloat(el.value), max = parseFloat(el.dataset.max);
      if (!isNaN(v)) total += v;
      var bad = el.value !== "" && (isNaN(v) || v < 0 || v > max);
      el.setCustomValidity(bad ? "0–" + max : "");
      el.classList.toggle("invalid", bad);
      if (el.dataset.veto === "1" && (isNaN(v) || v < max)) veto = true;
    });
    document.getElementById("running-total").textContent = total.toFixed(1);
    document.getElementById("running-final").textContent = maxTotal ? (total / maxTotal * 100).toFixed(2) : "0";
    document.getElementById("veto-warning").hidden = !veto;
  }
  form.addEventListener("input", update);
  update();
})();
