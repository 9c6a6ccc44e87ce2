"""An address's orders, as the customer's account lists them and prints a receipt.

Only what was bought: a checkout that was never paid (pending, expired, cancelled
before payment) is not an order of hers. The address is matched in any case: Stripe
gives it as she typed it.
"""

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from blueprints.core.addresses import normalise_email
from blueprints.shop.models import Order, OrderStatus
from extensions import db

# A checkout that never became a purchase.
NOT_BOUGHT = (OrderStatus.PENDING, OrderStatus.EXPIRED, OrderStatus.CANCELLED)


def _bought_by(email):
    return (
        func.lower(Order.email) == normalise_email(email),
        Order.status.not_in(NOT_BOUGHT),
    )


def orders_for_email(email):
    """The orders bought with ``email``, newest first, with their lines (two queries)."""
    return db.session.scalars(
        select(Order)
        .where(*_bought_by(email))
        .options(selectinload(Order.lines))
        .order_by(Order.created_at.desc(), Order.id.desc())
    ).all()


def order_for_email(email, order_id):
    """Order ``order_id`` when it was bought with ``email``, else None: an order of
    another address is as unknown as one that does not exist."""
    return db.session.scalar(
        select(Order)
        .where(Order.id == order_id, *_bought_by(email))
        .options(selectinload(Order.lines))
    )
