"""How much stock one visitor may hold with checkouts they have not paid for yet.

An unpaid checkout holds its vests for the life of its Checkout Session, so without a
limit one visitor could take every option off the shelf for free, again and again.
A visitor is their session (their cart) and their client address; the address is
stored on the order only as a keyed hash. The limits are counted in the database, in
the transaction that holds the stock, never in anything the client keeps.
"""

import hashlib
import hmac
import ipaddress
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select, text

from blueprints.shop.errors import TooManyHolds
from blueprints.shop.models import Order, OrderLine, OrderStatus
from extensions import db

# How long Stripe keeps a Checkout Session open, and so how long an order holds stock.
CHECKOUT_LIFETIME = timedelta(minutes=30)
CHECKOUT_MINUTES = int(CHECKOUT_LIFETIME.total_seconds() // 60)
# The first key of this area's PostgreSQL advisory locks (the second is the visitor's).
_LOCK_NAMESPACE = 0x5B0B


def max_per_option():
    """The most of one limited-stock option (a vest size and weight) one order holds."""
    return current_app.config["SHOP_MAX_PER_OPTION"]


def visitor_key(address):
    """The keyed hash stored on the order for the client ``address``.

    An IPv6 client is counted by its /64, which one household or one server is given
    whole: otherwise each of its many addresses would be a visitor of its own.
    """
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        ip = None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv6Address):
        name = str(ipaddress.ip_network(f"{ip}/64", strict=False))
    else:
        name = str(ip or "unknown")
    secret = current_app.secret_key.encode()
    return hmac.new(secret, f"shop.visitor:{name}".encode(), hashlib.sha256).hexdigest()


def lock_visitor(key):
    """Make this visitor's checkouts take turns, until this transaction ends.

    Call it before the checkout writes anything. PostgreSQL: an advisory lock on the
    visitor, taken first so that it never waits while holding a stock row. SQLite lets
    one transaction write at a time, so the order written before the count (see
    :func:`check_visitor_holds`) already serialises them.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        number = int.from_bytes(bytes.fromhex(key[:8]), "big", signed=True)
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :number)"),
            {"namespace": _LOCK_NAMESPACE, "number": number},
        )


def check_visitor_holds(order):
    """Refuse ``order`` (flushed, its stock taken) when it takes its visitor past the
    limits: open checkouts or units held, this order included. Raises
    :class:`TooManyHolds`; the caller rolls back, so nothing is held."""
    config = current_app.config
    mine = Order.cart_id == order.cart_id
    if order.client_key is not None:
        mine = or_(mine, Order.client_key == order.client_key)
    open_orders = select(Order.id).where(Order.status == OrderStatus.PENDING, mine)
    checkouts = db.session.scalar(select(func.count()).select_from(open_orders.subquery()))
    units = db.session.scalar(
        select(func.coalesce(func.sum(OrderLine.quantity), 0)).where(
            OrderLine.order_id.in_(open_orders), OrderLine.stock_held
        )
    )
    if checkouts > config["SHOP_MAX_OPEN_CHECKOUTS"]:
        raise TooManyHolds(
            f"You already have {checkouts - 1} checkouts waiting for payment, the most we "
            "hold for one visitor. Please finish paying for one of them on its payment "
            "page, or cancel it: leave its payment page with the back link and choose "
            "\u201cRelease these items\u201d. A new checkout from the same browser also "
            "replaces that browser's earlier one, and unpaid checkouts end by themselves "
            f"within {CHECKOUT_MINUTES} minutes."
        )
    if units > config["SHOP_MAX_HELD_UNITS"]:
        raise TooManyHolds(
            f"We can hold at most {config['SHOP_MAX_HELD_UNITS']} items for one visitor "
            f"while they pay, and this checkout would make {units}. Please take some out "
            "of your cart, or finish or cancel your earlier checkout first (unpaid "
            f"checkouts end by themselves within {CHECKOUT_MINUTES} minutes)."
        )
