"""Staff change the usual video room: clients already booked were sent the old room (in
their confirmation and its calendar invitation) and are not emailed about the change, so
they keep the room they were sent; bookings made afterwards get the new one."""

import json
from datetime import timedelta
from html import unescape

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from blueprints.booking import links
from blueprints.booking.models import Booking, BookingEvent, BookingStatus, CallType
from blueprints.core.models import AuditEntry, OutboxMessage
from blueprints.core.types import utcnow
from extensions import db
from tests.account.conftest import sign_in_customer
from tests.booking.conftest import free, login_staff, make_confirmed
from tests.factories import make_booking

OLD_ROOM = "https://meet.example.com/dr-brown"
NEW_ROOM = "https://meet.example.org/dr-brown-clinic"
OWN_ROOM = "https://zoom.us/j/5551234567?pwd=bones"


def _slot(ctype, days_ahead):
    return next(s for s in free(ctype) if s > utcnow() + timedelta(days=days_ahead))


def _video(ctype, days_ahead=3, room=None, email="vera@example.com"):
    booking = make_confirmed(ctype, _slot(ctype, days_ahead), email=email)
    booking.call_type = CallType.VIDEO
    booking.meeting_url = room
    db.session.commit()
    return booking


def _set_usual_room(client, url):
    return client.post("/admin/availability/meeting-room", data={"room-meeting_url": url})


def _manage_page(client, booking):
    return unescape(client.get(f"/consultations/manage/{links.manage_token(booking)}").text)


def _calendar_location(client, booking):
    ics = client.get(f"/consultations/manage/{links.manage_token(booking)}/consultation.ics")
    event = Calendar.from_ical(ics.data).walk("VEVENT")[0]
    return str(event["location"]), str(event["url"])


def _room_of(booking_id):
    db.session.expire_all()
    return db.session.get(Booking, booking_id).meeting_url


def _outbox_count():
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def _room_events(booking_id):
    return [
        json.loads(event.detail)
        for event in db.session.scalars(
            select(BookingEvent).where(
                BookingEvent.booking_id == booking_id, BookingEvent.kind == "meeting_link_set"
            )
        )
    ]


@pytest.mark.parametrize("new_room", [NEW_ROOM, ""], ids=["another-room", "no-room"])
def test_a_client_booked_before_the_usual_room_changes_keeps_the_room_she_was_sent(
    app, client, types, staff_user, new_room
):
    app.config["BOOKING_MEETING_URL"] = OLD_ROOM
    booked = _video(types["initial"])
    outbox_before = _outbox_count()

    login_staff(client, staff_user)
    form = client.get("/admin/availability").text
    assert "Clients already booked keep the room they were sent; new bookings get this one." in (
        form
    )
    assert _set_usual_room(client, new_room).status_code == 303

    assert _room_of(booked.id) == OLD_ROOM
    page = _manage_page(client, booked)
    assert f'<a href="{OLD_ROOM}">{OLD_ROOM}</a>' in page
    assert not new_room or new_room not in page
    assert _calendar_location(client, booked) == (OLD_ROOM, OLD_ROOM)
    sign_in_customer(client, booked.email)
    account = client.get("/account/").text
    assert f'<a href="{OLD_ROOM}">{OLD_ROOM}</a>' in account
    assert not new_room or new_room not in account

    assert _outbox_count() == outbox_before, "no one is emailed about the usual room"
    (event,) = _room_events(booked.id)
    assert event["url"] == OLD_ROOM and "usual room changed" in event["message"]
    (entry,) = db.session.scalars(select(AuditEntry)).all()
    assert entry.action == "booking.usual_room"
    assert entry.detail == {"url": new_room, "kept_old_room": 1}


def test_a_booking_made_after_the_change_gets_the_new_room(app, client, types, staff_user):
    app.config["BOOKING_MEETING_URL"] = OLD_ROOM
    login_staff(client, staff_user)
    assert _set_usual_room(client, NEW_ROOM).status_code == 303

    later = _video(types["initial"])
    assert later.meeting_url is None
    assert f'<a href="{NEW_ROOM}">{NEW_ROOM}</a>' in _manage_page(client, later)
    assert _calendar_location(client, later) == (NEW_ROOM, NEW_ROOM)


