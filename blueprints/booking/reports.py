"""What staff ask of consultations' money: fees taken net of refunds over a few periods
(the dashboard's figures), and the payments and refunds behind them (staff's list of
consultation payments). Both read the same rows, picked by ``_MONEY_MOVED``, so a list
adds up to the figure that links to it. Read only.

The days of both are ``core.timezones.day_span``'s, as the dashboard's periods are."""

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from blueprints.booking.models import Booking, BookingEvent
from blueprints.core.reports import money_by_period
from extensions import db

# The rows of a booking's history that moved money (``BookingEvent.money_cents``: + taken,
# - given back), each with its booking (for the currency). Counted when they happened, as
# the shop counts a refund when it was made.
_MONEY_MOVED = (BookingEvent.booking_id == Booking.id, BookingEvent.money_cents.is_not(None))

PAGE_SIZE = 100


def net_fees(periods):
    """Consultation fees paid minus fees refunded in each ``(start, end)`` of ``periods``
    (UTC, end excluded), as one ``{currency: cents}`` per period; one query."""
    return money_by_period(
        BookingEvent.money_cents,
        Booking.currency,
        BookingEvent.created_at,
        periods,
        *_MONEY_MOVED,
    )


def fee_total(start, end):
    """``{currency: cents}`` taken net of refunds from ``start`` to ``end`` (UTC, end
    excluded): the dashboard's figure for that span, and the total of :func:`fee_events`."""
    return net_fees([(start, end)])[0]


def fee_events(start, end, page=1):
    """One page of the payments and refunds from ``start`` to ``end`` (UTC, end excluded),
    newest first, each with its booking and consultation type (a Flask-SQLAlchemy
    pagination: two queries whatever the page holds)."""
    query = (
        select(BookingEvent)
        .join(BookingEvent.booking)
        .where(*_MONEY_MOVED, BookingEvent.created_at >= start, BookingEvent.created_at < end)
        .options(contains_eager(BookingEvent.booking))
        .order_by(BookingEvent.created_at.desc(), BookingEvent.id.desc())
    )
    return db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False)
