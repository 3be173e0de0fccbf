/* Calendar drag and drop: move a scheduled post to another day (month view: same time of day) or hour
 * (week view: that hour, same minutes). The drop POSTs to the move endpoint with htmx, which sends the
 * CSRF header from the body's hx-headers and swaps in the re-rendered calendar (with any error message).
 * Listeners sit on the document, so they keep working after htmx replaces #calendar-body.
 * Without JS (or without a mouse) the list view's "Move" links and the post page do the same. */
(function () {
  "use strict";

  var dragged = null;

  function closest(node, selector) {
    return node && node.closest ? node.closest(selector) : null;
  }

  function pad(value) {
    return ("0" + value).slice(-2);
  }

  function clearTargets() {
    document.querySelectorAll(".is-drop-target").forEach(function (el) {
      el.classList.remove("is-drop-target");
    });
  }

  function dropTarget(event) {
    if (!dragged) return null;
    return closest(event.target, "#calendar-body [data-drop-date]");
  }

  /* The new wall-clock time: the cell's date, the entry's time (week view: the cell's hour). */
  function localFor(cell, entry) {
    var time = entry.dataset.time;
    if (cell.dataset.dropHour !== undefined) {
      time = pad(cell.dataset.dropHour) + ":" + time.slice(3, 5);
    }
    return cell.dataset.dropDate + "T" + time;
  }

  document.addEventListener("dragstart", function (event) {
    var entry = closest(event.target, ".cal-entry[draggable='true']");
    if (!entry) return;
    dragged = entry;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", entry.dataset.post);
    entry.classList.add("is-dragging");
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
    clearTargets();
  });

  document.addEventListener("dragover", function (event) {
    var cell = dropTarget(event);
    if (!cell) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!cell.classList.contains("is-drop-target")) {
      clearTargets();
      cell.classList.add("is-drop-target");
    }
  });

  document.addEventListener("dragleave", function (event) {
    var cell = dropTarget(event);
    if (cell && !cell.contains(event.relatedTarget)) cell.classList.remove("is-drop-target");
  });

  document.addEventListener("drop", function (event) {
    var cell = dropTarget(event);
    if (!cell) return;
    event.preventDefault();
    var entry = dragged;
    var local = localFor(cell, entry);
    dragged = null;
    clearTargets();
    entry.classList.remove("is-dragging");
    if (local === entry.dataset.date + "T" + entry.dataset.time) return; // dropped where it was
    var body = document.getElementById("calendar-body");
    body.classList.add("is-moving");
    window.htmx.ajax("POST", body.dataset.moveUrl, {
      source: body, // inherits hx-headers (CSRF) from <body>
      target: body,
      swap: "outerHTML",
      values: { post: entry.dataset.post, local: local },
    }).finally(function () {
      var current = document.getElementById("calendar-body");
      if (current) current.classList.remove("is-moving");
    });
  });
})();
