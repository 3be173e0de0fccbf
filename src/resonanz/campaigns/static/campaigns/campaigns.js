/* Campaigns: let htmx show a refused form (HTTP 400, the form with its errors) in place.
   Loaded with `defer`; no inline code (CSP script-src 'self'). */
(function () {
  "use strict";
  if (window.resonanzCampaigns) { return; }
  window.resonanzCampaigns = true;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var source = detail.requestConfig && detail.requestConfig.elt;
    if (detail.xhr && detail.xhr.status === 400 && source && source.closest("[data-campaigns]")) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });
})();
