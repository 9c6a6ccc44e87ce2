"""The video room of a consultation: one set per booking by staff in the schedule, else
the practice's usual room, set by staff on the availability page (until they set one,
``BOOKING_MEETING_URL`` from the config)."""

import json
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import or_, update

from blueprints.booking.errors import BookingError
from blueprints.booking.events import record_event
from blueprints.booking.holds import take_write_lock
from blueprints.booking.models import (
    Booking,
    BookingEvent,
    BookingEventKind,
    BookingStatus,
    CallType,
)
from blueprints.core.audit import record_staff_action
from blueprints.core.settings import read_setting, write_setting
from blueprints.core.types import utcnow
from extensions import db

USUAL_ROOM_SETTING = "booking.usual_room"

MAX_MEETING_URL_LENGTH = 500
BAD_MEETING_URL = (
    "Please give the meeting link as a full web address starting with https://, "
    "for example https://zoom.us/j/123456789."
)


def is_meeting_url(value):
    """True for an https address with a host, no spaces and no user name or password
    in it (a link clients open must not carry a login)."""
    if not value or len(value) > MAX_MEETING_URL_LENGTH or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and bool(parts.hostname)
        and "." in parts.hostname
        and parts.username is None
        and parts.password is None
        and port_ok
    )


KEPT_ROOM_MESSAGE = "Kept the room she was sent when the usual room changed."

_UNREAD = object()


def usual_room():
    """The practice's usual video room: the one staff set (None when they said there is
    none), else the config's ``BOOKING_MEETING_URL``."""
    saved = read_setting(USUAL_ROOM_SETTING)
    if saved is None:
        return current_app.config.get("BOOKING_MEETING_URL") or None
    return saved or None


def set_usual_room(url, *, actor, now=None):
    """Staff (``actor``) set the usual video room; empty: there is none (clients are told
    the link will follow). Recorded in the audit log. Returns whether anything changed.

    No one is emailed, so clients already booked keep the room they were sent: a
    consultation is given its room as it is confirmed (booking.webhooks), and each
    confirmed video consultation not over yet still without a link of its own (confirmed
    before that, or whose own link staff cleared) is given the old room (one statement,
    a history row each). Unpaid holds are left alone: their confirmation, still to be
    sent, carries the new room."""
    url = (url or "").strip()
    if url and not is_meeting_url(url):
        raise BookingError(BAD_MEETING_URL)
    take_write_lock()  # on SQLite, read the old room behind any change being written
    old = usual_room()  # what clients were told: the config's room until staff set one
    if (url or None) == old:
        return False
    kept = _keep_room_for_booked(old, now or utcnow()) if old else 0
    write_setting(USUAL_ROOM_SETTING, url)
    record_staff_action(
        actor.id, "booking.usual_room", "site_setting", detail={"url": url, "kept_old_room": kept}
    )
    return True


def _keep_room_for_booked(room, now):
    """Give ``room`` as their own link to the confirmed video consultations not over yet
    that have none; how many."""
    kept_ids = db.session.scalars(
        update(Booking)
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            Booking.call_type == CallType.VIDEO,
            or_(Booking.meeting_url.is_(None), Booking.meeting_url == ""),
            Booking.ends_at > now,
        )
        .values(meeting_url=room, updated_at=now)
        .returning(Booking.id)
        .execution_options(synchronize_session=False)
    ).all()
    # Many rows in one statement: the events name the ids, not loaded bookings.
    detail = json.dumps({"url": room, "message": KEPT_ROOM_MESSAGE})
    db.session.add_all(
        BookingEvent(
            booking_id=booking_id,
            kind=BookingEventKind.MEETING_LINK_SET,
            actor="staff",
            detail=detail,
        )
        for booking_id in kept_ids
    )
    db.session.flush()
    return len(kept_ids)


def meeting_link(booking, usual=_UNREAD):
    """Where a video consultation happens: its own link, else the usual room (``usual``
    when the caller read it once for many bookings); None for a phone call or when no
    room is set."""
    if booking.call_type != CallType.VIDEO:
        return None
    if booking.meeting_url:
        return booking.meeting_url
    return usual_room() if usual is _UNREAD else usual


def link_finder():
    """:func:`meeting_link` with the usual room read once, for a page of many bookings."""
    usual = usual_room()
    return lambda booking: meeting_link(booking, usual)


def set_meeting_url(booking, url, actor="staff"):
    """Give ``booking`` its own meeting link (an empty one goes back to the default room),
    recorded in its history. Returns whether anything changed."""
    url = (url or "").strip() or None
    if url is not None and not is_meeting_url(url):
        raise BookingError(BAD_MEETING_URL)
    if url == booking.meeting_url:
        return False
    booking.meeting_url = url
    record_event(booking, BookingEventKind.MEETING_LINK_SET, actor=actor, url=url or "")
    db.session.flush()
    return True
