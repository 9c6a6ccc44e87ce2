"""How the lists of free times read, and the zone selector's choices.

A single moment (a booking's time, a deadline) is written by ``core.timezones.format_when``
(the ``when`` filter) everywhere: pages, emails, subject lines, the calendar entry, admin.
"""

import re
import unicodedata
from datetime import UTC, date, timedelta
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from blueprints.booking.zone_places import STATES_AND_PROVINCES
from blueprints.core.timezones import (
    MONTHS,
    WEEKDAYS,
    ZONE_NAMES,
    all_zone_names,
    format_time,
    practitioner_zone,
    usual_country_zones,
    zone_countries,
)


def _zone(zone):
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def day_label(value, zone):
    """``Tuesday 3 March`` in ``zone``: a day heading of the list of free times."""
    local = value.astimezone(_zone(zone))
    return f"{WEEKDAYS[local.weekday()]} {local.day} {MONTHS[local.month]}"


def slot_value(starts_at):
    """A time as the booking form and its links carry it: ``2026-03-03T14:00:00Z``."""
    # The first 19 characters of isoformat() are the date and time to the second.
    return starts_at.astimezone(UTC).isoformat()[:19] + "Z"


class SlotTime(NamedTuple):
    value: str  # slot_value(): what the link or the form sends
    time: str  # ``9:00 am`` on the reader's clock
    home_time: str  # ``2:00 pm`` on Dr. Brown's clock; empty when she reads in that zone


def slot_days(slots, zone):
    """Sorted UTC ``slots`` as the page lists them: ``[(day label, [SlotTime, ...])]``,
    one entry per day of the reader's calendar that has a free time.

    Everything a page prints per time is worked out here in one pass, so a month of
    times stays a plain loop in the template. Free times fall on a few wall-clock times
    of day, so each clock reading is formatted once."""
    home = practitioner_zone()
    show_home = zone.key != home.key
    clocks = {}

    def clock(local):
        key = (local.hour, local.minute)
        if key not in clocks:
            clocks[key] = format_time(local, local.tzinfo)
        return clocks[key]

    days = []
    current_date = None
    for slot in slots:
        local = slot.astimezone(zone)
        if local.date() != current_date:
            current_date = local.date()
            times = []
            days.append((day_label(local, zone), times))
        home_time = clock(slot.astimezone(home)) if show_home else ""
        times.append(SlotTime(slot_value(slot), clock(local), home_time))
    return days


# The zone selector offers the zones most of Dr. Brown's clients live in, in plain
# words; the full list of a few hundred has its own page. The reader's zone is always
# offered (routes add it when it is not one of these).
COMMON_ZONES = (
    (
        "United States",
        (
            ("America/New_York", "Eastern Time (New York)"),
            ("America/Chicago", "Central Time (Chicago)"),
            ("America/Denver", "Mountain Time (Denver)"),
            ("America/Phoenix", "Arizona (Phoenix)"),
            ("America/Los_Angeles", "Pacific Time (Los Angeles)"),
            ("America/Anchorage", "Alaska (Anchorage)"),
            ("Pacific/Honolulu", "Hawaii (Honolulu)"),
        ),
    ),
    (
        "Canada",
        (
            ("America/St_Johns", "Newfoundland (St. John's)"),
            ("America/Halifax", "Atlantic Time (Halifax)"),
            ("America/Toronto", "Eastern Time (Toronto)"),
            ("America/Winnipeg", "Central Time (Winnipeg)"),
            ("America/Regina", "Saskatchewan (Regina)"),
            ("America/Edmonton", "Mountain Time (Edmonton)"),
            ("America/Vancouver", "Pacific Time (Vancouver)"),
        ),
    ),
    (
        "Mexico, Central and South America",
        (
            ("America/Mexico_City", "Mexico City"),
            ("America/Bogota", "Bogota"),
            ("America/Sao_Paulo", "Sao Paulo"),
            ("America/Argentina/Buenos_Aires", "Buenos Aires"),
        ),
    ),
    (
        "Europe",
        (
            ("Europe/London", "London"),
            ("Europe/Dublin", "Dublin"),
            ("Europe/Lisbon", "Lisbon"),
            ("Europe/Paris", "Paris"),
            ("Europe/Berlin", "Berlin"),
            ("Europe/Madrid", "Madrid"),
            ("Europe/Rome", "Rome"),
            ("Europe/Amsterdam", "Amsterdam"),
            ("Europe/Zurich", "Zurich"),
            ("Europe/Stockholm", "Stockholm"),
            ("Europe/Athens", "Athens"),
        ),
    ),
    (
        "Africa, Asia and the Middle East",
        (
            ("Africa/Johannesburg", "Johannesburg"),
            ("Asia/Jerusalem", "Jerusalem"),
            ("Asia/Dubai", "Dubai"),
            ("Asia/Kolkata", "India (Kolkata)"),
            ("Asia/Singapore", "Singapore"),
            ("Asia/Hong_Kong", "Hong Kong"),
            ("Asia/Tokyo", "Tokyo"),
        ),
    ),
    (
        "Australia and New Zealand",
        (
            ("Australia/Perth", "Perth"),
            ("Australia/Adelaide", "Adelaide"),
            ("Australia/Brisbane", "Brisbane"),
            ("Australia/Sydney", "Sydney"),
            ("Australia/Melbourne", "Melbourne"),
            ("Pacific/Auckland", "Auckland"),
        ),
    ),
)
COMMON_ZONE_NAMES = frozenset(name for _group, zones in COMMON_ZONES for name, _label in zones)