def test_own_links_past_cancelled_unpaid_and_phone_bookings_are_left_as_they_were(
    app, client, types, staff_user
):
    app.config["BOOKING_MEETING_URL"] = OLD_ROOM
    ctype = types["initial"]
    own = _video(ctype, days_ahead=3, room=OWN_ROOM, email="olive@example.com")
    now = utcnow().replace(second=0, microsecond=0)
    past = make_booking(ctype, starts_at=now - timedelta(days=2), call_type=CallType.VIDEO)
    cancelled = make_booking(
        ctype,
        starts_at=now + timedelta(days=20),
        status=BookingStatus.CANCELLED,
        call_type=CallType.VIDEO,
    )
    # Not paid yet: she has been sent no room; her confirmation will carry the new one.
    held = make_booking(ctype, starts_at=now + timedelta(days=21), call_type=CallType.VIDEO)
    held.status, held.hold_expires_at = BookingStatus.HELD, now + timedelta(minutes=20)
    db.session.commit()
    phone = make_confirmed(ctype, _slot(ctype, 5), email="pat@example.com")
    untouched = {own.id: OWN_ROOM, past.id: None, cancelled.id: None, held.id: None, phone.id: None}

    login_staff(client, staff_user)
    assert _set_usual_room(client, NEW_ROOM).status_code == 303

    assert {booking_id: _room_of(booking_id) for booking_id in untouched} == untouched
    assert all(_room_events(booking_id) == [] for booking_id in untouched)
    (entry,) = db.session.scalars(select(AuditEntry)).all()
    assert entry.detail == {"url": NEW_ROOM, "kept_old_room": 0}


def test_with_no_usual_room_before_there_is_nothing_to_keep(app, client, types, staff_user):
    app.config["BOOKING_MEETING_URL"] = None  # she was told the link will follow by email
    booked = _video(types["initial"])
    login_staff(client, staff_user)
    assert _set_usual_room(client, NEW_ROOM).status_code == 303

    assert _room_of(booked.id) is None
    assert _room_events(booked.id) == []
    assert f'<a href="{NEW_ROOM}">{NEW_ROOM}</a>' in _manage_page(client, booked)


def test_saving_the_room_already_in_use_from_the_config_changes_nothing_and_is_not_audited(
    app, client, types, staff_user
):
    app.config["BOOKING_MEETING_URL"] = OLD_ROOM
    booked = _video(types["initial"])
    login_staff(client, staff_user)
    saved = _set_usual_room(client, OLD_ROOM)
    assert saved.status_code == 303
    assert "already that; nothing changed" in client.get(saved.location).text
    assert db.session.scalars(select(AuditEntry)).all() == []
    assert _room_of(booked.id) is None and _room_events(booked.id) == []


def test_keeping_the_old_room_costs_the_same_queries_for_one_booking_or_many(
    app, client, types, staff_user, count_queries
):
    app.config["BOOKING_MEETING_URL"] = OLD_ROOM
    login_staff(client, staff_user)
    _video(types["initial"], days_ahead=3)
    with count_queries() as one:
        assert _set_usual_room(client, NEW_ROOM).status_code == 303

    many = [_video(types["initial"], days_ahead=d, email=f"c{d}@example.com") for d in (4, 5, 6)]
    with count_queries() as several:
        assert _set_usual_room(client, OLD_ROOM).status_code == 303

    assert all(_room_of(booking.id) == NEW_ROOM for booking in many)
    assert several.count <= one.count, several.statements


@pytest.mark.postgres_only
def test_a_confirmation_written_while_staff_change_the_room_keeps_the_room_it_emailed(
    app, types, staff_user
):
    """PostgreSQL, two transactions at once: a payment confirms a video consultation and
    emails the usual room while staff save a new one. The staff's update of "confirmed
    bookings without a room of their own" cannot see a confirmation not yet committed,
    so before the fix the booking, confirmed a moment later with no room of its own,
    showed the new room while her email and invitation named the old one."""
    from blueprints.booking import holds, webhooks
    from blueprints.booking.meetings import meeting_link, set_usual_room

    app.config["BOOKING_MEETING_URL"] = OLD_ROOM
    ctype = types["initial"]
    starts_at = _slot(ctype, 3)
    details = {
        "name": "Vera Client",
        "email": "vera@example.com",
        "phone": "",
        "client_timezone": "America/New_York",
        "call_type": CallType.VIDEO,
    }
    booking = holds.hold_slot(ctype, starts_at, details, now=utcnow())
    db.session.commit()
    booking_id = booking.id

    # The payment's transaction confirms and writes her email, not yet committed ...
    assert webhooks._confirm(booking, utcnow(), BookingStatus.HELD)
    # ... while staff save the new room in a transaction of their own, committed first.
    with app.app_context():
        set_usual_room(NEW_ROOM, actor=db.session.get(type(staff_user), staff_user.id))
        db.session.commit()
    db.session.commit()

    db.session.expire_all()
    confirmed = db.session.get(Booking, booking_id)
    (email,) = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_address == "vera@example.com")
    ).all()
    assert OLD_ROOM in email.body_text and NEW_ROOM not in email.body_text
    assert meeting_link(confirmed) == OLD_ROOM
