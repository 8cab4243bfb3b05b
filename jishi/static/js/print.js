/* A button marked data-print opens the browser's print dialog (no inline onclick: the
   Content-Security-Policy allows no inline script). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (target) { event.preventDefault(); window.print(); }
  });
})();
