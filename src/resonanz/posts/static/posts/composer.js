/* The composer's behaviour on top of the server-rendered form (which works without it):
 * channel tabs, upload by drag and drop with progress, inline counters, CW state across previews,
 * and autosave coordination. No inline code anywhere (CSP script-src 'self'); htmx does the requests.
 */
(function () {
  "use strict";

  var form = document.getElementById("composer");
  if (!form) return;
  form.classList.add("js");

  // htmx copies "style" from old to new elements with the same id when it settles a swap; under the CSP
  // (style-src 'self') that is refused and logged, and a textarea the user resized would shrink back.
  if (window.htmx) window.htmx.config.attributesToSettle = ["class", "width", "height"];

  function format(template, values) {
    return String(template || "").replace(/%\((\w+)\)s/g, function (_m, key) {
      return key in values ? String(values[key]) : "";
    });
  }

  function changed(from) {
    (from || form).dispatchEvent(new CustomEvent("composer-changed", { bubbles: true }));
  }

  function selectedChannels() {
    var ids = [];
    form.querySelectorAll("input[name=channels]:checked").forEach(function (box) { ids.push(box.value); });
    return ids;
  }

  // -- tabs: "All channels" plus one per selected channel (WAI-ARIA tabs, automatic activation) ------
  var tablist = form.querySelector("[data-tablist]");
  var tabs = tablist ? Array.prototype.slice.call(tablist.querySelectorAll("[data-tab]")) : [];

  function panelOf(tab) { return document.getElementById(tab.getAttribute("aria-controls")); }

  function visibleTabs() { return tabs.filter(function (t) { return !t.hidden; }); }

  function activate(tab, focus) {
    tabs.forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      var panel = panelOf(t);
      if (panel) panel.hidden = !on;
    });
    if (focus) tab.focus();
  }

  function syncTabs() {
    var selected = selectedChannels();
    tabs.forEach(function (t) {
      var channel = t.getAttribute("data-channel");
      if (channel) t.hidden = selected.indexOf(channel) < 0;
    });
    var current = tabs.filter(function (t) { return t.getAttribute("aria-selected") === "true"; })[0];
    if (!current || current.hidden) activate(tabs[0], false);
  }

  if (tablist && tabs.length) {
    tablist.hidden = false;
    tabs.forEach(function (t) {
      var panel = panelOf(t);
      if (panel) {
        panel.setAttribute("role", "tabpanel");
        panel.setAttribute("aria-labelledby", t.id);
        panel.tabIndex = -1;
      }
      t.addEventListener("click", function () { activate(t, false); });
    });
    tablist.addEventListener("keydown", function (event) {
      var list = visibleTabs();
      var index = list.indexOf(document.activeElement);
      if (index < 0) return;
      var next = null;
      if (event.key === "ArrowRight") next = list[(index + 1) % list.length];
      else if (event.key === "ArrowLeft") next = list[(index - 1 + list.length) % list.length];
      else if (event.key === "Home") next = list[0];
      else if (event.key === "End") next = list[list.length - 1];
      if (next) {
        event.preventDefault();
        activate(next, true);
      }
    });
    activate(tabs[0], false);
    syncTabs();
    form.addEventListener("change", function (event) {
      if (event.target.name === "channels") syncTabs();
    });
  }

  // -- a channel's own text: shown when chosen; starts as a copy of the shared text -----------------
  function syncOverride(box) {
    var panel = box.closest("[data-panel]");
    if (!panel) return;
    var area = panel.querySelector("[data-override-text]");
    var tab = document.getElementById("tab-" + panel.getAttribute("data-channel"));
    if (area) area.hidden = !box.checked;
    if (tab) {
      var mark = tab.querySelector("[data-custom-mark]");
      if (mark) mark.hidden = !box.checked;
    }
    return area;
  }

  form.querySelectorAll("input[name$='_custom']").forEach(function (box) {
    syncOverride(box);
    box.addEventListener("change", function () {
      var area = syncOverride(box);
      if (!box.checked || !area || !window.htmx) return;
      var editor = area.querySelector("[data-parts-editor]");
      var texts = area.querySelectorAll("textarea");
      var empty = Array.prototype.every.call(texts, function (t) { return !t.value.trim(); });
      if (editor && empty) {
        var key = editor.getAttribute("data-parts-editor");
        window.htmx.ajax("POST", editor.querySelector("[hx-post]").getAttribute("hx-post"), {
          source: box, target: editor, swap: "outerHTML", values: { part_op: key + ":copy:1" }
        });
      }
    });
  });

  // -- the live check: an empty text is an error only once the user has typed in (or left) a text ----
  // field, or submitted; before that the check shows the counters and a neutral hint (the server reads
  // "check_touched", its check is the same either way).
  var touched = document.getElementById("check-touched");

  function isPartText(el) {
    return !!(el && el.tagName === "TEXTAREA" && el.closest && el.closest("[data-parts-editor]"));
  }

  function touch() {
    if (!touched || touched.value === "1") return false;
    touched.value = "1";
    return true;
  }

  form.addEventListener("input", function (event) { if (isPartText(event.target)) touch(); });
  form.addEventListener("focusout", function (event) {
    if (isPartText(event.target) && touch()) changed(event.target);
  });
  form.addEventListener("submit", function () { touch(); }, true);

  // -- after the thread builder swapped an editor in: check again ------------------------------------
  document.body.addEventListener("htmx:load", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.matches && elt.matches("[data-parts-editor]")) changed(elt);
  });

  // -- inline counters under each part, copied from the check (the server's numbers) -----------------
  var bytesLabel = form.getAttribute("data-msg-bytes") || "bytes";

  function fillCounters() {
    var lines = {};
    document.querySelectorAll("#composer-check .check-channel").forEach(function (row) {
      var scope = row.getAttribute("data-scope");
      var name = row.getAttribute("data-network-name");
      row.querySelectorAll("li[data-part]").forEach(function (li) {
        var key = scope + "-" + li.getAttribute("data-part");
        var text = name + " " + li.getAttribute("data-count") + "/" + li.getAttribute("data-limit");
        if (li.hasAttribute("data-bytes")) {
          text += " (" + li.getAttribute("data-bytes") + "/" + li.getAttribute("data-byte-limit") + " " + bytesLabel + ")";
        }
        (lines[key] = lines[key] || []).push({ text: text, over: li.hasAttribute("data-over") });
      });
    });
    form.querySelectorAll("[data-counter]").forEach(function (p) {
      var items = lines[p.getAttribute("data-counter")] || [];
      p.textContent = "";
      items.forEach(function (item, i) {
        if (i) p.appendChild(document.createTextNode(" · "));
        var span = document.createElement("span");
        span.textContent = item.text;
        if (item.over) span.className = "is-over-inline";
        p.appendChild(span);
      });
    });
  }

  // -- previews: keep an opened content warning open when the preview is re-rendered -------------------
  var openWarnings = {};
  document.body.addEventListener("toggle", function (event) {
    var d = event.target;
    if (d && d.matches && d.matches("details[data-cw]")) openWarnings[d.getAttribute("data-cw")] = d.open;
    if (d && d.matches && d.matches("details[data-fold]")) openWarnings["fold-" + d.getAttribute("data-fold")] = d.open;
  }, true);

  // -- previews: an avatar that does not load (a network's picture addresses expire) shows the initials --
  document.addEventListener("error", function (event) {
    var img = event.target;
    if (img && img.tagName === "IMG" && img.closest && img.closest(".pv-avatar")) img.hidden = true;
  }, true);

  // -- previews: a carousel moves one picture per arrow press; the dots and "2/5" follow the scrolling --
  function carouselState(slides) {
    var carousel = slides.closest("[data-carousel]");
    var count = slides.children.length;
    var index = slides.clientWidth ? Math.round(slides.scrollLeft / slides.clientWidth) : 0;
    index = Math.max(0, Math.min(count - 1, index));
    carousel.querySelectorAll(".pv-dots li").forEach(function (dot, i) { dot.classList.toggle("is-current", i === index); });
    var counter = carousel.querySelector("[data-carousel-counter]");
    if (counter) counter.textContent = (index + 1) + "/" + count;
    var prev = carousel.querySelector("[data-carousel-step='-1']");
    var next = carousel.querySelector("[data-carousel-step='1']");
    if (prev) prev.disabled = index === 0;
    if (next) next.disabled = index === count - 1;
  }

  document.body.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-carousel-step]");
    if (!button) return;
    var slides = button.closest("[data-carousel]").querySelector("[data-slides]");
    var step = parseInt(button.getAttribute("data-carousel-step"), 10) || 0;
    slides.scrollTo({ left: slides.scrollLeft + step * slides.clientWidth, behavior: "instant" });
    carouselState(slides);
  });
  document.body.addEventListener("scroll", function (event) {
    var slides = event.target;
    if (slides && slides.matches && slides.matches("[data-slides]")) carouselState(slides);
  }, true);

  // -- a post the check refuses (over a limit, or any other problem) cannot be scheduled, queued or
  // published from here: the server would refuse it anyway (issue 8). "Save draft" stays.
  function updateBlocked(check) {
    var blocked = !!check.querySelector(".check-channel.has-issues, [data-over]");
    ["schedule", "add-to-queue", "publish-now"].forEach(function (id) {
      var button = document.getElementById(id);
      if (button) button.disabled = blocked;
    });
    var hint = document.getElementById("blocked-hint");
    if (hint) hint.hidden = !blocked;
  }

  document.body.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "composer-check") {
      fillCounters();
      updateBlocked(target);
    }
    document.querySelectorAll("#composer-preview details[data-cw]").forEach(function (d) {
      if (openWarnings[d.getAttribute("data-cw")]) d.open = true;
    });
    document.querySelectorAll("#composer-preview details[data-fold]").forEach(function (d) {
      if (openWarnings["fold-" + d.getAttribute("data-fold")]) d.open = true;
    });
  });

  // -- autosave: never while the form is being submitted; a submit waits for a running autosave -------
  var autosave = document.getElementById("autosave-status");
  var autosaveRunning = false;
  var submitting = false;
  var pendingSubmitter = null;
  if (autosave && autosave.hasAttribute("hx-post")) {
    autosave.addEventListener("htmx:beforeRequest", function (event) {
      if (submitting) { event.preventDefault(); return; }
      autosaveRunning = true;
    });
    autosave.addEventListener("htmx:afterRequest", function () {
      autosaveRunning = false;
      if (pendingSubmitter !== null) {
        var submitter = pendingSubmitter;
        pendingSubmitter = null;
        window.setTimeout(function () {
          if (submitter && submitter.form === form) form.requestSubmit(submitter); else form.requestSubmit();
        }, 0);
      }
    });
  }
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter || null;
    if (submitter && submitter.name === "part_op") return; // handled by htmx
    if (autosaveRunning) {
      event.preventDefault();
      pendingSubmitter = submitter || false;
      return;
    }
    submitting = true;
  });

  // -- media: drag and drop, checks against the selected channels, upload with progress ---------------
  var list = form.querySelector("[data-media-list]");
  var dropzone = form.querySelector("[data-dropzone]");
  var input = form.querySelector("input[type=file][name=image]");
  var uploads = document.getElementById("upload-list");
  var maxMedia = parseInt(form.getAttribute("data-max-media"), 10) || 4;
  var maxUpload = parseInt(form.getAttribute("data-max-upload"), 10) || 0;
  var uploadTypes = (form.getAttribute("data-upload-types") || "").split(" ");
  var running = 0;

  function limits() {
    var selected = selectedChannels();
    var out = [];
    document.querySelectorAll("#channel-limits li").forEach(function (li) {
      if (selected.indexOf(li.getAttribute("data-channel")) >= 0) out.push(li);
    });
    return out;
  }

  // Sizes in the page's language: "29,3 MB" in German, "29.3 MB" in English (at most one decimal).
  var SIZE_NUMBER = new Intl.NumberFormat(document.documentElement.lang || undefined, { maximumFractionDigits: 1 });

  function humanSize(bytes) {
    if (bytes >= 1024 * 1024) return SIZE_NUMBER.format(bytes / (1024 * 1024)) + " MB";
    if (bytes >= 1024) return SIZE_NUMBER.format(Math.round(bytes / 1024)) + " KB";
    return SIZE_NUMBER.format(bytes) + " B";
  }

  // A network's limit given in decimal megabytes (1,000,000 bytes), e.g. "1 MB".
  function decimalSize(bytes) {
    return bytes >= 1000000 ? SIZE_NUMBER.format(bytes / 1000000) + " MB" : humanSize(bytes);
  }

  // Some systems report no type for a file; the extension then tells (the server checks the content).
  var EXTENSION_TYPES = { jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", gif: "image/gif",
                          webp: "image/webp", mp4: "video/mp4" };

  function fileType(file) {
    if (file.type) return file.type.toLowerCase();
    var match = /\.([a-z0-9]+)$/i.exec(file.name || "");
    return match ? EXTENSION_TYPES[match[1].toLowerCase()] || "" : "";
  }

  function check(file) {
    var errors = [];
    var warnings = [];
    var type = fileType(file);
    if (uploadTypes.indexOf(type) < 0) {
      errors.push(format(form.getAttribute("data-msg-type-any"), { name: file.name }));
      return { errors: errors, warnings: warnings };
    }
    if (maxUpload && file.size > maxUpload) {
      errors.push(format(form.getAttribute("data-msg-size"), { name: file.name, channels: "Resonanz", limit: humanSize(maxUpload) }));
    }
    var wrongType = [];
    var tooBig = [];
    var smallest = 0;
    limits().forEach(function (li) {
      var accept = (li.getAttribute("data-accept") || "").split(" ");
      var label = li.getAttribute("data-label");
      if (accept.indexOf(type) < 0) { wrongType.push(label); return; }
      var max = parseInt(li.getAttribute(type.indexOf("video/") === 0 ? "data-video-max" : "data-image-max"), 10) || 0;
      if (max && file.size > max) {
        tooBig.push(label);
        smallest = smallest ? Math.min(smallest, max) : max;
      }
      var recompress = parseInt(li.getAttribute("data-recompress-over"), 10) || 0;
      if (recompress && file.size > recompress && type.indexOf("image/") === 0) {
        warnings.push(format(form.getAttribute("data-msg-recompress"), { name: file.name, channels: label, limit: decimalSize(recompress) }));
      }
    });
    if (wrongType.length) errors.push(format(form.getAttribute("data-msg-type"), { name: file.name, channels: wrongType.join(", ") }));
    if (tooBig.length) errors.push(format(form.getAttribute("data-msg-size"), { name: file.name, channels: tooBig.join(", "), limit: humanSize(smallest) }));
    return { errors: errors, warnings: warnings };
  }

  function statusRow(file) {
    var li = document.createElement("li");
    li.className = "upload-row";
    var name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name + " (" + humanSize(file.size) + ")";
    li.appendChild(name);
    uploads.appendChild(li);
    return li;
  }

  function message(li, text, kind) {
    var p = document.createElement("p");
    p.className = kind === "error" ? "error-text" : "warn-text";
    if (kind === "error") p.setAttribute("role", "alert");
    p.textContent = text;
    li.appendChild(p);
  }

  function csrfToken() {
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function upload(file) {
    var li = statusRow(file);
    var verdict = check(file);
    verdict.warnings.forEach(function (w) { message(li, w, "warning"); });
    if (verdict.errors.length) {
      verdict.errors.forEach(function (e) { message(li, e, "error"); });
      li.classList.add("is-error");
      return;
    }
    var progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute("aria-label", format(form.getAttribute("data-msg-uploading"), { name: file.name }));
    li.insertBefore(progress, li.children[1] || null);
    running += 1;
    var data = new FormData();
    data.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("data-upload-url"));
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) progress.value = Math.round((event.loaded / event.total) * 100);
    });
    xhr.addEventListener("load", function () {
      running -= 1;
      if (xhr.status === 201) {
        progress.value = 100;
        var holder = document.createElement("template");
        holder.innerHTML = xhr.responseText.trim();  // server-rendered, escaped partial
        var item = holder.content.firstElementChild;
        if (item) {
          list.appendChild(item);
          wireItem(item);
          var alt = item.querySelector("[data-alt]");
          if (alt) alt.focus();
        }
        if (!li.querySelector(".warn-text")) li.remove(); else progress.remove();
        changed(list);
      } else {
        progress.remove();
        li.classList.add("is-error");
        var holder2 = document.createElement("template");
        holder2.innerHTML = xhr.status === 400 ? xhr.responseText : "";
        var text = holder2.content.textContent.trim() || form.getAttribute("data-msg-failed");
        message(li, text, "error");
      }
    });
    xhr.addEventListener("error", function () {
      running -= 1;
      progress.remove();
      li.classList.add("is-error");
      message(li, form.getAttribute("data-msg-failed"), "error");
    });
    xhr.send(data);
  }

  function handleFiles(files) {
    uploads.querySelectorAll(".upload-row.is-error").forEach(function (row) { row.remove(); });
    Array.prototype.forEach.call(files, function (file) {
      var attached = list.querySelectorAll("[data-media-item]").length;
      if (attached + running >= maxMedia) {
        var li = statusRow(file);
        li.classList.add("is-error");
        message(li, format(form.getAttribute("data-msg-count"), { limit: maxMedia }), "error");
        return;
      }
      upload(file);
    });
  }

  function wireItem(item) {
    var alt = item.querySelector("[data-alt]");
    var warning = item.querySelector("[data-alt-warning]");
    if (alt && warning) {
      alt.addEventListener("input", function () { warning.hidden = !!alt.value.trim(); });
    }
    var remove = item.querySelector("[data-remove-media]");
    if (remove) {
      remove.addEventListener("click", function () {
        var next = item.nextElementSibling || item.previousElementSibling;
        item.remove();
        if (next) {
          var focusable = next.querySelector("[data-remove-media]");
          if (focusable) focusable.focus();
        } else if (input) {
          var chooser = form.querySelector(".choose-files");
          if (chooser) chooser.focus();
        }
        changed(list);
      });
    }
  }

  if (list && dropzone && input && uploads) {
    input.multiple = true;
    list.querySelectorAll("[data-media-item]").forEach(wireItem);
    input.addEventListener("change", function () {
      if (input.files && input.files.length) handleFiles(input.files);
      input.value = "";  // the files went by XMLHttpRequest; the form must not send them again
    });
    ["dragenter", "dragover"].forEach(function (name) {
      dropzone.addEventListener(name, function (event) {
        event.preventDefault();
        dropzone.classList.add("is-dragging");
      });
    });
    ["dragleave", "dragend"].forEach(function (name) {
      dropzone.addEventListener(name, function () { dropzone.classList.remove("is-dragging"); });
    });
    dropzone.addEventListener("drop", function (event) {
      event.preventDefault();
      dropzone.classList.remove("is-dragging");
      var files = event.dataTransfer && event.dataTransfer.files;
      if (files && files.length) handleFiles(files);
    });
  }
})();
