// Progressive enhancement for the full list of time zones: the list narrows to the
// places that match as she types in the search box, as the Search button does on the
// server without JavaScript (booking.display.search_zone_groups: the same rules).
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var input = document.getElementById("zone-search");
  var select = document.getElementById("tz-select");
  var status = document.getElementById("zone-count");
  if (!input || !select || !status) return;

  function words(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .split(/[^a-z0-9]+/).filter(Boolean);
  }

  // Every place once, as the page first listed it (a search on the server may have
  // listed fewer: then the whole list is not here, and the Search button fetches it).
  var places = [];
  Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
    Array.prototype.forEach.call(group.querySelectorAll("option"), function (option) {
      places.push({
        option: option,
        group: group,
        known: words(option.textContent + " " + group.label + " " + (option.getAttribute("data-k") || "")),
        // The places it is the usual zone of ("australia|new south wales"), and whether
        // it is a common one: the best match is listed, and chosen, first.
        usual: (option.getAttribute("data-m") || "").split("|").filter(Boolean),
        common: option.hasAttribute("data-c"),
      });
    });
  });
  var groups = Array.prototype.slice.call(select.querySelectorAll("optgroup"));
  // Her zone as the page opened: chosen again whenever the search no longer narrows the
  // list, so clearing the box never leaves a place she did not choose ready to use.
  var chosen = select.options[select.selectedIndex] || null;

  function showEverything() {
    show(places);
    select.removeAttribute("size");
    if (chosen) chosen.selected = true;
  }
  var wholeList = !new URLSearchParams(window.location.search).get("q");
  var timer = null;

  function matches(typed, place, whole) {
    return typed.every(function (w) {
      return place.known.some(function (k) { return whole ? k === w : k.indexOf(w) === 0; });
    });
  }

  // As booking.display._rank: the usual zone of the place she named, then the common
  // zones, then the rest, each in the list's order.
  function rank(typed, place, whole) {
    var phrase = typed.join(" ");
    var usual = place.usual.some(function (name) {
      return whole ? name === phrase : name.indexOf(phrase) === 0;
    });
    return usual ? 0 : (place.common ? 1 : 2);
  }

  function ranked(typed, found, whole) {
    return found
      .map(function (place, i) { return { place: place, rank: rank(typed, place, whole), i: i }; })
      .sort(function (a, b) { return a.rank - b.rank || a.i - b.i; })
      .map(function (entry) { return entry.place; });
  }

  function show(found) {
    groups.forEach(function (group) { group.textContent = ""; });
    select.textContent = "";
    found.forEach(function (place) {
      if (!place.group.parentNode) select.appendChild(place.group);
      place.group.appendChild(place.option);
    });
  }

  function filter() {
    var typed = words(input.value);
    if (!typed.length) {
      showEverything();
      status.textContent = "";
      return;
    }
    var whole = true;
    var found = places.filter(function (p) { return matches(typed, p, true); });
    if (!found.length) {
      whole = false;
      found = places.filter(function (p) { return matches(typed, p, false); });
    }
    if (!found.length) {
      showEverything();
      status.textContent = "No place matches \u201c" + input.value.trim() +
        "\u201d. The list shows every place: try a nearby large city, or your country.";
      return;
    }
    found = ranked(typed, found, whole);
    show(found);
    // The matches stay in view as a short list; the first is chosen, ready to use.
    var shown = select.querySelectorAll("optgroup").length;
    if (found.length > 1) select.size = Math.min(found.length + shown, 8);
    else select.removeAttribute("size");
    found[0].option.selected = true;
    status.textContent = found.length + (found.length === 1 ? " place matches" : " places match") +
      " \u201c" + input.value.trim() + "\u201d. " +
      (found.length === 1 ? "It is chosen below" : "The first is chosen below") +
      ": press Use this time zone.";
  }

  if (!wholeList) return;  // a server search's page: the Search button stays the way
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(filter, 250);  // announce once she pauses, not at every key
  });
  input.form.addEventListener("submit", function (event) {
    // Enter or the Search button filters here instead of loading the page again.
    event.preventDefault();
    clearTimeout(timer);
    filter();
  });
});
