"""Cancelling a consultation by role: an assistant cannot refund more than
ASSISTANT_REFUND_LIMIT_CENTS of a booking (refused before anything changes, a 403 page,
the button hidden); she can cancel without a refund. Staff changes are audited."""

import pytest
from sqlalchemy import func, select

from blueprints.account.roles import NotAllowed
from blueprints.booking import changes
from blueprints.booking.models import Booking, BookingStatus, WeeklyHours
from blueprints.core.models import AuditEntry, OutboxMessage
from blueprints.core.timezones import format_when, practitioner_zone
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import free, login_staff, make_confirmed
from tests.stripe_fake import stripe_requests

pytestmark = pytest.mark.usefixtures("each_request_loads_its_own_user")


def _booking(booking_id):
    db.session.expire_all()
    return db.session.get(Booking, booking_id)


def test_an_assistant_cancel_with_a_refund_above_the_limit_is_refused_by_the_service(
    assistant, types, stripe_api
):
    booking = make_confirmed(types["follow_up"], free(types["follow_up"])[2])  # $150 paid
    with pytest.raises(NotAllowed, match="ask the owner"):
        changes.cancel_booking(booking, actor=assistant, refund=True)
    db.session.rollback()
    assert _booking(booking.id).status == BookingStatus.CONFIRMED
    assert not stripe_requests(stripe_api, "/v1/refunds")


def test_an_assistant_cancel_with_a_refund_above_the_limit_is_a_403_and_changes_nothing(
    client, assistant, types, stripe_api, mailbox
):
    booking = make_confirmed(types["follow_up"], free(types["follow_up"])[2])
    login_staff(client, assistant)
    day = booking.starts_at.date().isoformat()
    page = client.get(f"/admin/schedule?day={day}").get_data(as_text=True)
    assert "Cancel without refund" in page and "Cancel and refund" not in page

    response = client.post(f"/admin/bookings/{booking.id}/cancel", data={"refund": "yes"})
    assert response.status_code == 403
    assert "An assistant can refund up to $100.00" in response.get_data(as_text=True)
    booking = _booking(booking.id)
    assert booking.status == BookingStatus.CONFIRMED and booking.refunded_cents == 0
    assert not stripe_requests(stripe_api, "/v1/refunds")
    assert db.session.scalars(select(AuditEntry)).all() == []


def test_an_assistant_cancels_without_a_refund_and_within_her_limit(
    app, client, assistant, types, stripe_api, mailbox
):
    slots = free(types["follow_up"])
    kept = make_confirmed(types["follow_up"], slots[2], email="a@example.com")
    login_staff(client, assistant)
    assert (
        client.post(
            f"/admin/bookings/{kept.id}/cancel", data={"refund": "no", "confirm": "yes"}
        ).status_code
        == 303
    )
    app.config["ASSISTANT_REFUND_LIMIT_CENTS"] = 15000
    refunded = make_confirmed(types["follow_up"], slots[8], email="b@example.com")
    client.post(f"/admin/bookings/{refunded.id}/cancel", data={"refund": "yes", "confirm": "yes"})
    assert _booking(kept.id).refunded_cents == 0
    assert _booking(refunded.id).refunded_cents == 15000
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.actor_id, e.action, e.record_id, e.detail["refunded_cents"]) for e in entries] == [
        (assistant.id, "booking.cancel", kept.id, 0),
        (assistant.id, "booking.cancel", refunded.id, 15000),
    ]


def test_the_owner_cancels_with_any_refund_and_marks_a_no_show_audited(
    client, staff_user, types, stripe_api, mailbox
):
    slots = free(types["initial"])
    booking = make_confirmed(types["initial"], slots[0])  # $350 paid
    login_staff(client, staff_user)
    client.post(f"/admin/bookings/{booking.id}/cancel", data={"refund": "yes", "confirm": "yes"})
    assert _booking(booking.id).refunded_cents == 35000

    missed = make_confirmed(types["initial"], slots[4], email="c@example.com")
    past = utcnow()
    missed.starts_at = past
    db.session.commit()
    client.post(f"/admin/bookings/{missed.id}/no-show", data={})
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.actor_id, e.action, e.record_id) for e in entries] == [
        (staff_user.id, "booking.cancel", booking.id),
        (staff_user.id, "booking.no_show", missed.id),
    ]


