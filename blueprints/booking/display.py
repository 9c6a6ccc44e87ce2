"""How consultation times read: in the client's zone, with Dr. Brown's zone named too."""

from zoneinfo import ZoneInfo

from blueprints.core.timezones import format_date, format_time, practitioner_zone


def zone_place(zone):
    """``New York`` for America/New_York: the city people recognise."""
    return zone.key.rsplit("/", 1)[-1].replace("_", " ")


def _zone(zone):
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def day_label(value, zone):
    """``Tuesday 3 March`` in ``zone``."""
    local = value.astimezone(_zone(zone))
    return f"{local:%A} {local.day} {local:%B}"


def day_label_with_year(value, zone):
    local = value.astimezone(_zone(zone))
    return f"{local:%A} {format_date(local, local.tzinfo)}"


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
