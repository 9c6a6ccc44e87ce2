"""From cart to Stripe: place the order (its stock held), open its Checkout Session,
and close what an abandoned checkout held."""

import logging

import stripe
from sqlalchemy import select

from blueprints.core.layout import format_money
from blueprints.core.links import external_url
from blueprints.core.states import claim_status
from blueprints.core.stripe import create_checkout_session, expire_checkout_session
from blueprints.core.types import utcnow
from blueprints.shop.cart import check_order_quantity
from blueprints.shop.errors import NotAvailable, PaymentUnavailable, ShopError, SoldOut
from blueprints.shop.events import record_event
from blueprints.shop.holds import CHECKOUT_LIFETIME, check_visitor_holds
from blueprints.shop.models import Order, OrderEventKind, OrderLine, OrderStatus
from blueprints.shop.shipping import checkout_shipping_options, offer_shipping, shipping_countries
from blueprints.shop.stock import release_stock, take_stock
from extensions import db

log = logging.getLogger(__name__)


def place_order(cart, client_key=None, ship_to=None):
    """Create a pending order from the cart and hold its stock; Checkout will offer the
    shipping to ``ship_to``, the country chosen in the cart (see
    :func:`~blueprints.shop.shipping.shipping_to`).

    Prices and names are copied from the database. Each limited-stock line is held by
    one conditional UPDATE checked by its row count, so two buyers can never take the
    last vest. The visitor (``client_key`` and the cart, under
    :func:`~blueprints.shop.holds.lock_visitor`) may not hold more than the limits.
    Raises :class:`SoldOut` or :class:`TooManyHolds` (nothing is held then: the caller
    rolls back).
    """
    if cart is None or not cart.lines:
        raise ShopError("Your cart is empty.")
    currencies = {line.variant.currency for line in cart.lines}
    if len(currencies) != 1:
        raise ShopError("Items priced in different currencies cannot be bought together.")
    order = Order(
        status=OrderStatus.PENDING,
        currency=currencies.pop(),
        total_cents=0,
        cart_id=cart.id,
        client_key=client_key,
    )
    # Lock rows in one order (by variant id) so concurrent checkouts cannot deadlock.
    for cart_line in sorted(cart.lines, key=lambda ln: ln.variant_id):
        variant = cart_line.variant
        if not variant.active or not variant.product.active:
            raise NotAvailable(f"Sorry, {variant.label()} is no longer available.")
        check_order_quantity(variant, cart_line.quantity)
        order.lines.append(
            OrderLine(
                variant_id=variant.id,
                product_id=variant.product_id,
                description=variant.label(),
                sku=variant.sku,
                unit_price_cents=variant.price_cents,
                quantity=cart_line.quantity,
                is_program=variant.product.is_program,
                stock_held=variant.stock is not None,
            )
        )
    # The lines only: the shipping she chooses on Stripe's page is added once paid.
    order.total_cents = order.lines_cents
    order.needs_shipping = any(not line.is_program for line in order.lines)
    offer_shipping(order, ship_to)
    db.session.add(order)
    db.session.flush()
    for line in order.lines:
        if line.stock_held and not take_stock(line.variant_id, line.quantity):
            raise SoldOut(f"Sorry, {line.description} is sold out.")
    check_visitor_holds(order)
    record_event(
        order,
        OrderEventKind.CREATED,
        f"Order placed for {format_money(order.total_cents, order.currency)}.",
    )
    return order


def checkout_line_items(order):
    """Stripe line items built from the order's copied prices only."""
    return [
        {
            "price_data": {
                "currency": order.currency,
                "unit_amount": line.unit_price_cents,
                "product_data": {"name": line.description, "metadata": {"sku": line.sku}},
            },
            "quantity": line.quantity,
        }
        for line in order.lines
    ]


def open_checkout_session(order):
    """Create the order's Checkout Session and return its URL.

    When Stripe fails (an API error or a timeout), the order is cancelled and its
    stock released at once, then :class:`PaymentUnavailable` is raised.
    """
    try:
        checkout = create_checkout_session(
            kind="order",
            object_id=order.id,
            line_items=checkout_line_items(order),
            customer_email=order.email,
            success_url=external_url("shop.success") + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=external_url("shop.cancelled", order=order.id),
            expires_at=utcnow() + CHECKOUT_LIFETIME,
            idempotency_key=f"order-{order.id}-checkout",
            collect_shipping_countries=shipping_countries(order) if order.needs_shipping else None,
            shipping_options=checkout_shipping_options(order) if order.needs_shipping else None,
        )
    except stripe.StripeError as exc:
        log.warning("Checkout Session for order %s failed: %s", order.id, exc)
        cancel_order(order, "Stripe could not start the payment; stock released.")
        raise PaymentUnavailable(
            "We could not reach our payment provider, so nothing was charged. "
            "Please try again in a few minutes."
        ) from exc
    order.stripe_session_id = checkout.id
    record_event(order, OrderEventKind.CHECKOUT_OPENED, f"Stripe Checkout Session {checkout.id}.")
    db.session.flush()
    return checkout.url


def close_unpaid(order, to, kind, message, actor="system"):
    """Move a pending order to ``to`` (expired or cancelled) and give back its stock,
    once: only the request whose status change wins releases it and logs ``kind``."""
    if not claim_status(order, to, allowed={OrderStatus.PENDING}):
        return False
    release_stock(order)
    record_event(order, kind, message, actor)
    return True


def cancel_order(order, reason, actor="system"):
    """Pending to cancelled, releasing the stock once."""
    return close_unpaid(order, OrderStatus.CANCELLED, OrderEventKind.CANCELLED, reason, actor)


def _release_checkouts(orders, message):
    """Close these pending orders' Checkout Sessions and release what they hold.

    Stripe is asked first, before this request writes anything: its expiry webhook
    may arrive meanwhile and does the same release (only one of them wins). A session
    Stripe refuses to expire (it may have been paid meanwhile) is left to its webhook.
    """
    closed = []
    for order in orders:
        if order.stripe_session_id:
            try:
                expire_checkout_session(order.stripe_session_id)
            except stripe.StripeError:
                continue
        closed.append(order)
    return [
        order
        for order in closed
        if close_unpaid(order, OrderStatus.EXPIRED, OrderEventKind.EXPIRED, message)
    ]


def release_earlier_checkouts(cart):
    """Before a new checkout, close this cart's earlier unpaid Checkout Sessions, so
    one visitor never holds the same stock twice."""
    earlier = db.session.scalars(
        select(Order).where(Order.cart_id == cart.id, Order.status == OrderStatus.PENDING)
    ).all()
    _release_checkouts(earlier, "Replaced by a newer checkout from the same cart.")


def release_checkout(order):
    """The visitor left Stripe's page and gives the items back now rather than when the
    checkout expires (the view checked it is their own). True when released."""
    return bool(
        _release_checkouts([order], "Released by the customer on leaving the payment page.")
    )
