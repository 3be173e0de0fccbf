/* Advocacy: let htmx show a refused share (HTTP 400, the slot with the network's message and the text
   kept) in place. Loaded with `defer`; no inline code (CSP script-src 'self'). */
(function () {
  "use strict";
  if (window.resonanzAdvocacy) { return; }
  window.resonanzAdvocacy = true;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var source = detail.requestConfig && detail.requestConfig.elt;
    if (detail.xhr && detail.xhr.status === 400 && source && source.closest("[data-advocacy]")) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });
})();
