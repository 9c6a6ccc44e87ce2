"""A Stripe that answers too slowly when a booking starts checkout: the time is freed."""

from datetime import timedelta

from sqlalchemy import func, select

from blueprints.booking import display
from blueprints.booking.models import Booking, BookingSlotClaim, BookingStatus
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import form_data, free


def test_slow_stripe_times_out_keeps_her_answers_and_frees_the_time(
    app, client, types, stalled_stripe
):
    app.config.update(STRIPE_TIMEOUT_SECONDS=0.3, STRIPE_MAX_NETWORK_RETRIES=0)
    ctype = types["follow_up"]
    slot = next(s for s in free(ctype) if s > utcnow() + timedelta(days=3))

    response = client.post(
        f"/consultations/{ctype.slug}/book", data=form_data(display.slot_value(slot))
    )

    assert not stalled_stripe.is_set()  # our client gave up; Stripe never answered
    assert response.status_code == 503
    assert "could not start the payment" in response.text
    assert 'value="Margaret Hill"' in response.text
    db.session.expire_all()
    booking = db.session.scalar(select(Booking))
    assert booking.status == BookingStatus.RELEASED
    assert db.session.scalar(select(func.count()).select_from(BookingSlotClaim)) == 0
    assert slot in free(ctype)