def zone_label(name):
    """``Buenos Aires (Argentina)``, ``London``: a zone as the lists name it, by its city
    (its region is the list's group heading), never by its id."""
    region, _, rest = name.partition("/")
    *within, city = rest.split("/")
    city = city.replace("_", " ")
    return f"{city} ({', '.join(p.replace('_', ' ') for p in within)})" if within else city


def search_words(text):
    """``text`` as the zone search compares it: lower case, without accents or
    punctuation (``São Paulo`` and ``sao-paulo`` read ``sao paulo``). static/js/zones.js
    folds what she types the same way."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.split(r"[^a-z0-9]+", text.lower())).strip()


def _places_of_zones():
    """``{zone: [state or province, ...]}``: the places whose clock each zone keeps."""
    places = {}
    for place, zones in STATES_AND_PROVINCES:
        for zone in zones:
            places.setdefault(zone, []).append(place)
    return places


def _usual_zones():
    """``{zone: [place, ...]}``: the countries, states and provinces each zone is the
    usual one of (Sydney for Australia; New York for Florida, not Chicago)."""
    usual = {}
    for zone, country in usual_country_zones().items():
        usual.setdefault(zone, []).append(country)
    for place, zones in STATES_AND_PROVINCES:
        usual.setdefault(zones[0], []).append(place)
    return usual


def _zone_keywords(name, label, places=()):
    """What else finds ``name`` besides its label and region: its country, the states
    or provinces that keep its clock, and the name people give its clock (``india``;
    ``florida``; ``eastern time new york``), as search words."""
    common = {zone: text for _group, zones in COMMON_ZONES for zone, text in zones}
    extra = " ".join(
        part
        for part in (zone_countries().get(name), *places, ZONE_NAMES.get(name), common.get(name))
        if part and part != label
    )
    words = search_words(extra).split()
    shown = set(search_words(label).split())
    return " ".join(dict.fromkeys(w for w in words if w not in shown))


class ZoneChoice(NamedTuple):
    name: str  # the IANA id: the option's value, never shown
    label: str  # ``Buenos Aires (Argentina)``
    keywords: str  # ``argentina``: for the search, in the option's data-k
    # The places it is the usual zone of, as search words, "|" between them
    # (``australia|new south wales``): a search for one of them lists it first (data-m).
    usual_for: str = ""
    common: bool = False  # one of COMMON_ZONES: listed next (data-c)


def _all_zone_groups():
    groups = {}
    places, usual = _places_of_zones(), _usual_zones()
    for name in all_zone_names():
        label = zone_label(name)
        groups.setdefault(name.partition("/")[0], []).append(
            ZoneChoice(
                name,
                label,
                _zone_keywords(name, label, places.get(name, ())),
                "|".join(dict.fromkeys(search_words(p) for p in usual.get(name, ()))),
                name in COMMON_ZONE_NAMES,
            )
        )
    return tuple((region, tuple(zones)) for region, zones in groups.items())


# The full list by region, worked out once per process: its page is a plain loop.
ALL_ZONE_GROUPS = _all_zone_groups()


@cache
def _place_words(zone, region):
    """The words that find ``zone`` (its label's, its region's, its keywords), worked
    out once per process for the full list's few hundred places."""
    return tuple(f"{search_words(zone.label)} {search_words(region)} {zone.keywords}".split())


