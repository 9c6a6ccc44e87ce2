"""Time zones: store UTC, show the reader's zone.

The reader's zone comes from the ``tz`` cookie (set by the zone selector, or by a
small script that reads the browser's zone) and falls back to the practitioner's.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib.resources import files
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app, request

from blueprints.core.types import CALENDAR_YEARS

TZ_COOKIE = "tz"


def _tz_file(name):
    """The text of one of the tz database's own files (``tzdata.zi``, ``zone.tab``): from
    the ``tzdata`` package that zoneinfo reads, else from the system's zoneinfo folder;
    None when neither has it."""
    try:
        return files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        pass
    for folder in TZPATH:
        try:
            return (Path(folder) / name).read_text(encoding="utf-8")
        except OSError:
            continue
    return None


def _is_place(name):
    # Etc/GMT+5, UTC, EST5EDT and Factory name no place anyone lives.
    return "/" in name and not name.startswith("Etc/")


@cache
def _zone_data():
    """``(names, aliases)``: the zones the selector offers, sorted, and every other name
    zoneinfo knows (Asia/Calcutta, Europe/Kiev, US/Eastern) mapped to the zone it names.

    Offered: every zone of ``tzdata.zi`` (its ``Z`` lines) and every country's zone of
    ``zone.tab``, which keeps Europe/Amsterdam (a link to Brussels since 2022, but the
    Netherlands' own entry) while leaving out the backward links, the deprecated names."""
    data, tab = _tz_file("tzdata.zi"), _tz_file("zone.tab")
    if data is None:
        # No tz source files (a trimmed system): every name that looks like a place,
        # less the old country-folder aliases. Better a few old names than no list.
        names = sorted(
            name for name in available_timezones()
            if _is_place(name) and not name.startswith(("SystemV/", "US/"))
        )  # fmt: skip
        return tuple(names), {}
    zones, links = set(), {}
    for line in data.splitlines():
        fields = line.split()
        if line.startswith("Z "):
            zones.add(fields[1])
        elif line.startswith("L "):
            links[fields[2]] = fields[1]
    country_zones = {
        line.split("\t")[2] for line in (tab or "").splitlines() if line and line[0] != "#"
    }
    names = {name for name in zones | country_zones if _is_place(name)}
    aliases = {}
    for alias, target in links.items():
        seen = 0
        while target in links and target not in names and seen < 10:  # links to links
            target, seen = links[target], seen + 1
        if alias not in names and target in names:
            aliases[alias] = target
    return tuple(sorted(names)), aliases


def all_zone_names():
    """Sorted IANA zone names offered by the selector (no deprecated aliases)."""
    return _zone_data()[0]


@cache
def zone_countries():
    """``{"Asia/Kolkata": "India", "Europe/Amsterdam": "Netherlands", ...}``: the country
    each zone of ``zone.tab`` keeps the clock of (names from ``iso3166.tab``), so a
    reader can find her zone by her country. Empty without the tz source files."""
    tab, iso = _tz_file("zone.tab"), _tz_file("iso3166.tab")
    if not tab or not iso:
        return {}
    names = dict(line.split("\t", 1) for line in iso.splitlines() if line and line[0] != "#")
    countries = {}
    for line in tab.splitlines():
        if line and line[0] != "#":
            code, _where, zone, *_ = line.split("\t")
            countries[zone] = names.get(code, "").strip()
    return countries


# The zone most of a country's people keep, where zone.tab lists another of its zones
# first (it runs roughly east to west: Lord Howe before Sydney, Noronha before Sao Paulo).
_USUAL_ZONE_OF = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "UZ": "Asia/Tashkent",
}


@cache
def usual_country_zones():
    """``{"Australia/Sydney": "Australia", "Asia/Kolkata": "India", ...}``: for each
    country of ``zone.tab``, the one zone most of its people keep (its only one, the
    first it lists, or the one named above), so a search for the country finds that
    zone first. Empty without the tz source files."""
    tab, iso = _tz_file("zone.tab"), _tz_file("iso3166.tab")
    if not tab or not iso:
        return {}
    names = dict(line.split("\t", 1) for line in iso.splitlines() if line and line[0] != "#")
    usual = dict(_USUAL_ZONE_OF)
    for line in tab.splitlines():
        if line and line[0] != "#":
            code, _where, zone, *_ = line.split("\t")
            usual.setdefault(code, zone)
    return {zone: names.get(code, "").strip() for code, zone in usual.items()}


@cache
def _known_zones():
    return frozenset(all_zone_names())


def current_zone_name(name):
    """The zone's current name: ``Asia/Kolkata`` for ``Asia/Calcutta`` (which Chromium
    still reports in India); a listed name as it is; None for anything else."""
    if not name or not isinstance(name, str) or len(name) > 64:
        return None
    if name in _known_zones():
        return name
    return _zone_data()[1].get(name)


def parse_zone(name):
    """A ZoneInfo for a known IANA name, an old name read as its current zone, else None
    (never raises on user input)."""
    name = current_zone_name(name)
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def practitioner_zone():
    return ZoneInfo(current_app.config["PRACTITIONER_TIMEZONE"])


def reader_zone():
    """The zone pages are shown in for this request."""
    zone = parse_zone(request.cookies.get(TZ_COOKIE)) if request else None
    return zone or practitioner_zone()


def to_zone(value: datetime, zone=None):
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone or reader_zone())


