"""When staff change one consultation's video link, the client is emailed the new link
(her time, her manage link, the updated calendar entry) after the commit; a link that
did not change, a cancelled or a past consultation emails no one."""

import re
from datetime import timedelta
from html import unescape

import pytest
from icalendar import Calendar
from sqlalchemy import select

from blueprints.booking import changes, emails, links
from blueprints.booking.models import Booking, BookingStatus, CallType
from blueprints.core.outbox import OutboxMessage, OutboxStatus, send_committed
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import free, login_staff, make_confirmed
from tests.conftest import html_part, text_part

ROOM = "https://zoom.us/j/5551234567?pwd=bones"
NEW_ROOM = "https://zoom.us/j/5559876543?pwd=hips"
EMAIL = "vera@example.com"


@pytest.fixture
def staff(client, staff_user):
    login_staff(client, staff_user)
    return client


@pytest.fixture
def booking(types):
    """A confirmed video consultation days ahead, booked from Los Angeles, with its link."""
    ctype = types["initial"]
    slot = next(s for s in free(ctype) if s > utcnow() + timedelta(days=2))
    booking = make_confirmed(ctype, slot, email=EMAIL, zone="America/Los_Angeles")
    booking.call_type = CallType.VIDEO
    booking.meeting_url = ROOM
    db.session.commit()
    return booking


def _post_link(client, booking, url):
    return client.post(
        f"/admin/bookings/{booking.id}/meeting-link",
        data={
            f"meeting-{booking.id}-meeting_url": url,
            f"meeting-{booking.id}-csrf_token": client.csrf_token(),
            "view": "day",
        },
        follow_redirects=True,
    )


def _her_messages():
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == EMAIL)).all()


def _invitation(message):
    (invite,) = [p for p in message.iter_attachments() if p.get_filename() == "invite.ics"]
    return Calendar.from_ical(invite.get_content()).walk("VEVENT")[0]


def test_a_changed_link_emails_her_once_with_the_link_her_time_and_the_updated_entry(
    staff, booking, mailbox
):
    sequence = booking.ics_sequence
    page = _post_link(staff, booking, NEW_ROOM)

    assert page.status_code == 200
    assert f"Saved the meeting link for {booking.name} and emailed {booking.name}" in page.text
    (message,) = mailbox.wait_for(1)
    assert EMAIL in message["To"]
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    her_time = emails.client_time(booking)  # in her zone, the site's one way
    assert "Pacific Time" in her_time and "in New York)" in her_time
    assert her_time in message["Subject"]
    text = text_part(message)
    html = unescape(html_part(message))
    for body in (text, html):
        assert NEW_ROOM in body and ROOM not in body
        assert her_time in body
        # Her manage link (its token carries the second it was signed: compared by what
        # it opens, not character by character).
        (token,) = set(re.findall(r"/consultations/manage/([\w.-]+)", body))
        assert links.booking_from_token(token).id == booking.id
    assert f"Join the video call: {NEW_ROOM}" in text
    assert f'href="{NEW_ROOM}"' in html and "Join the video call</a>" in html
    assert "has changed" in text and "has changed" in html
    # The same calendar entry, moved on one SEQUENCE, now at the new room.
    event = _invitation(message)
    assert str(event["uid"]) == emails.calendar_uid(booking)
    assert event["sequence"] == sequence + 1 == booking.ics_sequence
    assert str(event["location"]) == NEW_ROOM
    # Sent from the outbox once the change was committed.
    (row,) = _her_messages()
    assert row.status == OutboxStatus.SENT
    assert len(mailbox.messages) == 1


def test_the_email_goes_only_after_the_commit(app, booking, staff_user, mailbox):
    assert changes.change_meeting_link(booking, NEW_ROOM, actor=staff_user) == (True, True)
    db.session.rollback()  # the view failed before its commit
    assert send_committed().sent == 0
    assert _her_messages() == [] and mailbox.messages == []
    assert db.session.get(Booking, booking.id).meeting_url == ROOM


def test_the_same_link_again_emails_no_one(staff, booking, mailbox):
    page = _post_link(staff, booking, ROOM)
    assert "meeting link was already that; nothing changed" in page.text
    assert _her_messages() == [] and mailbox.messages == []


@pytest.mark.parametrize("state", ["cancelled", "past"])
def test_a_cancelled_or_past_consultation_gets_no_email(staff, booking, mailbox, state):
    if state == "cancelled":
        booking.status = BookingStatus.CANCELLED
    else:
        earlier = utcnow() - timedelta(days=1)
        booking.starts_at, booking.ends_at = earlier, earlier + timedelta(minutes=60)
        booking.buffer_ends_at = booking.ends_at
    db.session.commit()
    sequence = booking.ics_sequence

    page = _post_link(staff, booking, NEW_ROOM)

    assert f"Saved the meeting link for {booking.name}." in page.text
    assert "emailed" not in page.text
    db.session.expire_all()
    saved = db.session.get(Booking, booking.id)
    assert saved.meeting_url == NEW_ROOM and saved.ics_sequence == sequence
    assert _her_messages() == [] and mailbox.messages == []


@pytest.mark.parametrize(
    ("usual", "emailed"),
    [(ROOM, False), (NEW_ROOM, True), (None, True)],
    ids=["usual-room-is-the-same", "usual-room-differs", "no-usual-room"],
)
def test_clearing_her_link_emails_her_only_when_the_link_she_joins_by_changes(
    app, staff, booking, mailbox, usual, emailed
):
    app.config["BOOKING_MEETING_URL"] = usual
    page = _post_link(staff, booking, "")

    assert page.status_code == 200
    assert ("emailed" in page.text) is emailed
    assert len(_her_messages()) == int(emailed)
    if emailed:
        (message,) = mailbox.wait_for(1)
        text = text_part(message)
        assert ROOM not in text
        if usual:
            assert f"Join the video call: {usual}" in text
        else:
            assert "We will email you the new one before the call." in text
    else:
        assert mailbox.messages == []


def test_her_first_video_link_is_sent_as_her_link_not_as_a_change(app, staff, booking, mailbox):
    """She had no link yet (no room of her own, no usual room): the email gives her
    the link, and says nothing "has changed"."""
    app.config["BOOKING_MEETING_URL"] = None
    booking.meeting_url = None
    db.session.commit()

    page = _post_link(staff, booking, NEW_ROOM)

    assert "emailed" in page.text
    (message,) = mailbox.wait_for(1)
    assert message["Subject"].startswith("Your video link for your consultation")
    text, html = text_part(message), unescape(html_part(message))
    for body in (text, html):
        assert "Here is the video link for your" in body
        assert "has changed" not in body and "no longer works" not in body
    assert f"Join the video call: {NEW_ROOM}" in text
    assert "adds the link to the entry in your calendar" in text