def _matches(words, zone, region, whole):
    # Each word she typed is (``whole``), or begins (``kolk``), a word of the place's.
    known = _place_words(zone, region)
    if whole:
        return all(w in known for w in words)
    return all(any(k.startswith(w) for k in known) for w in words)


def _rank(words, zone, whole):
    """Where a match is listed: first the usual zone of the place she named (``australia``
    is Sydney; ``florida`` is New York), then the common zones, then the rest, each in the
    list's order."""
    typed = " ".join(words)
    for place in zone.usual_for.split("|") if zone.usual_for else ():
        if place == typed if whole else place.startswith(typed):
            return 0
    return 1 if zone.common else 2


def search_zone_groups(query):
    """The full list's groups holding only the places ``query`` names, and how many:
    places with a word equal to each word she typed (``india`` is Kolkata, not Indiana)
    when there are any, else places with a word beginning with each (``kolk``). An empty
    query, or one that finds nothing, gives every place (with 0 matches for the latter).

    The matches are ranked (:func:`_rank`): the best first, in the first group, so the
    place chosen for her is the one she most likely meant (Sydney, not the Antarctic
    island that keeps Australia's name). static/js/zones.js filters and ranks the list
    the same way as she types."""
    words = search_words(query or "").split()
    if not words:
        return ALL_ZONE_GROUPS, sum(len(zones) for _region, zones in ALL_ZONE_GROUPS)
    for whole in (True, False):
        found = [
            (region, zone)
            for region, zones in ALL_ZONE_GROUPS
            for zone in zones
            if _matches(words, zone, region, whole)
        ]
        if found:
            found.sort(key=lambda match: _rank(words, match[1], whole))  # stable
            groups = {}
            for region, zone in found:
                groups.setdefault(region, []).append(zone)
            return tuple((r, tuple(z)) for r, z in groups.items()), len(found)
    return ALL_ZONE_GROUPS, 0


def zone_choices(current):
    """The zone selector's choices on every booking page: ``current`` (her zone) first
    when it is not a common one, then the common zones in plain words. Every other zone
    is one link away, on the full list."""
    groups = {}
    if current and current not in COMMON_ZONE_NAMES:
        groups["Your time zone"] = [(current, zone_label(current))]
    for group, zones in COMMON_ZONES:
        groups[group] = list(zones)
    return groups


# --- the free times as a month calendar ---------------------------------------------------


class CalendarDay(NamedTuple):
    date: date
    label: str  # ``Tuesday 8 December``
    free: int  # how many free times that day


class Calendar(NamedTuple):
    month: date  # its first day
    title: str  # ``December 2026``
    weeks: list  # rows of seven cells, Monday first: a CalendarDay, or None outside it
    chosen: CalendarDay | None  # the day whose times are shown
    times: list  # slot_days() of the chosen day


def month_arg(value, first, last):
    """The month ``YYYY-MM`` names, when it lies from ``first`` to ``last`` (first days of
    months); else ``first``."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        chosen = date(year, month, 1)
    except ValueError:
        return first
    return chosen if first <= chosen <= last else first


def day_arg(value):
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None


def month_title(month):
    """``December 2026``."""
    return f"{MONTHS[month.month]} {month.year}"


def month_calendar(slots, zone, month, chosen_date=None):
    """The month ``month`` (its first day) of the reader's calendar with each day's
    number of free ``slots`` (UTC, sorted), and the times of ``chosen_date`` (when it has
    some) or else of the month's first free day."""
    per_day = {}
    for slot in slots:
        local = slot.astimezone(zone).date()
        if local.month == month.month and local.year == month.year:
            per_day.setdefault(local, []).append(slot)
    weeks, row = [], [None] * month.weekday()
    day = month
    while day.month == month.month:
        row.append(CalendarDay(day, f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month]}",
                               len(per_day.get(day, ()))))  # fmt: skip
        if len(row) == 7:
            weeks.append(row)
            row = []
        day += timedelta(days=1)
    if row:
        weeks.append(row + [None] * (7 - len(row)))
    if chosen_date not in per_day:
        chosen_date = min(per_day) if per_day else None
    chosen = next(
        (cell for week in weeks for cell in week if cell and cell.date == chosen_date), None
    )
    times = slot_days(per_day[chosen_date], zone) if chosen else []
    return Calendar(month, month_title(month), weeks, chosen, times)


def next_month(month):
    return (month + timedelta(days=32)).replace(day=1)


def previous_month(month):
    return (month - timedelta(days=1)).replace(day=1)
