/* Approvals: let htmx show a form's validation answer (HTTP 400) in place, and copy review links.
   Loaded with `defer` from the approvals templates; no inline code (CSP script-src 'self'). */
(function () {
  "use strict";
  if (window.resonanzApprovals) { return; }
  window.resonanzApprovals = true;

  // htmx does not swap 4xx answers by default. Our forms answer 400 with the form and its errors.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var source = detail.requestConfig && detail.requestConfig.elt;
    if (detail.xhr && detail.xhr.status === 400 && source && source.closest("[data-approvals]")) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) { return; }
    var input = document.querySelector(button.getAttribute("data-copy"));
    if (!input) { return; }
    input.select();
    var done = function () {
      button.textContent = button.getAttribute("data-copied-label") || button.textContent;
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });
})();
