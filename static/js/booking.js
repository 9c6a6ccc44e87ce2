// Progressive enhancement for consultation times: on a first visit the server has not
// seen the browser's zone yet (site.js has just stored it in the `tz` cookie), so show
// the page once more in her own zone. Without JavaScript the zone selector does this.
// Runs on DOMContentLoaded, after every deferred script (site.js sets the cookie).
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var marker = document.querySelector("[data-zone-shown]");
  if (!marker || marker.getAttribute("data-zone-from-cookie") === "1") return;
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var stored = document.cookie.split("; ").some(function (c) { return c === "tz=" + zone; });
    if (zone && stored && zone !== marker.getAttribute("data-zone-shown")) {
      window.location.reload();
    }
  } catch (e) { /* keep the page as it is */ }
});