# English names, whatever the server's locale (strftime's %A and %B follow the locale,
# and cost several times more than a list lookup on pages that show a hundred times).
MONTHS = (None, "January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def format_date(value: datetime | date, zone=None):
    """``28 November 2026``: a moment in the reader's zone, or a calendar day as it is
    (a ``date``: a day of Dr. Brown's calendar has no zone to change)."""
    local = value if not isinstance(value, datetime) else to_zone(value, zone)
    return f"{local.day} {MONTHS[local.month]} {local.year}"


def days_in_words(first: date | None, last: date | None):
    """A range of calendar days, both included, as staff pages write it after "paid or
    refunded": ``on 5 March 2026``, ``from 1 March 2026 to 31 March 2026``, ``from 1
    March 2026 on``, ``up to 31 March 2026``."""
    if first and first == last:
        return f"on {format_date(first)}"
    if first and last:
        return f"from {format_date(first)} to {format_date(last)}"
    return f"from {format_date(first)} on" if first else f"up to {format_date(last)}"


def day_start(day: date, zone=None):
    """The UTC instant ``day`` begins in ``zone`` (Dr. Brown's unless given): midnight
    there, so a day the clocks change on is 23 or 25 hours long, still one day."""
    return datetime.combine(day, time.min, tzinfo=zone or practitioner_zone()).astimezone(UTC)


def day_span(first_day: date | None, last_day: date | None, zone=None):
    """The UTC ``(start, end)`` (end excluded) of the days ``first_day`` to ``last_day``,
    both included, in ``zone``: the span every staff list by days and the dashboard's
    periods count. An empty end reaches the calendar's first or last year."""
    first = first_day or date(CALENDAR_YEARS[0], 1, 1)
    after = last_day + timedelta(days=1) if last_day else date(CALENDAR_YEARS[-1] + 1, 1, 1)
    return day_start(first, zone), day_start(after, zone)


def format_time(value: datetime, zone=None):
    """``9:00 am`` in the reader's zone."""
    local = to_zone(value, zone)
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"


# What people call the zones most of Dr. Brown's clients live in. Any other zone is
# named by its city ("Paris time"): never by its IANA id.
ZONE_NAMES = {
    "America/New_York": "Eastern Time",
    "America/Detroit": "Eastern Time",
    "America/Toronto": "Eastern Time",
    "America/Chicago": "Central Time",
    "America/Winnipeg": "Central Time",
    "America/Denver": "Mountain Time",
    "America/Edmonton": "Mountain Time",
    "America/Boise": "Mountain Time",
    "America/Phoenix": "Arizona Time",
    "America/Los_Angeles": "Pacific Time",
    "America/Vancouver": "Pacific Time",
    "America/Anchorage": "Alaska Time",
    "Pacific/Honolulu": "Hawaii Time",
    "America/Halifax": "Atlantic Time",
    "America/St_Johns": "Newfoundland Time",
    "America/Regina": "Saskatchewan Time",
    "Europe/London": "UK time",
    "Europe/Dublin": "Irish time",
}


def _as_zone(zone):
    if isinstance(zone, str):
        return ZoneInfo(current_zone_name(zone) or zone)
    if isinstance(zone, ZoneInfo) and zone.key not in _known_zones():
        # A zone read from an old name (a booking stored as Asia/Calcutta).
        current = current_zone_name(zone.key)
        return ZoneInfo(current) if current else zone
    return zone


def zone_city(zone):
    """``New York`` for America/New_York: the place people recognise."""
    return _as_zone(zone).key.rsplit("/", 1)[-1].replace("_", " ")


def zone_name(zone):
    """``Pacific Time``, or ``Paris time`` for a zone without a common name."""
    key = _as_zone(zone).key
    return ZONE_NAMES.get(key) or f"{zone_city(key)} time"


def format_day(value: datetime, zone=None, now=None):
    """``Tuesday 8 December``, with the year only when it is not this year."""
    local = to_zone(value, zone)
    this_year = to_zone(now or datetime.now(UTC), local.tzinfo).year
    year = f" {local.year}" if local.year != this_year else ""
    return f"{WEEKDAYS[local.weekday()]} {local.day} {MONTHS[local.month]}{year}"


def format_when(value: datetime, zone=None, home=None, now=None):
    """A moment as every page, email, subject line and calendar entry writes it:
    ``Tuesday 8 December, 9:00 am Pacific Time (12:00 pm in New York)``.

    ``zone`` is the reader's (or the client's), ``home`` Dr. Brown's; the clock in her
    zone is added whenever it reads differently, with its day when that differs too."""
    return _moment(value, zone, home, now, ", ")


def format_day_at(value: datetime, zone=None, home=None, now=None):
    """:func:`format_when` for the middle of a sentence, after "on": ``Tuesday 8
    December at 9:00 am Pacific Time (12:00 pm in New York)`` ("On ..., Dr. Brown will
    call you", never "At Tuesday ...")."""
    return _moment(value, zone, home, now, " at ")


def _moment(value, zone, home, now, between):
    zone = _as_zone(zone) or reader_zone()
    home = _as_zone(home) or practitioner_zone()
    local = to_zone(value, zone)
    text = f"{format_day(local, zone, now)}{between}{format_time(local, zone)} {zone_name(zone)}"
    there = to_zone(value, home)
    if there.replace(tzinfo=None) == local.replace(tzinfo=None):
        return text
    clock = format_time(there, home)
    if there.date() != local.date():
        clock = f"{clock} on {format_day(there, home, now)}"
    return f"{text} ({clock} in {zone_city(home)})"
