"""Time zones: store UTC, show the reader's zone.

The reader's zone comes from the ``tz`` cookie (set by the zone selector, or by a
small script that reads the browser's zone) and falls back to the practitioner's.
"""

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app, request

TZ_COOKIE = "tz"


@cache
def all_zone_names():
    """Sorted IANA zone names offered by the selector (no legacy aliases)."""
    return sorted(
        name
        for name in available_timezones()
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/"))
    )


@cache
def _known_zones():
    return frozenset(all_zone_names())


def parse_zone(name):
    """A ZoneInfo for a known IANA name, else None (never raises on user input)."""
    if not name or not isinstance(name, str) or len(name) > 64 or name not in _known_zones():
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


def format_date(value: datetime, zone=None):
    """``28 November 2026`` in the reader's zone."""
    local = to_zone(value, zone)
    return f"{local.day} {MONTHS[local.month]} {local.year}"


def format_time(value: datetime, zone=None):
    """``9:00 am`` in the reader's zone."""
    local = to_zone(value, zone)
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"


def format_datetime(value: datetime, zone=None):
    """``Tuesday 3 March 2026, 9:00 am``."""
    local = to_zone(value, zone)
    day = WEEKDAYS[local.weekday()]
    return f"{day} {format_date(local, local.tzinfo)}, {format_time(local, local.tzinfo)}"
