// Draws every .vega-chart with vega-embed (from /overview/analytics/vega.js, built from the vl-convert
// wheel). The Content-Security-Policy allows no eval and no inline styles: expressions run through
// vega's interpreter (ast: true) and the tooltip's stylesheet is analytics.css, not injected.
(function () {
  "use strict";
  function draw() {
    if (typeof window.vegaEmbed !== "function") return;
    const optionsNode = document.getElementById("vega-embed-options");
    const base = optionsNode ? JSON.parse(optionsNode.textContent) : {};
    const options = Object.assign({}, base, {
      ast: true, // vega-embed then runs expressions through vega's interpreter, never eval
      defaultStyle: false,
      tooltip: { disableDefaultStyle: true, theme: "resonanz" },
    });
    document.querySelectorAll(".vega-chart[data-spec]").forEach(function (node) {
      const specNode = document.getElementById(node.dataset.spec);
      if (!specNode || node.dataset.drawn) return;
      node.dataset.drawn = "1";
      window.vegaEmbed(node, JSON.parse(specNode.textContent), options).catch(function (error) {
        node.textContent = String(error);
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
  // A chart that arrives in an htmx swap (the post page's engagement panel after a refresh) is drawn too.
  document.addEventListener("htmx:afterSettle", draw);
})();
