"""Video consultations carry their meeting link (their own, else the practice's usual
room) into the emails and the calendar file; phone calls say who calls whom. After
payment, "You're booked" says what happens next and offers the calendar links (#19.9)."""

import re
from datetime import UTC, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from blueprints.booking import display, emails, links, services
from blueprints.booking.models import Booking, BookingStatus, CallType
from blueprints.core.models import AuditEntry
from blueprints.core.outbox import send_due
from blueprints.core.timezones import format_day, format_day_at
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import form_data, free, login_staff, make_confirmed, pay_booking
from tests.conftest import html_part, text_part
from tests.stripe_fake import make_event, post_event

OWN_ROOM = "https://zoom.us/j/5551234567?pwd=bones"
USUAL_ROOM = "https://meet.example.com/dr-brown"


def _slot(ctype, days_ahead=3):
    return next(s for s in free(ctype) if s > utcnow() + timedelta(days=days_ahead))


def _video(ctype, room=None, email="vera@example.com"):
    booking = make_confirmed(ctype, _slot(ctype), email=email)
    booking.call_type = CallType.VIDEO
    booking.meeting_url = room
    db.session.commit()
    return booking


def _attached_event(message):
    (invite,) = [p for p in message.iter_attachments() if p.get_filename() == "invite.ics"]
    return Calendar.from_ical(invite.get_content()).walk("VEVENT")[0]


@pytest.mark.parametrize(
    ("own", "usual", "expected"),
    [(OWN_ROOM, USUAL_ROOM, OWN_ROOM), (None, USUAL_ROOM, USUAL_ROOM)],
    ids=["own-room", "usual-room"],
)
def test_video_confirmation_email_and_invitation_carry_the_meeting_link(
    app, types, mailbox, own, usual, expected
):
    app.config["BOOKING_MEETING_URL"] = usual
    booking = _video(types["initial"], own)
    emails.send_confirmation(booking)
    db.session.commit()
    send_due()

    mailbox.wait_for(1)
    (message,) = mailbox.to("vera@example.com")
    assert f"Join the video call: {expected}" in text_part(message)
    html = unescape(html_part(message))
    assert f'href="{expected}"' in html and "Join the video call</a>" in html
    event = _attached_event(message)
    assert str(event["location"]) == expected and str(event["url"]) == expected


def test_video_reminder_email_carries_the_meeting_link(app, types, mailbox):
    app.config["BOOKING_MEETING_URL"] = USUAL_ROOM
    booking = _video(types["initial"], OWN_ROOM)
    assert services.send_reminders(now=booking.starts_at - timedelta(hours=12)) == 1
    db.session.commit()
    send_due()

    mailbox.wait_for(1)
    (message,) = mailbox.to("vera@example.com")
    assert message["Subject"].startswith("Reminder")
    assert f"Join the video call: {OWN_ROOM}" in text_part(message)
    assert f'href="{OWN_ROOM}"' in unescape(html_part(message))


def test_phone_emails_and_invitation_have_no_link_and_say_who_calls(app, types, mailbox):
    app.config["BOOKING_MEETING_URL"] = USUAL_ROOM
    booking = make_confirmed(types["initial"], _slot(types["initial"]), email="pat@example.com")
    emails.send_confirmation(booking)
    db.session.commit()
    send_due()

    mailbox.wait_for(1)
    (message,) = mailbox.to("pat@example.com")
    body = text_part(message)
    assert "Dr. Brown will call you at +1 555 0100" in body
    assert "you do not need to call" in body
    assert "Join the video call" not in body and USUAL_ROOM not in html_part(message)
    event = _attached_event(message)
    assert "location" not in event and "url" not in event


def test_video_without_any_room_says_the_link_will_follow(app, types):
    app.config["BOOKING_MEETING_URL"] = None
    booking = _video(types["initial"])
    text = emails.how_the_call_happens(booking)
    assert "We will email you the link to join" in text
    assert "location" not in Calendar.from_ical(emails.build_invitation(booking)).walk("VEVENT")[0]


def _pay(client, stripe_api, booking):
    response = post_event(
        client, make_event("checkout.session.completed", pay_booking(stripe_api, booking))
    )
    assert response.status_code == 200, response.text
    db.session.expire_all()
    return db.session.get(Booking, booking.id)


