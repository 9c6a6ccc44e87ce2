/* The post editor's autosave (progressive enhancement: without it the editor works as a
   plain form). Every 30 seconds, when the fields changed, they are posted to the site
   with the form's own CSRF token; as she types they are also kept in this browser's
   localStorage. If her session has ended the site answers 401 (after keeping the text),
   and the page tells her she is signed out and that her text is kept. */
(function () {
  "use strict";
  var form = document.querySelector("form.post-editor[data-autosave-url]");
  if (!form || !window.fetch || !window.FormData || !window.JSON) return;

  var key = "better-bones:post-editor:" + form.dataset.autosaveSlot;
  var seconds = Number(form.dataset.autosaveSeconds) || 30;
  var status = document.getElementById("autosave-status");
  var signedOutBox = document.getElementById("autosave-signed-out");
  var localBox = document.getElementById("autosave-local");
  var signedOut = false;
  var saving = false; // one save at a time: a slow answer never lands after a newer one

  function fields() {
    var data = {};
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token" && name !== "action" && typeof value === "string") {
        data[name] = value;
      }
    });
    return data;
  }

  function store(value) {
    try {
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, JSON.stringify(value));
    } catch (error) { /* private mode or full: the server copy remains */ }
  }

  function stored() {
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); }
    catch (error) { return null; }
  }

  function say(text) { if (status) status.textContent = text; }

  function clock(date) {
    return date.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  }

  var lastSent = JSON.stringify(fields());

  function showSignedOut() {
    signedOut = true;
    say("");
    if (signedOutBox) {
      signedOutBox.hidden = false;
      signedOutBox.focus();
    }
  }

  function save() {
    if (signedOut || saving) return;
    var current = JSON.stringify(fields());
    if (current === lastSent) return; // nothing typed: an idle editor keeps no one signed in
    var body = new FormData(form);
    body.delete("action");
    saving = true;
    window.fetch(form.dataset.autosaveUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("json") !== -1;
      // 401: signed out (the site kept this text). A 400 page without JSON: the
      // session is gone altogether (its CSRF token with it); the browser's copy remains.
      if (response.status === 401 || (response.status === 400 && !json)) {
        showSignedOut();
        return null;
      }
      if (!response.ok || !json) throw new Error("autosave failed");
      return response.json();
    }).then(function (data) {
      if (!data) return;
      lastSent = current;
      say("Draft autosaved at " + data.saved_at_text + ".");
    }).catch(function () {
      say("Could not autosave just now; your text is kept in this browser. We will try again.");
    }).then(function () {
      saving = false;
    });
  }

  form.addEventListener("input", function () {
    store({ fields: fields(), savedAt: new Date().toISOString() });
  });
  form.addEventListener("submit", function () {
    // Sent: the site saves it (or keeps it if her session ended). Signed out, keep ours.
    if (!signedOut) store(null);
  });
  window.setInterval(save, seconds * 1000);

  // Text this browser kept that the page does not show (typed after the last save).
  var kept = stored();
  if (kept && kept.fields) {
    var savedAt = form.dataset.savedAt ? new Date(form.dataset.savedAt) : null;
    var keptAt = new Date(kept.savedAt);
    var differs = JSON.stringify(kept.fields) !== JSON.stringify(fields());
    if (!differs || (savedAt && keptAt <= savedAt)) {
      store(null);
    } else if (localBox) {
      document.getElementById("autosave-local-text").textContent =
        "This browser kept unsaved text of this post from " + clock(keptAt) + ".";
      var restore = document.getElementById("autosave-local-restore");
      restore.textContent = "Restore your unsaved text from " + clock(keptAt);
      localBox.hidden = false;
      restore.addEventListener("click", function () {
        Object.keys(kept.fields).forEach(function (name) {
          var control = form.elements.namedItem(name);
          if (control && "value" in control) control.value = kept.fields[name];
        });
        localBox.hidden = true;
        say("Restored your unsaved text from " + clock(keptAt) + ". It is not saved yet.");
        form.querySelector("input, textarea").focus();
      });
      document.getElementById("autosave-local-discard").addEventListener("click", function () {
        store(null);
        localBox.hidden = true;
      });
    }
  }
})();
