"""Reminders go out once, about a day ahead; staff manage hours and the schedule."""

import threading
from datetime import timedelta

from sqlalchemy import func, select

from blueprints.booking import holds, policy, services
from blueprints.booking.models import (
    BlockedTime,
    Booking,
    BookingStatus,
    DateOverride,
    WeeklyHours,
)
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import free, login_staff, make_confirmed
from tests.conftest import text_part
from tests.stripe_fake import stripe_requests


def _booking_starting_in(ctype, hours, email):
    start = (utcnow() + timedelta(hours=hours)).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 15)
    booking = make_confirmed(ctype, free(ctype)[0] + timedelta(days=0), email=email)
    booking.starts_at = start
    booking.ends_at = start + ctype.duration
    booking.buffer_ends_at = booking.ends_at + ctype.buffer
    db.session.commit()
    return booking


def test_send_reminders_command_sends_each_reminder_once(runner, types, mailbox):
    ctype = types["follow_up"]
    due = _booking_starting_in(ctype, 23.9, "due@example.com")
    later = make_confirmed(ctype, free(ctype)[-1], email="later@example.com")
    result = runner.invoke(args=["bookings", "send-reminders"])
    assert result.exit_code == 0, result.output
    assert "Queued 1 reminder" in result.output
    mailbox.wait_for(1)
    (message,) = mailbox.messages
    assert "due@example.com" in message["To"]
    body = text_part(message)
    assert "UK time (" in body and " in New York)" in body and "Europe/London" not in body
    assert policy.cancellation_policy() in body.replace("\n", " ")
    # Run again: nothing new.
    again = runner.invoke(args=["bookings", "send-reminders"])
    assert "Queued 0 reminder" in again.output
    db.session.expire_all()
    assert db.session.get(Booking, due.id).reminder_sent_at is not None
    assert db.session.get(Booking, later.id).reminder_sent_at is None
    assert len(mailbox.messages) == 1


def test_two_reminder_runs_at_once_send_one_email(app, types, mailbox):
    ctype = types["follow_up"]
    _booking_starting_in(ctype, 20, "once@example.com")
    barrier = threading.Barrier(2)
    counts = []

    def run():
        with app.app_context():
            barrier.wait()
            counts.append(services.send_reminders())
            db.session.commit()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(counts) == [0, 1]


def test_staff_pages_need_staff(client, types):
    assert client.get("/admin/schedule").status_code in (302, 401)
    assert client.post("/admin/availability/hours", data={}).status_code in (302, 401)


def test_staff_schedule_shows_intake_answers_by_day_and_week(client, staff_user, types):
    booking = make_confirmed(types["initial"], free(types["initial"])[3])
    booking.t_scores = "spine -2.9"
    booking.goals = "Stronger hips"
    db.session.commit()
    login_staff(client, staff_user)
    day = booking.starts_at.astimezone(practitioner_zone()).date()
    page = client.get(f"/admin/schedule?day={day.isoformat()}")
    assert page.status_code == 200
    assert "spine -2.9" in page.text and "Stronger hips" in page.text and booking.name in page.text
    assert "held (client), new &rarr; held" in page.text  # the booking's history
    week = client.get(f"/admin/schedule?day={day.isoformat()}&view=week")
    assert "spine -2.9" in week.text
    other = client.get(f"/admin/schedule?day={(day + timedelta(days=14)).isoformat()}")
    assert "spine -2.9" not in other.text


def test_staff_cancel_with_refund_and_without(client, staff_user, types, stripe_api, mailbox):
    slots = free(types["follow_up"])
    refunded = make_confirmed(types["follow_up"], slots[2], email="a@example.com")
    kept = make_confirmed(types["follow_up"], slots[8], email="b@example.com")
    login_staff(client, staff_user)
    client.post(f"/admin/bookings/{refunded.id}/cancel", data={"refund": "yes", "confirm": "yes"})
    client.post(f"/admin/bookings/{kept.id}/cancel", data={"refund": "no", "confirm": "yes"})
    db.session.expire_all()
    a, b = db.session.get(Booking, refunded.id), db.session.get(Booking, kept.id)
    assert a.status == b.status == BookingStatus.CANCELLED
    assert a.refunded_cents == 15000 and b.refunded_cents == 0
    assert len(stripe_requests(stripe_api, "/v1/refunds")) == 1
    assert slots[2] in free(types["follow_up"]) and slots[8] in free(types["follow_up"])
    assert [e.actor for e in a.events][-1] == "staff"


def test_staff_marks_no_show_only_after_start(client, staff_user, types):
    booking = make_confirmed(types["follow_up"], free(types["follow_up"])[0])
    login_staff(client, staff_user)
    client.post(f"/admin/bookings/{booking.id}/no-show", data={})
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == BookingStatus.CONFIRMED
    past = utcnow() - timedelta(hours=2)
    booking = db.session.get(Booking, booking.id)
    booking.starts_at, booking.ends_at, booking.buffer_ends_at = (
        past,
        past + timedelta(minutes=30),
        past + timedelta(minutes=45),
    )
    db.session.commit()
    client.post(f"/admin/bookings/{booking.id}/no-show", data={})
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.status == BookingStatus.NO_SHOW
    assert [e.kind for e in booking.events][-1] == "no_show"


def test_staff_edits_hours_overrides_and_blocks(client, staff_user, types):
    login_staff(client, staff_user)
    page = client.get("/admin/availability")
    assert page.status_code == 200 and "Tuesday" in page.text
    client.post(
        "/admin/availability/hours",
        data={"hours-weekday": "4", "hours-start_time": "10:00", "hours-end_time": "12:00"},
    )
    assert (
        db.session.scalar(
            select(func.count()).select_from(WeeklyHours).where(WeeklyHours.weekday == 4)
        )
        == 1
    )
    bad = client.post(
        "/admin/availability/hours",
        data={"hours-weekday": "4", "hours-start_time": "12:00", "hours-end_time": "10:00"},
    )
    assert bad.status_code == 400 and "The end must be after the start" in bad.text
    target = utcnow().date() + timedelta(days=10)
    client.post(
        "/admin/availability/overrides",
        data={
            "override-on_date": target.isoformat(),
            "override-day_off": "y",
            "override-note": "Holiday",
        },
    )
    override = db.session.scalar(select(DateOverride))
    assert override.on_date == target and override.is_day_off
    client.post(
        "/admin/availability/blocks",
        data={
            "block-on_date": target.isoformat(),
            "block-start_time": "09:00",
            "block-end_time": "11:00",
            "block-reason": "Dentist",
        },
    )
    block = db.session.scalar(select(BlockedTime))
    assert block.ends_at - block.starts_at == timedelta(hours=2)
    assert block.starts_at.astimezone(practitioner_zone()).hour == 9
    client.post(f"/admin/availability/blocks/{block.id}/delete", data={})
    assert db.session.scalar(select(func.count()).select_from(BlockedTime)) == 0
    assert client.get("/admin/availability").status_code == 200


def test_release_expired_command_frees_timed_out_holds(runner, types):
    ctype = types["follow_up"]
    slot = free(ctype)[0]
    details = dict(
        name="A", email="a@example.com", phone="+1 555", client_timezone="UTC", call_type="phone"
    )
    held = holds.hold_slot(ctype, slot, details)
    held.hold_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    result = runner.invoke(args=["bookings", "release-expired"])
    assert "Released 1 expired hold" in result.output
    db.session.expire_all()
    booking = db.session.get(Booking, held.id)
    assert booking.status == BookingStatus.EXPIRED
    assert [e.kind for e in booking.events][-1] == "hold_expired"
