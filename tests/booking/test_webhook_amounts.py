"""A paid event confirms a booking only on what Stripe itself reports for the session:
the event's body names the session, and nothing in it is trusted beyond that."""

from datetime import timedelta
from urllib.parse import parse_qs

from sqlalchemy import func, select

from blueprints.booking import display, links
from blueprints.booking.models import Booking, BookingEvent, BookingSlotClaim, BookingStatus
from blueprints.core.models import OutboxMessage
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import form_data, free, make_confirmed, pay_booking
from tests.stripe_fake import make_event, post_event, stripe_requests


def _hold(client, ctype):
    slot = next(s for s in free(ctype) if s > utcnow() + timedelta(days=3))
    response = client.post(
        f"/consultations/{ctype.slug}/book", data=form_data(display.slot_value(slot))
    )
    assert response.status_code == 303
    return db.session.scalar(select(Booking)), slot


def _deliver(client, session):
    response = post_event(client, make_event("checkout.session.completed", session))
    assert response.status_code == 200, response.text
    db.session.expire_all()


def _kinds(booking):
    return db.session.scalars(
        select(BookingEvent.kind).where(BookingEvent.booking_id == booking.id)
    ).all()


def _emails():
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_one_cent_paid_for_a_350_dollar_booking_is_refunded_and_never_confirmed(
    client, types, stripe_api
):
    booking, slot = _hold(client, types["initial"])
    assert booking.price_cents == 35000
    paid = pay_booking(stripe_api, booking, amount=1)  # what Stripe took, and what the event says
    _deliver(client, paid)
    booking = db.session.get(Booking, booking.id)
    assert booking.status != BookingStatus.CONFIRMED
    assert "amount_mismatch" in _kinds(booking) and "confirmed" not in _kinds(booking)
    assert "1 usd" in booking.needs_attention and "35000 usd" in booking.needs_attention
    # The cent is given back, and the time goes back on the calendar.
    (refund,) = stripe_requests(stripe_api, "/v1/refunds")
    sent = parse_qs(refund.get_data(as_text=True))
    assert sent["amount"] == ["1"] and sent["payment_intent"] == [paid["payment_intent"]]
    assert booking.refunded_cents == booking.paid_cents == 1
    assert db.session.scalar(select(func.count()).select_from(BookingSlotClaim)) == 0
    assert slot in free(types["initial"])
    assert _emails() == 0  # no confirmation went out


def test_a_paid_event_is_checked_against_the_session_stripe_reports(client, types, stripe_api):
    # The body says "paid in full"; Stripe, asked, says nobody has paid.
    booking, slot = _hold(client, types["initial"])
    forged = {
        **stripe_api.sessions[booking.stripe_session_id],
        "payment_status": "paid",
        "status": "complete",
        "amount_total": 35000,
        "payment_intent": "pi_forged",
    }
    _deliver(client, forged)
    booking = db.session.get(Booking, booking.id)
    assert booking.status == BookingStatus.HELD and booking.paid_cents == 0
    assert stripe_requests(stripe_api, "/v1/refunds") == []
    assert slot not in free(types["initial"])  # her hold stands until it runs out
    retrieved = [r for r in stripe_api.log if r[0].method == "GET"]
    assert [r.path for r, _ in retrieved] == [f"/v1/checkout/sessions/{booking.stripe_session_id}"]


def test_what_stripe_took_is_recorded_not_what_the_body_says(client, types, stripe_api):
    booking, _slot = _hold(client, types["initial"])
    paid = pay_booking(stripe_api, booking)
    _deliver(client, {**paid, "amount_total": 1, "payment_intent": "pi_from_the_body"})
    booking = db.session.get(Booking, booking.id)
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.paid_cents == 35000
    assert booking.stripe_payment_intent_id == paid["payment_intent"]


def test_the_right_amount_in_another_currency_is_refunded_and_never_confirmed(
    client, types, stripe_api
):
    booking, _slot = _hold(client, types["follow_up"])
    _deliver(client, pay_booking(stripe_api, booking, currency="jpy"))
    booking = db.session.get(Booking, booking.id)
    assert booking.status != BookingStatus.CONFIRMED
    assert "amount_mismatch" in _kinds(booking)
    (refund,) = stripe_requests(stripe_api, "/v1/refunds")
    assert parse_qs(refund.get_data(as_text=True))["amount"] == ["15000"]


def test_a_wrong_amount_delivered_twice_is_refunded_and_recorded_once(client, types, stripe_api):
    booking, _slot = _hold(client, types["initial"])
    paid = pay_booking(stripe_api, booking, amount=100)
    _deliver(client, paid)
    _deliver(client, paid)  # Stripe retries with a new event id
    booking = db.session.get(Booking, booking.id)
    assert _kinds(booking).count("amount_mismatch") == 1
    assert len(stripe_requests(stripe_api, "/v1/refunds")) == 1


def test_a_late_payment_of_the_wrong_amount_is_not_confirmed_either(client, types, stripe_api):
    booking, slot = _hold(client, types["follow_up"])
    booking.hold_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    _deliver(client, pay_booking(stripe_api, booking, amount=1))
    booking = db.session.get(Booking, booking.id)
    assert booking.status != BookingStatus.CONFIRMED
    assert "amount_mismatch" in _kinds(booking)
    assert slot in free(types["follow_up"])


def test_her_manage_page_says_the_payment_was_not_the_price_and_was_refunded(
    client, types, stripe_api
):
    booking, _slot = _hold(client, types["initial"])
    _deliver(client, pay_booking(stripe_api, booking, amount=1))
    page = client.get(f"/consultations/manage/{links.manage_token(booking)}")
    assert "was not the price of this consultation" in page.text
    assert "we refunded $0.01 to your card" in page.text
    assert "given to someone else" not in page.text


def _charge_of(booking, amount_refunded):
    return {
        "id": "ch_forged",
        "object": "charge",
        "amount": booking.paid_cents,
        "amount_refunded": amount_refunded,
        "currency": "usd",
        "payment_intent": booking.stripe_payment_intent_id,
        "metadata": {"kind": "booking", "id": str(booking.id)},
        "refunded": True,
    }


def test_a_signed_refund_event_stripe_does_not_confirm_records_no_refund(
    app, client, types, stripe_api
):
    """A charge.refunded event whose body claims a full refund, for a payment Stripe has
    refunded nothing of: the booking's books follow Stripe, not the body."""
    booking = make_confirmed(types["initial"], free(types["initial"])[0])
    response = post_event(client, make_event("charge.refunded", _charge_of(booking, 35000)))
    assert response.status_code == 200
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.refunded_cents == 0
    assert "refund_recorded" not in _kinds(booking)


def test_a_refund_made_in_stripe_is_recorded_at_stripes_amount(app, client, types, stripe_api):
    booking = make_confirmed(types["initial"], free(types["initial"])[0])
    stripe_api.add_refund(booking.stripe_payment_intent_id, "re_dashboard", 5000)
    # The body says more was refunded than Stripe has: Stripe's figure counts.
    post_event(client, make_event("charge.refunded", _charge_of(booking, 35000)))
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).refunded_cents == 5000
