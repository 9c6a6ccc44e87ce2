"""Consultation fees for the dashboard: each payment and refund counts once, when it
happened, through the real webhook and cancel paths (fake Stripe)."""

from datetime import timedelta

from sqlalchemy import select

from blueprints.booking import changes, display
from blueprints.booking.events import record_event
from blueprints.booking.models import Booking, BookingEventKind
from blueprints.booking.reports import net_fees
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import form_data, free, make_confirmed, pay_booking
from tests.stripe_fake import make_event, post_event


def _book_and_pay(client, stripe_api, ctype, amount=None):
    slot = next(s for s in free(ctype) if s > utcnow() + timedelta(days=3))
    response = client.post(
        f"/consultations/{ctype.slug}/book", data=form_data(display.slot_value(slot))
    )
    assert response.status_code == 303
    booking = db.session.scalars(select(Booking).order_by(Booking.id.desc())).first()
    paid = pay_booking(stripe_api, booking, amount=amount)
    assert post_event(client, make_event("checkout.session.completed", paid)).status_code == 200
    db.session.expire_all()
    return db.session.get(Booking, booking.id)


def _refund_in_stripe(client, stripe_api, booking, refund_id=None, amount=0):
    """Stripe's ``charge.refunded`` for ``booking``, after a refund of ``amount`` made on
    its dashboard (none: the event again)."""
    if refund_id:
        stripe_api.add_refund(booking.stripe_payment_intent_id, refund_id, amount)
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": booking.stripe_payment_intent_id,
        "metadata": {"kind": "booking", "id": str(booking.id)},
    }
    assert post_event(client, make_event("charge.refunded", charge)).status_code == 200
    db.session.expire_all()


def _this_hour_and_before():
    now = utcnow()
    hour_ago = now - timedelta(hours=1)
    return [(hour_ago, now + timedelta(hours=1)), (hour_ago - timedelta(days=1), hour_ago)]


def test_a_fee_counts_when_paid_and_each_refund_when_made_once(client, types, stripe_api):
    booking = _book_and_pay(client, stripe_api, types["initial"])
    assert net_fees(_this_hour_and_before())[0] == {"usd": 35_000}

    # Two refunds made in Stripe's dashboard: Stripe reports the total each time, the
    # books count only what is new.
    _refund_in_stripe(client, stripe_api, booking, "re_a", 5_000)
    _refund_in_stripe(client, stripe_api, booking, "re_b", 2_000)
    _refund_in_stripe(client, stripe_api, booking)  # the event again: nothing new
    assert net_fees(_this_hour_and_before())[0] == {"usd": 28_000}

    # She cancels in time: the rest is refunded.
    changes.cancel_booking(
        db.session.get(Booking, booking.id), actor="client", refund=True, now=utcnow()
    )
    db.session.commit()
    this_hour, before = net_fees(_this_hour_and_before())
    assert this_hour == {"usd": 0}
    assert before == {"usd": 0}  # nothing happened before


def test_a_payment_of_the_wrong_amount_given_back_at_once_counts_nothing(client, types, stripe_api):
    _book_and_pay(client, stripe_api, types["initial"], amount=100)
    assert net_fees(_this_hour_and_before())[0] == {}


def test_a_refund_today_of_last_months_fee_lowers_today_only(app, types):
    booking = make_confirmed(types["initial"], free(types["initial"])[0])
    now = utcnow()
    paid = record_event(booking, BookingEventKind.PAID, money_cents=35_000)
    paid.created_at = now - timedelta(days=40)
    record_event(booking, BookingEventKind.REFUNDED, money_cents=-35_000)
    record_event(booking, BookingEventKind.CONFIRMED)  # moves no money
    db.session.commit()

    today, last_month = net_fees(
        [(now - timedelta(hours=1), now + timedelta(hours=1)), (now - timedelta(days=45), now)]
    )
    assert today == {"usd": -35_000}
    assert last_month == {"usd": 35_000}
