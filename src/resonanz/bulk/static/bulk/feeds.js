// Copy buttons of the calendar feed page (progressive enhancement: the address stays selectable without JS).
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const input = document.getElementById(button.dataset.copy);
    const done = document.querySelector(`[data-copied="${button.dataset.copy}"]`);
    if (!input || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      await navigator.clipboard.writeText(input.value);
      if (done) done.hidden = false;
    });
    input.addEventListener("focus", () => input.select());
  }
});
