/* Asks before staff leave an editor with changes not yet saved (progressive enhancement:
   without it the form works as before). A form opts in with ``data-unsaved-warning``;
   its values as the page opened are compared with its values as she leaves. Sending the
   form itself asks nothing. A form sent back with errors holds text not yet saved, so
   ``data-unsaved-warning="unsaved"`` makes it count as changed from the start. */
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-unsaved-warning]");
  if (!forms.length || !window.FormData) return;

  function values(form) {
    var parts = [];
    new FormData(form).forEach(function (value, name) {
      if (name === "csrf_token") return;
      parts.push(name + "=" + (typeof value === "string" ? value : value.name));
    });
    return parts.join("\u0000");
  }

  var sending = false;
  var opened = Array.prototype.map.call(forms, function (form) {
    form.addEventListener("submit", function () { sending = true; });
    return form.dataset.unsavedWarning === "unsaved" ? null : values(form);
  });

  function changed() {
    return Array.prototype.some.call(forms, function (form, i) {
      return opened[i] === null || values(form) !== opened[i];
    });
  }

  window.addEventListener("beforeunload", function (event) {
    if (sending || !changed()) return;
    // The browser shows its own words ("Leave site? Changes you made may not be saved").
    event.preventDefault();
    event.returnValue = "";
  });

  // Back from the next page (the browser's page cache): she is on the form again.
  window.addEventListener("pageshow", function () { sending = false; });
})();
