"""What staff ask of consultations' money: fees taken net of refunds over a few periods
(the dashboard's figures), and the payments and refunds behind them (staff's list of
consultation payments). Both read the same rows, picked by ``_MONEY_MOVED``, so a list
adds up to the figure that links to it. Read only.

The days of both are ``core.timezones.day_span``'s, as the dashboard's periods are."""

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from blueprints.booking.models import Booking, BookingEvent, BookingEventKind
from blueprints.core.csv_files import amount, csv_text
from blueprints.core.reports import money_by_period
from blueprints.core.timezones import to_zone
from extensions import db

# The rows of a booking's history that moved money (``BookingEvent.money_cents``: + taken,
# - given back), each with its booking (for the currency). Counted when they happened, as
# the shop counts a refund when it was made.
_MONEY_MOVED = (BookingEvent.booking_id == Booking.id, BookingEvent.money_cents.is_not(None))

PAGE_SIZE = 100

# How each kind of money row reads in the list of payments (a refund by its sign).
MONEY_WORDS = {
    BookingEventKind.PAID: "Paid",
    BookingEventKind.REFUND_RECORDED: "Refunded in Stripe",
    BookingEventKind.LATE_PAYMENT_REFUNDED: "Refunded: paid after the time was taken",
}

CSV_HEADER = (
    "When (Dr. Brown's time)",
    "Client",
    "Email",
    "Consultation",
    "By",
    "Consultation time (Dr. Brown's time)",
    "Currency",
    "Amount",
    "What",
)


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


def money_words(event):
    """What a money row of a booking's history was, in plain words."""
    return MONEY_WORDS.get(event.kind) or ("Paid" if event.money_cents > 0 else "Refunded")


def _fee_events(start, end):
    return (
        select(BookingEvent)
        .join(BookingEvent.booking)
        .where(*_MONEY_MOVED, BookingEvent.created_at >= start, BookingEvent.created_at < end)
        .options(contains_eager(BookingEvent.booking))
        .order_by(BookingEvent.created_at.desc(), BookingEvent.id.desc())
    )


def fee_events(start, end, page=1):
    """One page of the payments and refunds from ``start`` to ``end`` (UTC, end excluded),
    newest first, each with its booking and consultation type (a Flask-SQLAlchemy
    pagination: two queries whatever the page holds)."""
    return db.paginate(_fee_events(start, end), page=page, per_page=PAGE_SIZE, error_out=False)


def fee_events_csv(start, end, zone):
    """Every payment and refund of :func:`fee_events` (all pages) as CSV text, times in
    ``zone`` (Dr. Brown's); the amounts add up to :func:`fee_total`."""

    def when(moment):
        return to_zone(moment, zone).strftime("%Y-%m-%d %H:%M")

    return csv_text(
        CSV_HEADER,
        (
            (
                when(event.created_at),
                event.booking.name,
                event.booking.email,
                event.booking.consultation_type.name,
                event.booking.call_type.value,
                when(event.booking.starts_at),
                event.booking.currency.upper(),
                amount(event.money_cents),
                money_words(event),
            )
            for event in db.session.scalars(_fee_events(start, end))
        ),
    )
