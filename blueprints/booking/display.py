"""How consultation times read: in the client's zone, with Dr. Brown's zone named too."""

from datetime import UTC
from typing import NamedTuple
from zoneinfo import ZoneInfo

from blueprints.core.timezones import (
    MONTHS,
    WEEKDAYS,
    all_zone_names,
    format_date,
    format_time,
    practitioner_zone,
)


def zone_place(zone):
    """``New York`` for America/New_York: the city people recognise."""
    return zone.key.rsplit("/", 1)[-1].replace("_", " ")


def _zone(zone):
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def day_label(value, zone):
    """``Tuesday 3 March`` in ``zone``."""
    local = value.astimezone(_zone(zone))
    return f"{WEEKDAYS[local.weekday()]} {local.day} {MONTHS[local.month]}"


def day_label_with_year(value, zone):
    local = value.astimezone(_zone(zone))
    return f"{WEEKDAYS[local.weekday()]} {format_date(local, local.tzinfo)}"


def slot_label(value, zone, with_year=False):
    """``Tuesday 3 March, 9:00 am your time (Europe/London); 4:00 am in New York``.

    Shown as one sentence so nobody has to work out the difference between zones."""
    zone = _zone(zone)
    home = practitioner_zone()
    day = day_label_with_year(value, zone) if with_year else day_label(value, zone)
    mine = f"{day}, {format_time(value, zone)}"
    if zone.key == home.key:
        return f"{mine} ({zone_place(home)} time)"
    theirs = format_time(value, home)
    if value.astimezone(home).date() != value.astimezone(zone).date():
        theirs = f"{theirs} on {day_label(value, home)}"
    return f"{mine} your time ({zone.key}); {theirs} in {zone_place(home)}"


def practitioner_label(value, with_year=True):
    """``Tuesday 3 March 2026, 9:00 am New York time``."""
    home = practitioner_zone()
    day = day_label_with_year(value, home) if with_year else day_label(value, home)
    return f"{day}, {format_time(value, home)} {zone_place(home)} time"


def client_label(value, zone):
    zone = _zone(zone)
    return f"{day_label_with_year(value, zone)}, {format_time(value, zone)} ({zone.key})"


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
            ("America/New_York", "Eastern time (New York)"),
            ("America/Chicago", "Central time (Chicago)"),
            ("America/Denver", "Mountain time (Denver)"),
            ("America/Phoenix", "Arizona (Phoenix)"),
            ("America/Los_Angeles", "Pacific time (Los Angeles)"),
            ("America/Anchorage", "Alaska (Anchorage)"),
            ("Pacific/Honolulu", "Hawaii (Honolulu)"),
        ),
    ),
    (
        "Canada",
        (
            ("America/St_Johns", "Newfoundland (St. John's)"),
            ("America/Halifax", "Atlantic time (Halifax)"),
            ("America/Toronto", "Eastern time (Toronto)"),
            ("America/Winnipeg", "Central time (Winnipeg)"),
            ("America/Regina", "Saskatchewan (Regina)"),
            ("America/Edmonton", "Mountain time (Edmonton)"),
            ("America/Vancouver", "Pacific time (Vancouver)"),
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
    """``America/Argentina/Buenos Aires``: an IANA name as the full list shows it."""
    return name.replace("_", " ")


# The full list, worked out once per process: its page is a plain loop.
ALL_ZONES = tuple((name, zone_label(name)) for name in all_zone_names())
