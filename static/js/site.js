// Progressive enhancement only: every page works without this file.

// The header's cart link shows how many items her cart holds (the bb_cart cookie the
// shop keeps; pages are shared by every reader, so the count is not in their HTML).
(function () {
  "use strict";
  var link = document.querySelector("[data-cart-link]");
  var match = document.cookie.match(/(?:^|; )bb_cart=(\d{1,4})(?:;|$)/);
  if (!link || !match || match[1] === "0") return;
  var count = parseInt(match[1], 10);
  link.querySelector("[data-cart-count]").textContent =
    " (" + count + (count === 1 ? " item)" : " items)");
})();

// The header's account link says "My account" on every page (pages are shared by all
// readers); a reader who is not signed in (no bb_account cookie) reads "Sign in".
(function () {
  "use strict";
  var link = document.querySelector("[data-account-link]");
  if (link && document.cookie.split("; ").indexOf("bb_account=1") === -1) {
    link.textContent = "Sign in";
  }
})();

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

// A "Print" button where a page offers one (a receipt): shown only when this runs.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-print]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
