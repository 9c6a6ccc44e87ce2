"""Staff's order list (issue #20.5): orders by state, words typed (number, email or
name) and a range of days in Dr. Brown's zone; the totals of what is listed, per
currency; the same list as a CSV file a spreadsheet opens safely.
"""

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import selectinload

from blueprints.core.csv_files import amount, csv_text, local_time, local_time_header, one_line
from blueprints.core.timezones import day_span, practitioner_zone
from blueprints.shop import reports
from blueprints.shop.models import (
    MONEY_TAKEN_STATUSES,
    SHIPPABLE_STATUSES,
    Order,
    OrderLine,
    OrderStatus,
    Refund,
)
from extensions import db

PAGE_SIZE = 50
MAX_SEARCH_LENGTH = 200
# "BB-00042", "bb42", "#42" or "42": an order's number.
_NUMBER = re.compile(r"#?(?:bb-?)?0*([0-9]{1,9})")

STATE_FILTERS = {
    "all": "All orders",
    "to_ship": "To ship",
    "attention": "Needs attention",
    **{s.value: s.value.replace("_", " ").capitalize() for s in OrderStatus},
}
_STATUS_VALUES = frozenset(s.value for s in OrderStatus)
# What the range of days is matched against: the day an order was placed, or the days
# money moved (paid, or refunded), as the dashboard's revenue counts it.
BY_PLACED, BY_PAYMENT = "placed", "payment"


@dataclass(frozen=True)
class OrderQuery:
    """What staff asked for: a key of ``STATE_FILTERS``, words, first and last day
    (dates in Dr. Brown's zone, both included; either may be None), and whether those
    days are when orders were placed or when they were paid or refunded (``by``)."""

    state: str = "all"
    text: str = ""
    first_day: date | None = None
    last_day: date | None = None
    by: str = BY_PLACED


def _like(text):
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _by_payment_days(query):
    """True when the list is of the orders paid or refunded on some days."""
    return query.by == BY_PAYMENT and bool(query.first_day or query.last_day)


def _state_and_words(query):
    """What narrows the list besides its days."""
    conditions = []
    if query.state == "to_ship":
        conditions += [
            Order.needs_shipping,
            Order.status.in_(SHIPPABLE_STATUSES),
            Order.shipped_at.is_(None),
        ]
    elif query.state == "attention":
        conditions.append(Order.needs_attention)
    elif query.state in _STATUS_VALUES:
        conditions.append(Order.status == OrderStatus(query.state))
    text = (query.text or "").strip().lower()[:MAX_SEARCH_LENGTH]
    if text:
        pattern = _like(text)
        found = [
            func.lower(Order.email).like(pattern, escape="\\"),
            func.lower(Order.customer_name).like(pattern, escape="\\"),
        ]
        number = _NUMBER.fullmatch(text)
        if number:
            found.append(Order.id == int(number.group(1)))
        conditions.append(or_(*found))
    return conditions


def _conditions(query):
    conditions = _state_and_words(query)
    if query.first_day or query.last_day:
        # The dashboard's days: the same midnights its periods start and end at.
        start, end = day_span(query.first_day, query.last_day)
        if query.by == BY_PAYMENT:
            paid = _within(Order.paid_at, start, end)
            conditions.append(or_(paid, _refunded_within(start, end)))
        else:
            conditions.append(_within(Order.created_at, start, end))
    return conditions


def _within(column, start, end):
    """``column`` from ``start`` (included) to ``end`` (excluded)."""
    return and_(column.is_not(None), column >= start, column < end)


def _refunded_within(start, end):
    """The order has a refund made from ``start`` to ``end``."""
    return exists().where(Refund.order_id == Order.id, _within(Refund.created_at, start, end))


def _listed(query):
    return (
        select(Order)
        .where(*_conditions(query))
        .options(
            selectinload(Order.lines).load_only(
                OrderLine.description, OrderLine.quantity, OrderLine.unit_price_cents
            )
        )
        .order_by(Order.created_at.desc(), Order.id.desc())
    )


def find_orders(query, page=1):
    """One page of the orders ``query`` lists, newest first, with their lines (a
    Flask-SQLAlchemy pagination: three queries whatever the page holds)."""
    return db.paginate(_listed(query), page=page, per_page=PAGE_SIZE, error_out=False)


@dataclass(frozen=True)
class Totals:
    currency: str
    orders: int  # those whose money was taken
    total_cents: int
    refunded_cents: int
    unpaid: int = 0  # listed, never paid: not counted

    @property
    def net_cents(self):
        return self.total_cents - self.refunded_cents


def order_totals(query):
    """For every order ``query`` lists (not only one page): per currency, how many
    took money (``MONEY_TAKEN_STATUSES``), their totals, what was refunded, and how
    many listed never took any (pending, expired, cancelled: not counted); one query.

    Listed by the days money moved, the totals are the money moved on those days
    (``shop.reports.money_moved``, two more queries): an order paid on them counts
    whole, a refund made on them counts, whenever the order was paid. Their net is the
    dashboard's "from the shop" figure for those days."""
    took = Order.status.in_(MONEY_TAKEN_STATUSES)

    def taken_sum(column):
        return func.coalesce(func.sum(case((took, column), else_=0)), 0)

    rows = db.session.execute(
        select(
            Order.currency,
            func.count(),
            func.coalesce(func.sum(case((took, 1), else_=0)), 0),
            taken_sum(Order.total_cents),
            taken_sum(Order.refunded_cents),
        )
        .where(*_conditions(query))
        .group_by(Order.currency)
        .order_by(Order.currency)
    ).all()
    if not _by_payment_days(query):
        return [
            Totals(currency.upper(), int(paid), int(total), int(refunded), listed - int(paid))
            for currency, listed, paid, total, refunded in rows
        ]
    span = day_span(query.first_day, query.last_day)
    (taken,), (refunded,) = reports.money_moved([span], *_state_and_words(query))
    counts = {currency: (int(paid), listed - int(paid)) for currency, listed, paid, *_ in rows}
    totals = []
    for currency in sorted(counts.keys() | taken.keys() | refunded.keys()):
        paid, unpaid = counts.get(currency, (0, 0))
        totals.append(
            Totals(
                currency.upper(),
                paid,
                taken.get(currency, 0),
                refunded.get(currency, 0),
                unpaid,
            )
        )
    return totals


def state_counts():
    """How many orders are in each status (for the filter links)."""
    return dict(db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all())


CSV_HEADER = (
    "Order",
    local_time_header("Placed"),
    "Email",
    "Name",
    "Items",
    "Currency",
    "Total",
    "Refunded",
    "State",
    "Tracking number",
    "Shipping",
    "Shipping address",
)


def orders_csv(query):
    """Every order ``query`` lists, as CSV text (a header row, then one row an order,
    newest first). Times in Dr. Brown's zone; amounts (shipping too) in dollars and
    cents; the shipping address on one line."""
    zone = practitioner_zone()
    return csv_text(
        CSV_HEADER,
        (
            (
                order.reference,
                local_time(order.created_at, zone),
                order.email,
                order.customer_name,
                "; ".join(f"{line.description} x {line.quantity}" for line in order.lines),
                order.currency.upper(),
                amount(order.total_cents),
                amount(order.refunded_cents),
                order.status.value,
                order.tracking_number,
                amount(order.shipping_cents),
                one_line(order.shipping_address),
            )
            for order in db.session.scalars(_listed(query))
        ),
    )
