// Progressive enhancement for consultation times: on a first visit the server has not
// seen the browser's zone yet, so store it in the `tz` cookie (as site.js would a little
// later) and show the page once more in her own zone. Without JavaScript the zone
// selector does this.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var marker = document.querySelector("[data-zone-shown]");
  if (!marker || marker.getAttribute("data-zone-from-cookie") === "1") return;
  var hasCookie = document.cookie.split("; ").some(function (c) { return c.indexOf("tz=") === 0; });
  if (hasCookie) return;  // the server already knew (or refused) her zone: never loop
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone) return;
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
    if (zone !== marker.getAttribute("data-zone-shown")) {
      window.location.reload();
    }
  } catch (e) { /* keep the page as it is */ }
});