def test_after_payment_youre_booked_page_has_next_steps_calendar_links_and_manage_link(
    app, client, types, stripe_api
):
    app.config["BOOKING_MEETING_URL"] = USUAL_ROOM
    ctype = types["initial"]
    slot = _slot(ctype)
    booked = client.post(
        f"/consultations/{ctype.slug}/book",
        data=form_data(display.slot_value(slot), call_type="video"),
    )
    assert booked.status_code == 303
    booking = _pay(client, stripe_api, db.session.scalar(select(Booking)))
    assert booking.status == BookingStatus.CONFIRMED
    token = links.manage_token(booking)

    page = client.get(f"/consultations/manage/{token}?paid=1")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store"
    text = unescape(page.text)
    assert "<h1>You're booked</h1>" in text and "What happens next" in text
    assert "margaret@example.com" in text
    assert f'<a href="{USUAL_ROOM}">{USUAL_ROOM}</a>' in text
    manage = text.split('class="manage-link">')[1].split("<")[0]
    assert manage.startswith("http://localhost/consultations/manage/") and "paid" not in manage
    assert links.booking_from_token(manage.rsplit("/", 1)[1]).id == booking.id

    start, end = slot.astimezone(UTC), (slot + timedelta(hours=1)).astimezone(UTC)
    hrefs = {
        urlsplit(href).netloc: href
        for href in (part.split('"')[0] for part in text.split('href="')[1:])
    }
    google = parse_qs(urlsplit(hrefs["calendar.google.com"]).query)
    assert google["action"] == ["TEMPLATE"]
    assert google["dates"] == [f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}"]
    assert google["location"] == [USUAL_ROOM]
    assert google["text"] == ["Initial consultation with Dr. Susan E. Brown, PhD"]
    outlook = parse_qs(urlsplit(hrefs["outlook.live.com"]).query)
    assert outlook["startdt"] == [f"{start:%Y-%m-%dT%H:%M:%SZ}"]
    assert outlook["enddt"] == [f"{end:%Y-%m-%dT%H:%M:%SZ}"]
    assert outlook["location"] == [USUAL_ROOM]
    assert f'href="/consultations/manage/{token}/consultation.ics"' in text

    # Later visits keep the links but are not the "You're booked" page.
    later = unescape(client.get(f"/consultations/manage/{token}").text)
    assert "You're booked" not in later and "Add it to your calendar" in later


def test_phone_booking_page_says_who_calls_whom(client, types):
    booking = make_confirmed(types["initial"], _slot(types["initial"]))
    page = client.get(f"/consultations/manage/{links.manage_token(booking)}?paid=1")
    assert "Dr. Brown will call you at +1 555 0100. You do not need to call." in page.text
    assert "Video call link" not in page.text


def test_phone_booking_page_says_on_which_day_and_at_what_time_she_is_called(client, types):
    """ "On Tuesday 22 December at 2:00 pm UK time ...", never "At Tuesday 22 December,
    2:00 pm ..." (#3 of the walkthrough)."""
    booking = make_confirmed(types["initial"], _slot(types["initial"]), zone="Europe/London")
    page = unescape(client.get(f"/consultations/manage/{links.manage_token(booking)}?paid=1").text)
    day_at = format_day_at(booking.starts_at, "Europe/London")
    assert day_at.startswith(format_day(booking.starts_at, ZoneInfo("Europe/London")) + " at ")
    assert f"On {day_at}, Dr. Brown will call you at +1 555 0100." in " ".join(page.split())
    assert not re.search(r"\bAt (Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day", page)


def test_calendar_file_download_by_manage_token(app, client, types):
    app.config["BOOKING_MEETING_URL"] = USUAL_ROOM
    booking = _video(types["initial"], OWN_ROOM)
    response = client.get(f"/consultations/manage/{links.manage_token(booking)}/consultation.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == 'attachment; filename="consultation.ics"'
    assert "no-store" in response.headers["Cache-Control"]
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["method"]) == "PUBLISH"
    event = calendar.walk("VEVENT")[0]
    assert event.decoded("dtstart") == booking.starts_at
    assert str(event["location"]) == OWN_ROOM and str(event["url"]) == OWN_ROOM
    assert str(event["uid"]) == emails.calendar_uid(booking)
    assert "attendee" not in event


