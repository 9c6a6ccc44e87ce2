"""What the staff dashboard asks the shop: money taken net of refunds over a few periods,
and how many orders wait to ship. Read only."""

from sqlalchemy import and_, func, select

from blueprints.core.reports import add_by_period, money_by_period
from blueprints.shop.models import SHIPPABLE_STATUSES, Order, Refund
from extensions import db

# The orders a person still has to post: paid (also after part of it was refunded), with
# something physical in them, not shipped yet. The orders list's "To ship" filter.
TO_SHIP = and_(
    Order.needs_shipping,
    Order.status.in_(SHIPPABLE_STATUSES),
    Order.shipped_at.is_(None),
)


def money_moved(periods, *where):
    """``(taken, refunded)``: the money orders were paid, and the money refunded on them,
    in each ``(start, end)`` of ``periods`` (UTC, end excluded), each as one
    ``{currency: cents}`` per period; two queries. ``where`` narrows the orders (staff's
    order list by state or words).

    An order counts when it was paid, a refund when it was made: a refund today of last
    month's order is money given back today, as the bank balance has it."""
    taken = money_by_period(Order.total_cents, Order.currency, Order.paid_at, periods, *where)
    refunded = money_by_period(
        Refund.amount_cents,
        Refund.currency,
        Refund.created_at,
        periods,
        Refund.order_id == Order.id,
        *where,
    )
    return taken, refunded


def net_sales(periods, *where):
    """Money taken minus money refunded in each ``(start, end)`` of ``periods`` (UTC,
    end excluded), as one ``{currency: cents}`` per period (see :func:`money_moved`):
    the dashboard's "from the shop" figures, and the net total of the order list of
    the days they link to."""
    taken, refunded = money_moved(periods, *where)
    given_back = [{currency: -cents for currency, cents in p.items()} for p in refunded]
    return add_by_period(taken, given_back)


def orders_to_ship_count():
    """How many orders wait to be posted."""
    return db.session.scalar(select(func.count()).select_from(Order).where(TO_SHIP))
