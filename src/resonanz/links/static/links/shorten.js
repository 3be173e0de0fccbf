/* The composer's "Shorten links" button (one per channel panel, shown with the channel's own text):
 * replaces every web address in the channel's text parts with the short link for this post and channel
 * (POST /api/v1/workspaces/<id>/links/shorten/, session + CSRF), so that clicks attribute to the channel.
 * No inline code (CSP script-src 'self'); without JavaScript the button does nothing and the links page
 * shortens by hand.
 */
(function () {
  "use strict";

  var form = document.getElementById("composer");
  if (!form) return;
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");

  function shorten(button) {
    var panel = button.closest("[data-panel]");
    var status = panel && panel.querySelector("[data-shorten-status]");
    var areas = panel ? Array.prototype.slice.call(panel.querySelectorAll("[data-override-text] textarea")) : [];
    button.disabled = true;
    var jobs = areas.filter(function (a) { return /https?:\/\//.test(a.value); }).map(function (area) {
      return fetch(button.getAttribute("data-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
        body: JSON.stringify({
          text: area.value,
          post_id: Number(button.getAttribute("data-post")),
          channel_id: Number(button.getAttribute("data-channel"))
        })
      }).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      }).then(function (body) {
        area.value = body.text;
        area.dispatchEvent(new Event("input", { bubbles: true }));
        area.dispatchEvent(new CustomEvent("composer-changed", { bubbles: true }));
      });
    });
    Promise.all(jobs).then(function () {
      if (status) status.textContent = button.getAttribute("data-msg-done");
    }, function () {
      if (status) status.textContent = button.getAttribute("data-msg-failed");
    }).then(function () { button.disabled = false; });
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-shorten-links]");
    if (!button) return;
    event.preventDefault();
    shorten(button);
  });
})();
