// The inbox list's timers count on in the browser. The server sends each running timer's due instant
// (data-due, UTC) beside its text, and the polled rows' ETag covers the instant, not the text: the text
// ("overdue by 3 hours, 35 minutes") changes every minute for every row, so the polling was never
// answered 304 Not Modified while it was part of the hash (views.inbox_rows_view, docs/inbox.md).
// After each swap (also of the browser's stored copy after a 304) and every 20 s the texts are
// written again here, the way Django's timesince/timeuntil write them (depth 2, adjacent units only,
// calendar years and months); the words come from the server (data-overdue / data-within on the
// tbody, the translated msgids), the units from the browser's Intl in the page's language.
(function () {
  "use strict";

  var CHUNKS = [["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
  var formats = {};

  function unit(lang, name, value) {
    var key = lang + name;
    if (!formats[key]) {
      formats[key] = new Intl.NumberFormat(lang, { style: "unit", unit: name, unitDisplay: "long" });
    }
    // Django's avoid_wrapping: no line break inside "3 hours".
    return formats[key].format(value).replace(/ /g, "\u00a0");
  }

  // Django's timesince(earlier, later) with depth 2.
  function since(earlier, later, lang) {
    if (later <= earlier) return unit(lang, "minute", 0);
    var months = (later.getUTCFullYear() - earlier.getUTCFullYear()) * 12 +
      later.getUTCMonth() - earlier.getUTCMonth();
    var pivot = null;
    while (months > 0) {
      var y = earlier.getUTCFullYear() + Math.floor((earlier.getUTCMonth() + months) / 12);
      var m = (earlier.getUTCMonth() + months) % 12;
      var last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
      pivot = new Date(Date.UTC(y, m, Math.min(last, earlier.getUTCDate()), earlier.getUTCHours(),
        earlier.getUTCMinutes(), earlier.getUTCSeconds()));
      if (pivot <= later) break;
      months -= 1;
      pivot = null;
    }
    var rest = ((pivot || earlier) <= later ? later - (pivot || earlier) : 0) / 1000;
    var partials = [["year", Math.floor(months / 12)], ["month", months % 12]];
    CHUNKS.forEach(function (chunk) {
      var count = Math.floor(rest / chunk[1]);
      partials.push([chunk[0], count]);
      rest -= count * chunk[1];
    });
    var i = 0;
    while (i < partials.length && partials[i][1] === 0) i += 1;
    if (i === partials.length) return unit(lang, "minute", 0);
    var out = [];
    while (i < partials.length && out.length < 2 && partials[i][1] !== 0) {
      out.push(unit(lang, partials[i][0], partials[i][1]));
      i += 1;
    }
    return out.join(", ");
  }

  function refresh() {
    var body = document.getElementById("inbox-rows");
    if (!body || typeof Intl === "undefined" || !Intl.NumberFormat) return;
    var lang = document.documentElement.lang || "de";
    var now = new Date();
    body.querySelectorAll(".timer[data-due]").forEach(function (timer) {
      var due = new Date(timer.getAttribute("data-due"));
      if (isNaN(due.getTime())) return;
      var overdue = due < now;
      timer.textContent = overdue
        ? body.getAttribute("data-overdue").replace("%(since)s", since(due, now, lang))
        : body.getAttribute("data-within").replace("%(left)s", since(now, due, lang));
      var row = timer.closest("tr");
      if (row) row.classList.toggle("is-overdue", overdue);
    });
  }

  document.addEventListener("DOMContentLoaded", refresh);
  document.addEventListener("htmx:afterSwap", refresh);
  window.setInterval(refresh, 20000);
})();
