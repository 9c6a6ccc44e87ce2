// Progressive enhancement for the post editor's image picker: without this file the
// Markdown of each image is shown to copy. With it, "Insert" puts the Markdown at the
// cursor in the post's body, on a line of its own.
(function () {
  "use strict";
  function insert(button) {
    var target = document.getElementById(button.getAttribute("data-target"));
    if (!target) return;
    var text = button.getAttribute("data-insert-markdown");
    var start = target.selectionStart, end = target.selectionEnd, value = target.value;
    if (typeof start !== "number") { start = end = value.length; }
    var before = value.slice(0, start), after = value.slice(end);
    var lead = before && !/\n\n$/.test(before) ? (/\n$/.test(before) ? "\n" : "\n\n") : "";
    var tail = after && !/^\n\n/.test(after) ? (/^\n/.test(after) ? "\n" : "\n\n") : "";
    target.value = before + lead + text + tail + after;
    var cursor = (before + lead + text).length;
    target.focus();
    target.setSelectionRange(cursor, cursor);
    target.dispatchEvent(new Event("input", { bubbles: true }));
  }
  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("[data-insert-markdown]");
    if (!buttons.length) return;
    document.querySelectorAll(".media-picker .js-only").forEach(function (el) { el.hidden = false; });
    buttons.forEach(function (button) {
      button.addEventListener("click", function () { insert(button); });
    });
  });
})();
