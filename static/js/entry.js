/* The self-assessment entry page: the running total and the veto warning while typing;
   a measured item's score computed from its figures as they are typed (the same rule as
   inspections.scoring.measure, which decides on saving). */
(function () {
  "use strict";
  var form = document.getElementById("assessment-form");
  if (!form) return;
  var maxTotal = parseFloat(form.dataset.maxTotal) || 0;
  function measured(box) {
    var num = parseFloat(box.querySelector("input[name^=num_]").value);
    var den = parseFloat(box.querySelector("input[name^=den_]").value);
    var out = box.querySelector("input[name^=score_]");
    var max = parseFloat(box.dataset.max), th = parseFloat(box.dataset.threshold);
    if (isNaN(num) || isNaN(den) || den <= 0 || num < 0) { out.value = ""; return; }
    var v = num / den * (box.dataset.pct === "1" ? 100 : 1), met, share;
    if (box.dataset.cmp === "<=") { met = v <= th; share = v ? th / v : 1; }
    else if (box.dataset.cmp === "=") { met = v === th; share = 0; }
    else { met = v >= th; share = th ? v / th : 1; }
    var score = met ? max : (box.dataset.rule === "proportional" ? Math.floor(max * Math.min(1, share) * 10) / 10 : 0);
    out.value = score.toFixed(1);
    box.querySelector("[data-computed]").textContent = score.toFixed(1);
  }
  function update() {
    var total = 0, veto = false;
    form.querySelectorAll("[data-measured]").forEach(measured);
    form.querySelectorAll("input[name^=score_]").forEach(function (el) {
      var v = parseFloat(el.value), max = parseFloat(el.dataset.max);
      if (!isNaN(v)) total += v;
      var bad = el.value !== "" && (isNaN(v) || v < 0 || v > max);
      if (el.type === "number") {
        el.setCustomValidity(bad ? "0–" + max : "");
        el.classList.toggle("invalid", bad);
      }
      if (el.dataset.veto === "1" && (isNaN(v) || v < max)) veto = true;
    });
    document.getElementById("running-total").textContent = total.toFixed(1);
    document.getElementById("running-final").textContent = maxTotal ? (total / maxTotal * 100).toFixed(2) : "0";
    document.getElementById("veto-warning").hidden = !veto;
  }
  form.addEventListener("input", update);
  update();
})();
