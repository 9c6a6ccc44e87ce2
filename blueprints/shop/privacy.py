"""A customer's data in the shop: her orders for her download, and their anonymisation
when she deletes her account.

The law wants the figures of a sale kept (tax, accounts): the order, its lines, totals,
dates, refunds and history stay; her name, address and postal address go.
"""

from sqlalchemy import delete, func, select, update

from blueprints.core.addresses import normalise_email
from blueprints.shop.errors import OrdersStillToShip
from blueprints.shop.events import record_event
from blueprints.shop.models import SHIPPABLE_STATUSES, Order, OrderEventKind, ProgramAccess
from extensions import db

ERASED_MESSAGE = "The customer deleted her account: name and addresses erased, figures kept."


def _when(value):
    return value.isoformat() if value else None


def _of(email):
    return select(Order).where(func.lower(Order.email) == normalise_email(email))


def orders_for_export(email):
    """Every order placed with ``email`` as plain dicts: items, totals, addresses,
    refunds and the history of each."""
    orders = db.session.scalars(_of(email).order_by(Order.id)).all()
    return [
        {
            "reference": order.reference,
            "status": str(order.status),
            "created_at": _when(order.created_at),
            "paid_at": _when(order.paid_at),
            "shipped_at": _when(order.shipped_at),
            "email": order.email,
            "name": order.customer_name,
            "shipping_address": order.shipping_address,
            "tracking_number": order.tracking_number,
            "currency": order.currency,
            "total_cents": order.total_cents,
            "shipping_cents": order.shipping_cents,
            "shipping_method": order.shipping_method,
            "refunded_cents": order.refunded_cents,
            "items": [
                {
                    "description": line.description,
                    "sku": line.sku,
                    "unit_price_cents": line.unit_price_cents,
                    "quantity": line.quantity,
                    "total_cents": line.total_cents,
                }
                for line in order.lines
            ],
            "refunds": [
                {"amount_cents": r.amount_cents, "currency": r.currency, "at": _when(r.created_at)}
                for r in order.refunds
            ],
            "events": [
                {"kind": e.kind, "message": e.message, "by": e.actor, "at": _when(e.created_at)}
                for e in order.events
            ],
        }
        for order in orders
    ]


def orders_still_to_ship(email):
    """Her paid orders with a parcel that has not left yet, oldest first: each needs her
    name and postal address on its label, so her account cannot be deleted before they
    ship (or staff cancel and refund them)."""
    return db.session.scalars(
        _of(email)
        .where(
            Order.needs_shipping.is_(True),
            Order.status.in_(SHIPPABLE_STATUSES),
            Order.shipped_at.is_(None),
        )
        .order_by(Order.id)
    ).all()


def still_to_ship_message(orders):
    """Why her account cannot be deleted yet and what she can do, in plain words."""
    names = [order.reference for order in orders]
    references = " and ".join(filter(None, (", ".join(names[:-1]), names[-1])))
    one = len(orders) == 1
    return (
        f"Your account cannot be deleted yet: your order{'' if one else 's'} {references} "
        f"{'is' if one else 'are'} paid and waiting to ship, and we need your name and "
        f"address to send {'it' if one else 'them'}. You can delete your account once "
        f"{'it has' if one else 'they have'} shipped. If you would rather cancel "
        f"{'it' if one else 'them'}, please contact us and we will refund you."
    )


def check_orders_can_be_erased(email):
    """Raise OrdersStillToShip (nothing changed) while an order of ``email`` still waits
    to ship; the account deletion asks this before it changes anything anywhere."""
    waiting = orders_still_to_ship(email)
    if waiting:
        raise OrdersStillToShip(still_to_ship_message(waiting))


def erase_orders_of(email):
    """Her account is being deleted: her orders keep their figures (items, totals,
    dates, refunds) for the law, without her name, address or postal address; her
    programs can no longer be opened (the order links and the address's access end).
    Returns the number of orders anonymised. Flushes. Raises OrdersStillToShip, erasing
    nothing, while an order still waits to ship: its label needs her address."""
    check_orders_can_be_erased(email)
    email = normalise_email(email)
    orders = db.session.scalars(_of(email).order_by(Order.id)).all()
    ids = [order.id for order in orders]
    for order in orders:
        record_event(order, OrderEventKind.ANONYMISED, ERASED_MESSAGE, actor="customer")
    db.session.execute(
        delete(ProgramAccess)
        .where(func.lower(ProgramAccess.email) == email)
        .execution_options(synchronize_session=False)
    )
    if ids:
        db.session.execute(
            update(Order)
            .where(Order.id.in_(ids))
            .values(email=None, customer_name=None, shipping_address=None, access_key=None)
            .execution_options(synchronize_session=False)
        )
    db.session.expire_all()
    return len(ids)
