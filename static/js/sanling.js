/* Behaviour the pages declare with data attributes, so no page needs inline script (the
   Content-Security-Policy allows scripts only from the portal itself). */
(function () {
  "use strict";
  // <select data-autosubmit>: choosing submits its form
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.submit();
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
