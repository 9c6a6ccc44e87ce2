"""Twenty clients press "Continue to payment" for the same time at the same instant."""

import threading
from datetime import timedelta

from sqlalchemy import func, select

from blueprints.booking import display
from blueprints.booking.models import Booking, BookingSlotClaim, BookingStatus
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import form_data, free
from tests.conftest import is_postgres

CLIENTS = 20


def test_twenty_clients_one_time_exactly_one_hold(app, types, stripe_api):
    ctype = types["initial"]
    slot = next(s for s in free(ctype) if s > utcnow() + timedelta(days=3))
    slot_value = display.slot_value(slot)
    barrier = threading.Barrier(CLIENTS)
    results = [None] * CLIENTS

    def book(i):
        # Each thread is its own browser: its own client, request, app context and
        # database connection.
        client = app.test_client()
        data = form_data(slot_value, email=f"client{i}@example.com")
        data["csrf_token"] = client.csrf_token()
        barrier.wait()
        response = client.post(f"/consultations/{ctype.slug}/book", data=data)
        results[i] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=book, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(code for code, _ in results)
    assert statuses.count(303) == 1, (is_postgres(), statuses)
    assert statuses.count(409) == CLIENTS - 1
    for code, body in results:
        if code == 409:
            assert "someone booked that time a moment ago" in body
            assert 'id="alternatives"' in body  # the next free times are offered
            assert slot_value not in body.split('id="alternatives"')[1].split("</ul>")[0]
    db.session.expire_all()
    bookings = db.session.scalars(select(Booking)).all()
    assert len(bookings) == 1 and bookings[0].status == BookingStatus.HELD
    claims = db.session.scalar(select(func.count()).select_from(BookingSlotClaim))
    assert claims == 6
    assert len(stripe_api.log) == 1  # one Checkout Session, for the one hold
