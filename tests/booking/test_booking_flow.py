"""Booking end to end with a fake Stripe: hold, pay, confirm, emails, changes, refunds."""

import re
from datetime import timedelta
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from blueprints.booking import changes, display, holds, links, policy, services
from blueprints.booking.errors import ChangeRefused
from blueprints.booking.models import (
    Booking,
    BookingEvent,
    BookingSlotClaim,
    BookingStatus,
)
from blueprints.core.states import InvalidTransition, StatusRefused, change_status, claim_status
from blueprints.core.timezones import format_when
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import booking_count, form_data, free, make_confirmed, pay_booking
from tests.conftest import html_part, text_part
from tests.stripe_fake import make_event, post_event, stripe_requests


def _first_slot(ctype, days_ahead=3):
    slots = free(ctype)
    return next(s for s in slots if s > utcnow() + timedelta(days=days_ahead))


def _book(client, ctype, slot, **overrides):
    return client.post(
        f"/consultations/{ctype.slug}/book", data=form_data(display.slot_value(slot), **overrides)
    )


def _invite(message):
    for part in message.iter_attachments():
        if part.get_filename() == "invite.ics":
            return part
    raise AssertionError("no invite.ics attached")


def test_index_and_times_pages_list_types_and_times_in_the_readers_zone(client, types):
    index = client.get("/consultations/")
    assert "Initial consultation" in index.text and "$350.00" in index.text
    assert policy.cancellation_policy() in index.text
    client.set_cookie("tz", "Europe/London")
    page = client.get("/consultations/initial-consultation/")
    assert page.status_code == 200
    slot = _first_slot(types["initial"], 1)
    assert display.slot_value(slot) in page.text
    local = slot.astimezone(__import__("zoneinfo").ZoneInfo("Europe/London"))
    assert f"{local.hour % 12 or 12}:{local:%M}" in page.text
    assert "in New York" in page.text


