/* The self-assessment entry page: the running total and the veto warning while typing;
   a measured item's score computed from its figures as they are typed — the same rule as
   inspections.scoring.measure (which decides on saving), in exact integer arithmetic. */
(function () {
  "use strict";
  var form = document.getElementById("assessment-form");

  // a decimal as typed ("28", "28.5", "90.00") -> [BigInt numerator, BigInt denominator]
  function ratio(text) {
    var m = /^\s*(\d+)(?:\.(\d{1,2}))?\s*$/.exec(String(text));
    if (!m) return null;
    var frac = m[2] || "";
    return [BigInt(m[1] + frac), 10n ** BigInt(frac.length)];
  }
  function cmp(a, b) { var l = a[0] * b[1], r = b[0] * a[1]; return l < r ? -1 : l > r ? 1 : 0; }

  // the score in tenths (a Number), or null when the figures cannot give one
  function measure(d, numText, denText) {
    var num = ratio(numText), den = ratio(denText), max = ratio(d.max), th = ratio(d.threshold);
    if (!num || !den || !max || !th || den[0] === 0n) return null;
    var pct = d.pct === "1" ? 100n : 1n;
    if (pct === 100n && cmp(num, den) > 0) return null;  // a share above its whole: refused on saving
    var value = [num[0] * den[1] * pct, num[1] * den[0]];
    var met = d.cmp === "<=" ? cmp(value, th) <= 0 : d.cmp === "=" ? cmp(value, th) === 0 : cmp(value, th) >= 0;
    var tenths = [max[0] * 10n, max[1]];
    if (met) return Number(tenths[0] / tenths[1]);
    if (d.rule !== "proportional" || d.cmp === "=") return 0;
    var share = d.cmp === "<=" ? (value[0] === 0n ? [1n, 1n] : [th[0] * value[1], th[1] * value[0]])
                               : [value[0] * th[1], value[1] * th[0]];
    if (cmp(share, [1n, 1n]) > 0) share = [1n, 1n];
    return Number((tenths[0] * share[0]) / (tenths[1] * share[1]));  // floor of tenths
  }
  window.sanlingMeasure = measure;  // read by the browser test that compares it with the server's
  if (!form) return;
  var maxTotal = parseFloat(form.dataset.maxTotal) || 0;

  function measured(box) {
    var out = box.querySelector("input[name^=score_]");
    var t = measure(box.dataset, box.querySelector("input[name^=num_]").value, box.querySelector("input[name^=den_]").value);
    out.value = t === null ? "" : (t / 10).toFixed(1);
    box.querySelector("[data-computed]").textContent = t === null ? "—" : (t / 10).toFixed(1);
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
