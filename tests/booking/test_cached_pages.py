"""The page cache on the consultation pages: a hold, a cancellation or an availability
edit changes the free times at once."""

from datetime import timedelta

from blueprints.booking import display, holds, hours
from blueprints.booking.models import Booking
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import form_data, free

TIMES = "/consultations/initial-consultation/"


def _slot(ctype):
    return next(s for s in free(ctype) if s > utcnow() + timedelta(days=1))


def _times(client):
    response = client.get(TIMES)
    assert response.status_code == 200
    return response


def test_the_free_times_page_is_cached_briefly(client, types):
    assert _times(client).headers["X-Cache"] == "MISS"
    assert _times(client).headers["X-Cache"] == "HIT"


def test_a_hold_takes_the_time_off_the_cached_page_at_once(app, client, types, stripe_api):
    slot = _slot(types["initial"])
    value = display.slot_value(slot)
    reader = app.test_client()
    _times(reader)
    assert value in _times(reader).text

    response = client.post(f"{TIMES}book", data=form_data(value))
    assert response.status_code == 303

    assert value not in _times(reader).text
    # Releasing the hold gives the time back at once, too.
    booking = db.session.scalar(db.select(Booking))
    holds.release_hold(booking, "test: the reader left")
    db.session.commit()
    assert value in _times(reader).text


def test_blocking_time_shows_at_once(app, client, types, staff_user):
    slot = _slot(types["initial"])
    value = display.slot_value(slot)
    _times(client)
    assert value in _times(client).text
    hours.block_time(
        slot - timedelta(minutes=15), slot + timedelta(hours=2), "dentist", actor=staff_user
    )
    db.session.commit()
    assert value not in _times(client).text
