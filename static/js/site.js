// Progressive enhancement only: every page works without this file.
// Remember the reader's time zone so dates and consultation times show in it.
(function () {
  "use strict";
  try {
    if (document.cookie.split("; ").some(function (c) { return c.indexOf("tz=") === 0; })) return;
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) {
      document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* an old browser: the zone selector still works */ }
})();