def test_calendar_file_needs_a_valid_link_and_a_confirmed_booking(client, types):
    booking = _video(types["initial"], OWN_ROOM)
    token = links.manage_token(booking)
    for bad in (token[:-3] + "xyz", "not-a-token"):
        response = client.get(f"/consultations/manage/{bad}/consultation.ics")
        assert response.status_code == 404
        assert "no-store" in response.headers["Cache-Control"]
        assert OWN_ROOM not in response.text
    booking.status = BookingStatus.CANCELLED
    db.session.commit()
    assert client.get(f"/consultations/manage/{token}/consultation.ics").status_code == 404


# --- the usual room, set by staff --------------------------------------------------------

STAFF_ROOM = "https://meet.example.org/dr-brown-clinic"


def _set_usual_room(client, url):
    return client.post("/admin/availability/meeting-room", data={"room-meeting_url": url})


def test_staff_set_the_usual_room_and_a_booking_without_its_own_link_uses_it_everywhere(
    app, client, types, staff_user, mailbox
):
    app.config["BOOKING_MEETING_URL"] = USUAL_ROOM  # the starting default, from the config
    login_staff(client, staff_user)
    page = client.get("/admin/availability")
    assert page.status_code == 200
    assert "Usual video room" in page.text and f'value="{USUAL_ROOM}"' in page.text

    saved = _set_usual_room(client, f"  {STAFF_ROOM} ")
    assert saved.status_code == 303 and saved.location.endswith("/admin/availability")
    assert f'value="{STAFF_ROOM}"' in client.get("/admin/availability").text
    (entry,) = db.session.scalars(select(AuditEntry)).all()
    assert entry.actor_id == staff_user.id and entry.action == "booking.usual_room"
    assert entry.detail == {"url": STAFF_ROOM, "kept_old_room": 0}

    booking = _video(types["initial"])
    own = _video(types["initial"], OWN_ROOM, email="olive@example.com")
    page = unescape(client.get(f"/consultations/manage/{links.manage_token(booking)}?paid=1").text)
    assert f'<a href="{STAFF_ROOM}">{STAFF_ROOM}</a>' in page and USUAL_ROOM not in page
    ics = client.get(f"/consultations/manage/{links.manage_token(booking)}/consultation.ics")
    event = Calendar.from_ical(ics.data).walk("VEVENT")[0]
    assert str(event["location"]) == STAFF_ROOM and str(event["url"]) == STAFF_ROOM

    emails.send_confirmation(booking)
    emails.send_confirmation(own)
    db.session.commit()
    send_due()
    mailbox.wait_for(2)
    (message,) = mailbox.to("vera@example.com")
    assert f"Join the video call: {STAFF_ROOM}" in text_part(message)
    assert str(_attached_event(message)["location"]) == STAFF_ROOM
    (message,) = mailbox.to("olive@example.com")  # her own link still wins
    assert f"Join the video call: {OWN_ROOM}" in text_part(message)


def test_staff_can_say_there_is_no_usual_room(app, client, types, staff_user):
    app.config["BOOKING_MEETING_URL"] = USUAL_ROOM
    login_staff(client, staff_user)
    assert _set_usual_room(client, "").status_code == 303
    booking = _video(types["initial"])
    assert "We will email you the link to join" in emails.how_the_call_happens(booking)
    assert f'value="{USUAL_ROOM}"' not in client.get("/admin/availability").text


@pytest.mark.parametrize(
    "bad", ["http://meet.example.org/room", "meet.example.org/room", "https://a b.example.org/"]
)
def test_a_bad_usual_room_is_refused_with_the_form_back(app, client, types, staff_user, bad):
    app.config["BOOKING_MEETING_URL"] = USUAL_ROOM
    login_staff(client, staff_user)
    refused = _set_usual_room(client, bad)
    assert refused.status_code == 400
    text = unescape(refused.text)
    assert "Please give the meeting link as a full web address starting with https://" in text
    assert f'value="{bad}"' in text and "Weekly hours" in text
    assert db.session.scalars(select(AuditEntry)).all() == []
    booking = _video(types["initial"])
    assert f"Join at {USUAL_ROOM}" in emails.how_the_call_happens(booking)


def test_an_assistant_can_set_the_usual_room_too(app, client, types, assistant):
    login_staff(client, assistant)
    assert _set_usual_room(client, STAFF_ROOM).status_code == 303
    assert f"Join at {STAFF_ROOM}" in emails.how_the_call_happens(_video(types["initial"]))


def test_only_staff_can_set_the_usual_room(client, types):
    assert _set_usual_room(client, STAFF_ROOM).status_code in (302, 401)
    assert db.session.scalars(select(AuditEntry)).all() == []
