// Progressive enhancement only: every page works without this file.
// Remember the reader's time zone so dates and consultation times show in it.
(function () {
  "use strict";
  if (document.cookie.split("; ").some(function (c) { return c.indexOf("tz=") === 0; })) return;
  var done = false;

  // The first Intl call loads the browser's time zone data: 15 to 60 ms of main-thread
  // work on a slow phone. The cookie only matters for the next page, so this waits for
  // idle time after load, or for the reader's first tap or key (before a link is followed).
  function rememberZone() {
    if (done) return;
    done = true;
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone) {
        document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
      }
    } catch (e) { /* an old browser: the zone selector still works */ }
  }

  ["pointerdown", "keydown"].forEach(function (type) {
    document.addEventListener(type, rememberZone, { once: true, passive: true, capture: true });
  });
  window.addEventListener("load", function () {
    setTimeout(function () {
      if (window.requestIdleCallback) {
        window.requestIdleCallback(rememberZone, { timeout: 2000 });
      } else {
        rememberZone();
      }
    }, 3000);
  });
})();
