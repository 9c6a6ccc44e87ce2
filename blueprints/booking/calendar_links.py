"""Add-to-calendar links for a booked consultation: Google Calendar and Outlook take the
event in their address; the .ics download (``booking.calendar_file``) suits the rest.
Times are UTC, so every calendar shows them in its owner's own zone."""

from datetime import UTC
from urllib.parse import urlencode

from blueprints.booking.emails import PRACTITIONER_NAME, how_the_call_happens
from blueprints.booking.meetings import meeting_link

GOOGLE_CALENDAR = "https://calendar.google.com/calendar/render"
OUTLOOK_CALENDAR = "https://outlook.live.com/calendar/0/deeplink/compose"


def _title(booking):
    return f"{booking.consultation_type.name} with {PRACTITIONER_NAME}"


def _where(booking):
    return meeting_link(booking) or (
        "Video call" if booking.call_type.value == "video" else "Phone call"
    )


def google_calendar_url(booking):
    """Google Calendar's "new event" page, filled in (dates as YYYYMMDDTHHMMSSZ)."""
    stamp = "%Y%m%dT%H%M%SZ"
    start = booking.starts_at.astimezone(UTC).strftime(stamp)
    end = booking.ends_at.astimezone(UTC).strftime(stamp)
    query = {
        "action": "TEMPLATE",
        "text": _title(booking),
        "dates": f"{start}/{end}",
        "details": how_the_call_happens(booking),
        "location": _where(booking),
    }
    return f"{GOOGLE_CALENDAR}?{urlencode(query)}"


def outlook_calendar_url(booking):
    """Outlook on the web's "new event" page, filled in (ISO 8601 UTC times)."""
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": _title(booking),
        "startdt": booking.starts_at.astimezone(UTC).strftime(stamp),
        "enddt": booking.ends_at.astimezone(UTC).strftime(stamp),
        "body": how_the_call_happens(booking),
        "location": _where(booking),
    }
    return f"{OUTLOOK_CALENDAR}?{urlencode(query)}"
