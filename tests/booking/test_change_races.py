"""Ten requests change one booking at the same instant: one wins, the rest are refused.

Each thread is its own browser (its own client, request, app context and database
connection). To make the race as bad as it can be, every request first reads the
booking and then waits until all ten have read it, so all ten start from the same
"confirmed at this time" before any of them writes.
"""

import threading
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, func, select

from blueprints.booking import display, links
from blueprints.booking.models import (
    GRID,
    Booking,
    BookingEvent,
    BookingSlotClaim,
    BookingStatus,
)
from blueprints.core.models import OutboxMessage
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import form_data, free, make_confirmed
from tests.conftest import STAFF_EMAIL, is_postgres
from tests.stripe_fake import stripe_requests

REQUESTS = 10


@contextmanager
def all_read_the_booking_first(parties):
    """Hold each request right after it first loads a Booking until ``parties``
    requests have done so. Only threads that call ``arm()`` wait."""
    barrier = threading.Barrier(parties)
    local = threading.local()

    def on_load(target, context):
        if getattr(local, "armed", False):
            local.armed = False
            barrier.wait(timeout=30)

    def arm():
        local.armed = True

    event.listen(Booking, "load", on_load)
    try:
        yield arm
    finally:
        event.remove(Booking, "load", on_load)


def run_at_once(app, work):
    """Run ``work(client, i)`` in ``REQUESTS`` threads, each with its own test client;
    returns each thread's (status, body)."""
    results = [None] * REQUESTS
    with all_read_the_booking_first(REQUESTS) as arm:

        def run(i):
            client = app.test_client()
            arm()
            response = work(client, i)
            results[i] = (response.status_code, response.get_data(as_text=True))

        threads = [threading.Thread(target=run, args=(i,)) for i in range(REQUESTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    db.session.expire_all()
    return results


def emails_to(address):
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.to_address == address)
    )


def event_kinds(booking_id):
    return db.session.scalars(
        select(BookingEvent.kind).where(BookingEvent.booking_id == booking_id)
    ).all()


def test_ten_cancels_of_one_paid_booking_cancel_refund_and_email_once(
    app, types, stripe_api, staff_user, mailbox
):
    ctype = types["initial"]
    slot = next(s for s in free(ctype) if s > utcnow() + timedelta(days=5))
    booking = make_confirmed(ctype, slot, email="client@example.com")
    token = links.manage_token(booking)

    results = run_at_once(
        app, lambda client, i: client.post(f"/consultations/manage/{token}/cancel", data={})
    )

    statuses = sorted(code for code, _ in results)
    assert statuses.count(303) == 1, (is_postgres(), statuses)
    assert statuses.count(409) == REQUESTS - 1, statuses
    for code, body in results:
        if code == 409:
            assert "This consultation was already cancelled." in body
    booking = db.session.get(Booking, booking.id)
    assert booking.status == BookingStatus.CANCELLED
    assert booking.refunded_cents == booking.paid_cents == 35000
    kinds = event_kinds(booking.id)
    assert kinds.count("cancelled") == 1 and kinds.count("refunded") == 1, kinds
    assert len(stripe_requests(stripe_api, "/v1/refunds")) == 1
    assert emails_to("client@example.com") == 1
    assert emails_to(STAFF_EMAIL) == 1
    assert db.session.scalar(select(func.count()).select_from(BookingSlotClaim)) == 0


def _ten_separate_times(ctype, booked):
    """Ten free start times, none overlapping another or the booked time."""
    reach = ctype.duration + ctype.buffer
    chosen = []
    for slot in free(ctype):
        if slot <= utcnow() + timedelta(days=4):
            continue
        if abs(slot - booked) < reach + GRID:
            continue
        if chosen and slot - chosen[-1] < reach + GRID:
            continue
        chosen.append(slot)
        if len(chosen) == REQUESTS:
            return chosen
    raise AssertionError("not enough free times for the test")


def test_ten_reschedules_at_once_end_at_one_time_and_free_the_other_nine(
    app, types, stripe_api, mailbox
):
    ctype = types["follow_up"]
    old = next(s for s in free(ctype) if s > utcnow() + timedelta(days=4))
    booking = make_confirmed(ctype, old, email="mover@example.com")
    token = links.manage_token(booking)
    times = _ten_separate_times(ctype, old)

    results = run_at_once(
        app,
        lambda client, i: client.post(
            f"/consultations/manage/{token}/reschedule",
            data={"slot": display.slot_value(times[i])},
        ),
    )

    statuses = sorted(code for code, _ in results)
    assert statuses.count(303) == 1, (is_postgres(), statuses)
    assert statuses.count(409) == REQUESTS - 1, statuses
    booking = db.session.get(Booking, booking.id)
    assert booking.status == BookingStatus.CONFIRMED and booking.starts_at in times
    assert booking.ics_sequence == 1
    claims = db.session.execute(select(BookingSlotClaim.booking_id, BookingSlotClaim.slot_start))
    cells = []
    cell = booking.starts_at
    while cell < booking.buffer_ends_at:
        cells.append(cell)
        cell += GRID
    assert sorted(claims) == [(booking.id, c) for c in cells]
    assert event_kinds(booking.id).count("rescheduled") == 1
    assert emails_to("mover@example.com") == 1

    others = [t for t in times if t != booking.starts_at]
    still_free = set(free(ctype))
    assert all(t in still_free for t in others)
    for i, slot in enumerate(others):
        # Each time by a client of her own (one visitor may hold only a few unpaid times).
        response = app.test_client().post(
            f"/consultations/{ctype.slug}/book",
            data=form_data(display.slot_value(slot), email=f"other{i}@example.com"),
            environ_base={"REMOTE_ADDR": f"192.0.2.{i + 1}"},
        )
        assert response.status_code == 303, (slot, response.status_code)