def test_zone_selector_sets_cookie_without_javascript(client, types):
    response = client.post(
        "/consultations/timezone",
        data={"tz": "Europe/London", "next": "/consultations/initial-consultation/"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/consultations/initial-consultation/")
    assert "tz=Europe/London" in response.headers["Set-Cookie"]
    page = client.get("/consultations/initial-consultation/")
    assert 'value="Europe/London" selected' in page.text


def test_zone_selector_refuses_unknown_zone_and_offsite_next(client, types):
    response = client.post(
        "/consultations/timezone", data={"tz": "Mars/Base", "next": "//evil.example"}
    )
    assert response.status_code == 303
    assert "evil.example" not in response.headers["Location"]
    assert "Set-Cookie" not in response.headers or "tz=" not in response.headers["Set-Cookie"]


def test_booking_form_shows_time_in_both_zones(client, types):
    client.set_cookie("tz", "Europe/London")
    slot = _first_slot(types["initial"])
    page = client.get(f"/consultations/initial-consultation/book?slot={display.slot_value(slot)}")
    assert page.status_code == 200
    assert "UK time (" in page.text and "in New York)" in page.text
    assert "Europe/London</" not in page.text  # the zone is named, never shown as its id
    assert policy.cancellation_policy() in page.text


def test_numbers_on_the_pages_come_from_the_policy(client, types, monkeypatch):
    monkeypatch.setattr(policy, "HOLD_MINUTES", 45)
    monkeypatch.setattr(policy, "FREE_CHANGE_HOURS", 72)
    slot = _first_slot(types["initial"], 5)
    page = client.get(f"/consultations/initial-consultation/book?slot={display.slot_value(slot)}")
    assert "We hold this time for you for 45 minutes" in page.text
    assert "free of charge up to 72 hours before it starts" in page.text


def test_booking_holds_the_time_and_redirects_to_checkout(client, types, stripe_api):
    slot = _first_slot(types["initial"])
    response = _book(client, types["initial"], slot)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    booking = db.session.scalar(select(Booking))
    assert booking.status == BookingStatus.HELD
    assert booking.starts_at == slot and booking.ends_at == slot + timedelta(hours=1)
    assert booking.hold_expires_at > utcnow() + timedelta(minutes=29)
    assert booking.t_scores == "spine -2.6, hip -2.1" and booking.client_timezone == "Europe/London"
    assert booking.stripe_session_id.startswith("cs_test_")
    cells = db.session.scalars(
        select(BookingSlotClaim.slot_start).order_by(BookingSlotClaim.slot_start)
    ).all()
    assert cells[0] == slot and len(cells) == 6  # 60 minutes + 30 buffer, 15-minute cells
    sent = parse_qs(stripe_requests(stripe_api, "/v1/checkout/sessions")[0].get_data(as_text=True))
    assert sent["metadata[kind]"] == ["booking"] and sent["metadata[id]"] == [str(booking.id)]
    # Her name goes with the session only (the emulator's page starts with it), not with
    # the payment intent, whose metadata the webhook reads.
    assert sent["metadata[customer_name]"] == ["Margaret Hill"]
    assert "payment_intent_data[metadata][customer_name]" not in sent
    assert sent["line_items[0][price_data][unit_amount]"] == ["35000"]
    expires = int(sent["expires_at"][0])
    assert 30 * 60 <= expires - utcnow().timestamp() <= 31 * 60
    assert slot not in free(types["initial"])


def test_stripe_error_releases_the_hold_at_once(client, types, httpserver):
    httpserver.expect_request("/v1/checkout/sessions", method="POST").respond_with_json(
        {"error": {"type": "api_error", "message": "boom"}}, status=500
    )
    slot = _first_slot(types["follow_up"])
    response = _book(client, types["follow_up"], slot)
    assert response.status_code == 503
    assert "could not start the payment" in response.text
    assert 'value="Margaret Hill"' in response.text  # what she typed is kept
    booking = db.session.scalar(select(Booking))
    assert booking.status == BookingStatus.RELEASED
    assert db.session.scalar(select(func.count()).select_from(BookingSlotClaim)) == 0
    assert slot in free(types["follow_up"])


def _confirm_through_webhook(client, stripe_api, booking):
    response = post_event(
        client, make_event("checkout.session.completed", pay_booking(stripe_api, booking))
    )
    assert response.status_code == 200, response.text
    db.session.expire_all()
    return db.session.get(Booking, booking.id)


def test_paid_webhook_confirms_and_emails_both_zones_with_ics(client, types, stripe_api, mailbox):
    slot = _first_slot(types["initial"])
    _book(client, types["initial"], slot, email="margaret@example.com")
    booking = db.session.scalar(select(Booking))
    booking = _confirm_through_webhook(client, stripe_api, booking)
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.paid_cents == 35000 and booking.stripe_payment_intent_id.startswith("pi_test_")
    kinds = [e.kind for e in booking.events]
    assert kinds[:3] == ["held", "checkout_started", "paid"] and "confirmed" in kinds

    mailbox.wait_for(1)
    (message,) = mailbox.to("margaret@example.com")
    body = text_part(message)
    # One way to write a time: her zone first, Dr. Brown's clock after; no zone id.
    assert f"When: {format_when(slot, 'Europe/London', 'America/New_York')}" in body
    assert "UK time (" in body and " in New York)" in body and "Europe/London" not in body
    assert "UK time (" in message["Subject"]
    assert policy.cancellation_policy() in body.replace("\n", " ")
    assert "Dr. Brown will call you at +44 20 7946 0000" in body
    assert "/consultations/manage/" in html_part(message)

    invite = _invite(message)
    assert invite.get_content_type() == "text/calendar"
    assert invite.get_param("method") == "REQUEST"
    calendar = Calendar.from_ical(invite.get_content())
    assert str(calendar["method"]) == "REQUEST"
    event = calendar.walk("VEVENT")[0]
    assert event.decoded("dtstart") == slot and event.decoded("dtstart").tzinfo is not None
    assert event.decoded("dtstart").utcoffset() == timedelta(0)
    assert event.decoded("dtend") == slot + timedelta(hours=1)
    assert str(event["uid"]) == f"consultation-{booking.public_id}@localhost"
    assert int(event["sequence"]) == 0

    # A second delivery of the same event changes nothing and sends nothing more.
    again = post_event(
        client, make_event("checkout.session.completed", pay_booking(stripe_api, booking))
    )
    assert again.status_code == 200
    assert len(mailbox.messages) == 1


def test_manage_page_after_payment_shows_confirmed_booking(client, types, stripe_api):
    slot = _first_slot(types["initial"])
    response = _book(client, types["initial"], slot)
    booking = db.session.scalar(select(Booking))
    token = links.manage_token(booking)
    waiting = client.get(f"/consultations/manage/{token}?paid=1")
    assert "confirming your payment" in waiting.text
    _confirm_through_webhook(client, stripe_api, booking)
    page = client.get(f"/consultations/manage/{token}")
    assert "Confirmed" in page.text and policy.cancellation_policy() in page.text
    assert page.headers["Cache-Control"] == "private, no-store"
    assert response.status_code == 303


def test_checkout_expired_webhook_releases_the_time(client, types, stripe_api):
    slot = _first_slot(types["follow_up"])
    _book(client, types["follow_up"], slot)
    booking = db.session.scalar(select(Booking))
    obj = {
        "id": booking.stripe_session_id,
        "object": "checkout.session",
        "metadata": {"kind": "booking", "id": str(booking.id)},
    }
    assert post_event(client, make_event("checkout.session.expired", obj)).status_code == 200
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == BookingStatus.EXPIRED
    assert slot in free(types["follow_up"])


def test_late_payment_after_time_was_retaken_is_flagged_and_refunded(
    client, types, stripe_api, mailbox
):
    ctype = types["follow_up"]
    slot = _first_slot(ctype)
    _book(client, ctype, slot, email="first@example.com")
    first = db.session.scalar(select(Booking))
    # Her hold runs out; someone else takes the same time.
    first.hold_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert _book(client, ctype, slot, email="second@example.com").status_code == 303
    second = db.session.scalar(select(Booking).where(Booking.email == "second@example.com"))
    _confirm_through_webhook(client, stripe_api, second)
    # Now the first client's payment arrives.
    late = _confirm_through_webhook(client, stripe_api, first)
    assert late.status == BookingStatus.EXPIRED
    assert late.refunded_cents == late.paid_cents == 15000
    assert late.stripe_refund_id.startswith("re_test_")
    assert "refunded" in late.needs_attention
    refunds = stripe_requests(stripe_api, "/v1/refunds")
    assert len(refunds) == 1
    sent = parse_qs(refunds[0].get_data(as_text=True))
    assert sent["payment_intent"] == [late.stripe_payment_intent_id] and sent["amount"] == ["15000"]
    assert refunds[0].headers["Idempotency-Key"] == f"booking-{late.public_id}-late-refund"
    live = db.session.scalars(
        select(Booking).where(Booking.status == BookingStatus.CONFIRMED)
    ).all()
    assert [b.email for b in live] == ["second@example.com"]
    mailbox.wait_for(2)
    (notice,) = mailbox.to("first@example.com")
    assert "refunded" in text_part(notice)


def test_late_payment_is_honoured_when_the_time_is_still_free(client, types, stripe_api):
    ctype = types["follow_up"]
    slot = _first_slot(ctype)
    _book(client, ctype, slot)
    booking = db.session.scalar(select(Booking))
    booking.hold_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    holds.release_expired_holds()
    db.session.commit()
    confirmed = _confirm_through_webhook(client, stripe_api, booking)
    assert confirmed.status == BookingStatus.CONFIRMED and confirmed.refunded_cents == 0
    assert stripe_requests(stripe_api, "/v1/refunds") == []
    assert slot not in free(ctype)


def test_client_cancels_in_time_and_is_refunded_with_cancel_invite(
    client, types, stripe_api, mailbox
):
    booking = make_confirmed(
        types["initial"], _first_slot(types["initial"], 5), email="c@example.com"
    )
    token = links.manage_token(booking)
    confirm = client.get(f"/consultations/manage/{token}/cancel")
    assert "we will refund $350.00" in confirm.text
    db.session.expire_all()
    assert (
        db.session.get(Booking, booking.id).status == BookingStatus.CONFIRMED
    )  # GET changes nothing
    response = client.post(f"/consultations/manage/{token}/cancel", data={})
    assert response.status_code == 303
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.status == BookingStatus.CANCELLED
    assert booking.refunded_cents == 35000
    assert db.session.scalar(select(func.count()).select_from(BookingSlotClaim)) == 0
    assert len(stripe_requests(stripe_api, "/v1/refunds")) == 1
    mailbox.wait_for(1)
    (message,) = mailbox.to("c@example.com")
    invite = _invite(message)
    assert invite.get_param("method") == "CANCEL"
    calendar = Calendar.from_ical(invite.get_content())
    assert str(calendar["method"]) == "CANCEL"
    event = calendar.walk("VEVENT")[0]
    assert str(event["uid"]) == f"consultation-{booking.public_id}@localhost"
    assert int(event["sequence"]) == 1
    assert "$350.00" in text_part(message)


def test_late_cancellation_gets_no_refund(client, types, stripe_api):
    booking = make_confirmed(types["follow_up"], _first_slot(types["follow_up"], 1))
    # Move it to 30 hours from now (inside the 48-hour window) directly in the table.
    start = utcnow().replace(second=0, microsecond=0) + timedelta(hours=30)
    booking.starts_at, booking.ends_at, booking.buffer_ends_at = (
        start,
        start + timedelta(minutes=30),
        start + timedelta(minutes=45),
    )
    db.session.commit()
    token = links.manage_token(booking)
    page = client.get(f"/consultations/manage/{token}/cancel")
    assert "Yes, cancel without a refund" in page.text and "no refund" in page.text
    client.post(f"/consultations/manage/{token}/cancel", data={})
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.status == BookingStatus.CANCELLED and booking.refunded_cents == 0
    assert stripe_requests(stripe_api, "/v1/refunds") == []
    refused = client.get(f"/consultations/manage/{token}/reschedule")
    assert refused.status_code == 409


def test_client_reschedules_same_uid_higher_sequence(client, types, stripe_api, mailbox):
    ctype = types["initial"]
    # A time with another free time thirty minutes later (not the day's last one, which
    # the hour of the day the test runs at could otherwise pick).
    slots = free(ctype)
    old = next(
        s for s in slots if s > utcnow() + timedelta(days=5) and s + timedelta(minutes=30) in slots
    )
    booking = make_confirmed(ctype, old, email="r@example.com")
    booking.reminder_sent_at = utcnow()
    db.session.commit()
    token = links.manage_token(booking)
    # Thirty minutes later overlaps her own booking: allowed, since it moves.
    new = old + timedelta(minutes=30)
    day = new.astimezone(ZoneInfo("America/New_York")).date()
    page = client.get(
        f"/consultations/manage/{token}/reschedule",
        query_string={"month": f"{day:%Y-%m}", "day": day.isoformat()},
    )
    assert page.status_code == 200
    assert display.slot_value(new) in page.text
    response = client.post(
        f"/consultations/manage/{token}/reschedule", data={"slot": display.slot_value(new)}
    )
    assert response.status_code == 303
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.starts_at == new and booking.status == BookingStatus.CONFIRMED
    assert booking.reminder_sent_at is None and booking.ics_sequence == 1
    cells = db.session.scalars(select(BookingSlotClaim.slot_start)).all()
    assert min(cells) == new and len(cells) == 6
    assert old not in cells
    mailbox.wait_for(1)
    calendar = Calendar.from_ical(_invite(mailbox.to("r@example.com")[0]).get_content())
    event = calendar.walk("VEVENT")[0]
    assert str(event["uid"]) == f"consultation-{booking.public_id}@localhost"
    assert int(event["sequence"]) == 1 and event.decoded("dtstart") == new
    assert [e.kind for e in booking.events][-1] == "rescheduled"


def test_reschedule_to_taken_or_invalid_time_changes_nothing(client, types, stripe_api):
    ctype = types["follow_up"]
    slots = [s for s in free(ctype) if s > utcnow() + timedelta(days=4)]
    mine = make_confirmed(ctype, slots[0])
    other = make_confirmed(ctype, slots[4], email="other@example.com")
    token = links.manage_token(mine)
    for bad in (
        display.slot_value(other.starts_at),
        "2026-13-01T00:00:00Z",
        display.slot_value(slots[0] + timedelta(minutes=7)),
    ):
        response = client.post(f"/consultations/manage/{token}/reschedule", data={"slot": bad})
        assert response.status_code in (409, 422), bad
        assert "not available" in response.text or "someone booked" in response.text
    db.session.expire_all()
    assert db.session.get(Booking, mine.id).starts_at == slots[0]


# --- bad input ----------------------------------------------------------------------------


def test_unknown_type_is_404_and_stores_nothing(client, types):
    response = client.post(
        "/consultations/no-such-type/book", data=form_data("2026-12-02T15:00:00Z")
    )
    assert response.status_code == 404
    assert booking_count() == 0


@pytest.mark.parametrize(
    "slot",
    [
        "",
        "not-a-date",
        "2026-12-02T15:07:00Z",
        "2026-12-02T15:00:00",
        "1999-01-05T14:00:00Z",
        "2099-01-06T14:00:00Z",
    ],
)
def test_tampered_slot_is_refused_with_alternatives(client, types, stripe_api, slot):
    response = client.post("/consultations/follow-up-call/book", data=form_data(slot))
    assert response.status_code == 422
    assert "That time is not available" in response.text
    assert 'id="alternatives"' in response.text
    assert booking_count() == 0


def test_missing_consent_keeps_form_and_stores_nothing(client, types, stripe_api):
    slot = _first_slot(types["follow_up"])
    data = form_data(display.slot_value(slot))
    del data["accept_policy"]
    response = client.post("/consultations/follow-up-call/book", data=data)
    assert response.status_code == 400
    assert "Please accept the cancellation policy" in response.text
    assert 'value="Margaret Hill"' in response.text and "Wrist, 2019" in response.text
    assert booking_count() == 0 and stripe_requests(stripe_api, "/v1/checkout/sessions") == []


def test_bad_email_and_unknown_call_type_are_refused(client, types, stripe_api):
    slot = display.slot_value(_first_slot(types["follow_up"]))
    response = client.post(
        "/consultations/follow-up-call/book", data=form_data(slot, email="margaret@")
    )
    assert response.status_code == 400 and "Please check your email address" in response.text
    assert 'aria-invalid="true"' in response.text
    response = client.post(
        "/consultations/follow-up-call/book", data=form_data(slot, call_type="video")
    )
    assert response.status_code == 400  # the follow-up is by phone only
    assert booking_count() == 0


def test_form_without_csrf_token_is_refused(client, types, stripe_api):
    slot = display.slot_value(_first_slot(types["follow_up"]))
    response = client.post("/consultations/follow-up-call/book", data=form_data(slot), csrf=False)
    assert response.status_code == 400
    assert booking_count() == 0


def test_altered_manage_link_is_400_and_changes_nothing(client, types, stripe_api):
    booking = make_confirmed(types["follow_up"], _first_slot(types["follow_up"], 5))
    token = links.manage_token(booking)
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/consultations/manage/{altered}").status_code == 400
    response = client.post(f"/consultations/manage/{altered}/cancel", data={})
    assert response.status_code == 400 and "has been changed" in response.text
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == BookingStatus.CONFIRMED


def test_expired_manage_link_gives_clear_message_and_changes_nothing(
    client, types, stripe_api, monkeypatch
):
    booking = make_confirmed(types["follow_up"], _first_slot(types["follow_up"], 5))
    token = links.manage_token(booking)
    monkeypatch.setattr(links, "MANAGE_LINK_MAX_AGE", timedelta(seconds=-1))
    page = client.get(f"/consultations/manage/{token}")
    assert page.status_code == 410 and "This link has expired" in page.text
    response = client.post(f"/consultations/manage/{token}/cancel", data={})
    assert response.status_code == 410
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == BookingStatus.CONFIRMED


def test_state_machine_refuses_impossible_moves(types, staff_user):
    booking = make_confirmed(types["follow_up"], _first_slot(types["follow_up"], 5))
    with pytest.raises(InvalidTransition):
        claim_status(booking, BookingStatus.HELD, allowed={BookingStatus.CONFIRMED})
    with pytest.raises(StatusRefused):
        change_status(booking, BookingStatus.HELD)  # nothing may go back to held
    with pytest.raises(ChangeRefused):
        changes.mark_no_show(booking, actor=staff_user)  # not started yet
    changes.cancel_booking(booking, actor=staff_user, refund=False)
    with pytest.raises(StatusRefused, match="already cancelled"):
        changes.cancel_booking(booking, actor=staff_user, refund=False)
    with pytest.raises(StatusRefused, match="already cancelled"):
        changes.reschedule_booking(booking, _first_slot(types["follow_up"], 6), actor="staff")
    assert booking.status == BookingStatus.CANCELLED


def test_booking_events_are_append_only(types):
    booking = make_confirmed(types["follow_up"], _first_slot(types["follow_up"], 5))
    event = db.session.scalar(select(BookingEvent).where(BookingEvent.booking_id == booking.id))
    event.detail = "changed"
    with pytest.raises(RuntimeError):
        db.session.flush()
    db.session.rollback()


def test_database_refuses_overlapping_live_bookings(types):
    from sqlalchemy.exc import IntegrityError

    ctype = types["initial"]
    slot = _first_slot(ctype, 5)
    booking = make_confirmed(ctype, slot)
    # Even bypassing the services, a claim on a cell she covers cannot be written.
    db.session.add(BookingSlotClaim(booking_id=booking.id, slot_start=slot + timedelta(minutes=45)))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_sitemap_lists_public_consultation_pages(app, types):
    with app.test_request_context():
        urls = [u for u, _ in services.sitemap_urls()]
    assert "http://localhost/consultations/" in urls
    assert "http://localhost/consultations/initial-consultation/" in urls
    assert not any("manage" in u for u in urls)


def test_client_can_let_a_held_time_go_before_paying(client, types, stripe_api):
    slot = _first_slot(types["follow_up"])
    _book(client, types["follow_up"], slot)
    booking = db.session.scalar(select(Booking))
    token = links.manage_token(booking)
    page = client.get(f"/consultations/manage/{token}?checkout=cancelled")
    assert "Your payment was not completed" in page.text and booking.checkout_url in page.text
    response = client.post(f"/consultations/manage/{token}/release", data={})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == BookingStatus.RELEASED
    assert slot in free(types["follow_up"])


def test_time_taken_meanwhile_keeps_her_answers_and_offers_next_times(client, types, stripe_api):
    ctype = types["follow_up"]
    slot = _first_slot(ctype)
    make_confirmed(ctype, slot, email="first@example.com")
    response = _book(client, ctype, slot, goals="Walk without fear")
    assert response.status_code == 409
    assert "someone booked that time a moment ago" in response.text
    assert 'value="Margaret Hill"' in response.text and "Walk without fear" in response.text
    offered = re.findall(r'type="radio" name="slot" value="([^"]+)"', response.text)
    assert offered and display.slot_value(slot) not in offered
    # She picks the first of the offered times and goes on to pay, typing nothing again.
    retry = _book(client, ctype, services.parse_slot(offered[0]), goals="Walk without fear")
    assert retry.status_code == 303
    assert booking_count() == 2


def test_booking_form_says_test_mode_when_payments_go_to_the_emulator(client, types, app):
    slot = _first_slot(types["initial"])
    url = f"/consultations/{types['initial'].slug}/book?slot={display.slot_value(slot)}"
    assert "Test mode" not in client.get(url).text
    app.config["STRIPE_EMULATOR"] = True
    page = client.get(url).text
    assert "<strong>Test mode:</strong> payment goes to the Stripe emulator." in page
