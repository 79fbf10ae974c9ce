/* Behaviour the pages declare with data attributes, so no page needs inline script (the
   Content-Security-Policy allows scripts only from the portal itself). */
(function () {
  "use strict";
  // <select data-autosubmit>: choosing submits its form
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.submit();
  });
  // <input list="…" data-append-to="ID">: picking one of the list's codes adds it as a
  // line to the textarea ID (once), and clears the search for the next one
  document.addEventListener("input", function (e) {
    var el = e.target;
    if (!el.matches || !el.matches("[data-append-to]") || !el.list) return;
    var code = el.value.trim(), known = false;
    for (var i = 0; i < el.list.options.length; i++) if (el.list.options[i].value === code) known = true;
    if (!known) return;
    var box = document.getElementById(el.getAttribute("data-append-to"));
    var lines = box.value.split(/\s+/).filter(Boolean);
    if (lines.indexOf(code) < 0) lines.push(code);
    box.value = lines.join("\n");
    el.value = "";
  });
  document.addEventListener("click", function (e) {
    var el = e.target.closest ? e.target.closest("[data-confirm], [data-print]") : null;
    if (!el) return;
    // <button data-confirm="…">: asks first
    if (el.hasAttribute("data-confirm") && !window.confirm(el.getAttribute("data-confirm"))) e.preventDefault();
    // <button data-print>: prints the page
    if (el.hasAttribute("data-print")) { e.preventDefault(); window.print(); }
  });
})();