def test_a_cancel_on_behalf_of_staff_must_name_the_account(types):
    booking = make_confirmed(types["follow_up"], free(types["follow_up"])[2])
    with pytest.raises(ValueError):
        changes.cancel_booking(booking, actor="staff", refund=True)


def test_availability_changes_are_audited_under_their_actor(client, assistant, types):
    login_staff(client, assistant)
    client.post(
        "/admin/availability/hours",
        data={"hours-weekday": "4", "hours-start_time": "09:00", "hours-end_time": "12:00"},
    )
    [added] = db.session.scalars(select(WeeklyHours).where(WeeklyHours.weekday == 4)).all()
    client.post(f"/admin/availability/hours/{added.id}/delete", data={})
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.actor_id, e.action, e.record_type, e.record_id) for e in entries] == [
        (assistant.id, "availability.add", "weekly_hours", added.id),
        (assistant.id, "availability.remove", "weekly_hours", added.id),
    ]
    assert entries[0].detail == {"weekday": 4, "from": "09:00:00", "to": "12:00:00"}


def _emails_to(address):
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.to_address == address)
    )


def test_a_staff_cancel_asks_first_and_the_first_post_changes_nothing(
    client, staff_user, types, stripe_api, mailbox
):
    booking = make_confirmed(types["initial"], free(types["initial"])[0])  # $350 paid
    emails_before = _emails_to("client@example.com")
    login_staff(client, staff_user)

    response = client.post(f"/admin/bookings/{booking.id}/cancel", data={"refund": "yes"})

    assert response.status_code == 200
    page = response.get_data(as_text=True).replace("&#39;", "'")
    when = format_when(booking.starts_at, practitioner_zone())
    assert f"Cancel Client Example's consultation on {when} and refund $350.00?" in page
    assert "She is emailed." in page and "No, go back" in page
    assert 'name="refund" value="yes"' in page and 'name="confirm" value="yes"' in page
    assert _booking(booking.id).status == BookingStatus.CONFIRMED
    assert not stripe_requests(stripe_api, "/v1/refunds")
    assert db.session.scalars(select(AuditEntry)).all() == []
    assert _emails_to("client@example.com") == emails_before

    without = client.post(f"/admin/bookings/{booking.id}/cancel", data={"refund": "no"})
    assert without.status_code == 200
    assert "without a refund? She is emailed." in without.get_data(as_text=True)
    assert _booking(booking.id).status == BookingStatus.CONFIRMED


def test_a_confirmed_cancel_sent_twice_cancels_refunds_and_emails_once(
    client, staff_user, types, stripe_api, mailbox
):
    booking = make_confirmed(types["initial"], free(types["initial"])[0])
    emails_before = _emails_to("client@example.com")
    login_staff(client, staff_user)
    data = {"refund": "yes", "confirm": "yes"}

    first = client.post(f"/admin/bookings/{booking.id}/cancel", data=data)
    second = client.post(f"/admin/bookings/{booking.id}/cancel", data=data, follow_redirects=True)

    assert first.status_code == 303
    assert "already cancelled" in second.get_data(as_text=True)
    booking = _booking(booking.id)
    assert booking.status == BookingStatus.CANCELLED and booking.refunded_cents == 35000
    assert len(stripe_requests(stripe_api, "/v1/refunds")) == 1
    assert [e.action for e in db.session.scalars(select(AuditEntry))] == ["booking.cancel"]
    assert _emails_to("client@example.com") == emails_before + 1


def test_an_assistant_is_told_only_the_owner_can_refund_a_booking_over_her_limit(
    client, assistant, types, stripe_api, mailbox
):
    booking = make_confirmed(types["follow_up"], free(types["follow_up"])[2])  # $150 paid
    login_staff(client, assistant)
    day = booking.starts_at.astimezone(practitioner_zone()).date().isoformat()
    page = client.get(f"/admin/schedule?day={day}").get_data(as_text=True)
    assert "Cancel and refund" not in page
    assert "Only the owner can refund this consultation" in page
