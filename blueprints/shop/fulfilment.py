"""After the checkout: a payment fulfilled exactly once (program access, the email),
an unpaid checkout closed, a vest shipped (and its tracking number corrected), a flagged order checked by staff.

Stripe's objects are read through :func:`stripe_value`, since the SDK's objects and
the webhook's plain dicts both reach here.
"""

from datetime import timedelta

from sqlalchemy import delete, or_, select, update

from blueprints.core.audit import record_staff_action
from blueprints.core.layout import format_money
from blueprints.core.states import claim_status
from blueprints.core.stripe import retrieve_checkout_session
from blueprints.core.types import utcnow
from blueprints.shop.checkout import close_unpaid
from blueprints.shop.emails import send_order_confirmation, send_shipped
from blueprints.shop.errors import ShopError
from blueprints.shop.events import record_event
from blueprints.shop.models import (
    CartLine,
    Order,
    OrderEventKind,
    OrderStatus,
    ProgramAccess,
    country_name,
)
from blueprints.shop.shipping import check_paid_shipping
from blueprints.shop.stock import take_stock
from extensions import db

# The success page asks Stripe about an unpaid order at most this often, whoever visits.
STRIPE_CHECK_INTERVAL = timedelta(seconds=10)


def stripe_value(obj, key, default=None):
    """``obj[key]``, or ``default`` when it is missing or None."""
    try:
        value = obj[key]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


def _shipping_details(checkout):
    return stripe_value(
        stripe_value(checkout, "collected_information"), "shipping_details"
    ) or stripe_value(checkout, "shipping_details")


def _shipping_country(checkout):
    """The country of the address she gave Stripe ("US"), or None."""
    country = stripe_value(stripe_value(_shipping_details(checkout), "address"), "country")
    return str(country).upper() if country else None


def _shipping_paid(checkout):
    """What Stripe charged for shipping: ``total_details.amount_shipping``, else
    ``shipping_cost.amount_total``; 0 when it reports none."""
    amount = stripe_value(stripe_value(checkout, "total_details"), "amount_shipping")
    if amount is None:
        amount = stripe_value(stripe_value(checkout, "shipping_cost"), "amount_total", 0)
    return amount


def _shipping_from(checkout):
    """The address she typed at Checkout, as printed on a label, her receipt and her
    email: its country by name ("Canada"), never by its code ("CA" reads as California)."""
    details = _shipping_details(checkout)
    if not details:
        return None
    address = stripe_value(details, "address", {})
    city_line = " ".join(
        part
        for part in (stripe_value(address, key, "") for key in ("city", "state", "postal_code"))
        if part
    )
    parts = [
        stripe_value(details, "name", ""),
        stripe_value(address, "line1", ""),
        stripe_value(address, "line2", ""),
        city_line,
        country_name(stripe_value(address, "country", "")),
    ]
    return "\n".join(p for p in parts if p)


def find_order_for_session(session_id, metadata=None):
    """The order of a Checkout Session, without storing anything: by its stored session
    id, else by the order id in the session's metadata when that order has no session
    stored yet (never one tied to another session)."""
    order = db.session.scalar(select(Order).where(Order.stripe_session_id == session_id))
    if order is not None or not metadata or stripe_value(metadata, "kind") != "order":
        return order
    order_id = stripe_value(metadata, "id")
    order = db.session.get(Order, int(order_id)) if str(order_id).isdigit() else None
    if order is None or order.stripe_session_id is not None:
        return None
    return order


def order_for_session(session_id, metadata=None):
    """:func:`find_order_for_session`, storing the session id on an order found by its
    metadata (the id is stored before the customer can pay; this catches one whose id
    never was)."""
    order = find_order_for_session(session_id, metadata)
    if order is not None and order.stripe_session_id is None:
        order.stripe_session_id = session_id
    return order


def pending_orders_before(cutoff):
    """Orders still waiting for Stripe that were created before ``cutoff``."""
    return db.session.scalars(
        select(Order)
        .where(Order.status == OrderStatus.PENDING, Order.created_at < cutoff)
        .order_by(Order.created_at)
    ).all()


def claim_stripe_check(order):
    """True when this request may ask Stripe about ``order`` now: it is still pending
    and nobody asked in the last :data:`STRIPE_CHECK_INTERVAL`. One conditional
    UPDATE, so reloads, new sessions and many visitors at once make one call."""
    now = utcnow()
    claimed = db.session.execute(
        update(Order)
        .where(
            Order.id == order.id,
            Order.status == OrderStatus.PENDING,
            or_(
                Order.stripe_checked_at.is_(None),
                Order.stripe_checked_at <= now - STRIPE_CHECK_INTERVAL,
            ),
        )
        .values(stripe_checked_at=now)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def fulfil_order(session_id):
    """Mark the order of a paid Checkout Session paid, exactly once.

    Serves the webhook and the success page. Reads the session from Stripe (never
    trusting the caller), checks amount and currency, then wins or loses one
    conditional UPDATE: only the winner gives program access and queues the email.
    A payment that arrives after the stock was released is kept and flagged for
    staff. Returns the order (None for an unknown session).
    """
    checkout = retrieve_checkout_session(session_id)
    order = order_for_session(checkout.id, stripe_value(checkout, "metadata"))
    if order is None:
        raise LookupError(f"no order for Checkout Session {session_id}")
    if stripe_value(checkout, "payment_status") not in ("paid", "no_payment_required"):
        return order  # async payment methods: wait for async_payment_succeeded
    amount, currency = stripe_value(checkout, "amount_total"), stripe_value(checkout, "currency")
    # The lines at their copied prices plus a shipping amount offered for her country.
    country, shipping_cents = _shipping_country(checkout), _shipping_paid(checkout)
    shipping_offered, shipping_method = check_paid_shipping(order, country, shipping_cents)
    expected = order.lines_cents + shipping_cents
    if not shipping_offered or amount != expected or str(currency or "").lower() != order.currency:
        if not order.needs_attention:
            order.needs_attention = True
            record_event(
                order,
                OrderEventKind.AMOUNT_MISMATCH,
                f"Stripe reports {amount} {currency} with {shipping_cents} for shipping "
                f"to {country or 'no address'}, for items of {order.lines_cents} "
                f"{order.currency}"
                + ("" if shipping_offered else " (a shipping amount never offered there)")
                + ": not fulfilled.",
            )
        return order

    details = stripe_value(checkout, "customer_details", {})
    paid = {
        "paid_at": utcnow(),
        "stripe_payment_intent_id": stripe_value(checkout, "payment_intent"),
        "email": stripe_value(details, "email")
        or stripe_value(checkout, "customer_email")
        or order.email,
        "customer_name": stripe_value(details, "name"),
        "shipping_address": _shipping_from(checkout),
        "shipping_cents": shipping_cents,
        "shipping_method": shipping_method,
        "total_cents": expected,
    }
    if claim_status(order, OrderStatus.PAID, allowed={OrderStatus.PENDING}, **paid):
        record_event(
            order,
            OrderEventKind.PAID,
            f"Paid {format_money(order.total_cents, order.currency)}.",
            "stripe",
        )
    elif claim_status(
        order,
        OrderStatus.PAID,
        allowed={OrderStatus.EXPIRED, OrderStatus.CANCELLED},
        needs_attention=True,
        **paid,
    ):
        _retake_stock_after_late_payment(order)
    else:
        return order  # already fulfilled by another request
    _after_payment(order)
    return order


def _retake_stock_after_late_payment(order):
    short = []
    for line in order.lines:
        if line.variant.stock is not None and not line.stock_held:
            if take_stock(line.variant_id, line.quantity):
                line.stock_held = True
            else:
                short.append(line.sku)
    message = "Paid after its checkout had expired and its stock had been released."
    if short:
        message += (
            " Not enough stock now for: " + ", ".join(short) + ". Please contact the customer."
        )
    else:
        message += " The stock was taken again; please check the order."
    record_event(order, OrderEventKind.FLAGGED, message, "stripe")


def _after_payment(order):
    programs = {line.product_id for line in order.lines if line.is_program}
    for product_id in sorted(programs) if order.email else ():
        db.session.add(
            ProgramAccess(order_id=order.id, product_id=product_id, email=order.email.lower())
        )
    db.session.flush()
    if not order.needs_shipping and claim_status(
        order, OrderStatus.FULFILLED, allowed={OrderStatus.PAID}
    ):
        record_event(order, OrderEventKind.FULFILLED, "Program access given.")
    if order.cart_id:
        db.session.execute(delete(CartLine).where(CartLine.cart_id == order.cart_id))
    if order.email:
        send_order_confirmation(order)


def _close_from_stripe(checkout, to, kind, message):
    order = order_for_session(checkout["id"], stripe_value(checkout, "metadata"))
    if order:
        close_unpaid(order, to, kind, message, "stripe")
    return order


def expire_order(checkout):
    """``checkout.session.expired``: pending to expired, releasing the stock once."""
    return _close_from_stripe(
        checkout,
        OrderStatus.EXPIRED,
        OrderEventKind.EXPIRED,
        "Checkout expired unpaid; stock released.",
    )


def fail_payment(checkout):
    """``checkout.session.async_payment_failed``: cancelled, stock released once."""
    return _close_from_stripe(
        checkout,
        OrderStatus.CANCELLED,
        OrderEventKind.PAYMENT_FAILED,
        "The payment failed; stock released.",
    )


def mark_shipped(order, tracking_number, actor):
    """A paid vest order leaves: record the tracking number and email the customer.
    ``actor``: the staff account (in the order's log and the audit log). Raises
    :class:`ShopError` when it is not waiting to ship (or was just shipped)."""
    refused = "Only a paid order waiting to ship can be marked shipped."
    if not order.needs_shipping:
        raise ShopError(refused)
    if not claim_status(
        order, OrderStatus.SHIPPED, tracking_number=tracking_number, shipped_at=utcnow()
    ):
        raise ShopError(refused)
    record_event(
        order, OrderEventKind.SHIPPED, f"Shipped, tracking number {tracking_number}.", actor.email
    )
    record_staff_action(
        actor.id, "order.ship", "order", order.id, {"tracking_number": tracking_number}
    )
    if order.email:
        send_shipped(order)


def correct_tracking_number(order, tracking_number, email_customer, actor):
    """Staff (``actor``) correct a shipped order's tracking number, audited; she is
    emailed the corrected number only when ``email_customer``. Raises
    :class:`ShopError` when the order has not shipped, the number is the one it has, or
    someone changed it since the page was read."""
    if order.shipped_at is None or not order.tracking_number:
        raise ShopError("Only a shipped order has a tracking number to correct.")
    old = order.tracking_number
    if tracking_number == old:
        raise ShopError("That is the tracking number the order has already.")
    # Compare-and-set on the number read: two corrections at once, the second is refused.
    changed = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.tracking_number == old)
        .values(tracking_number=tracking_number)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(order)
    if changed.rowcount != 1:
        raise ShopError("Someone changed the tracking number just now. Please check it again.")
    emailed = bool(email_customer and order.email)
    record_event(
        order,
        OrderEventKind.TRACKING_CORRECTED,
        f"Tracking number corrected from {old} to {tracking_number}"
        + ("; customer emailed." if emailed else "; customer not emailed."),
        actor.email,
    )
    record_staff_action(
        actor.id,
        "order.tracking",
        "order",
        order.id,
        {"old": old, "tracking_number": tracking_number, "emailed": emailed},
    )
    if emailed:
        send_shipped(order, corrected=True)
    return emailed


def clear_attention(order, actor):
    """Staff (``actor``) have dealt with a flagged order: clear the flag, keep the record. False
    when it was not flagged (or another staff member cleared it first)."""
    cleared = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.needs_attention)
        .values(needs_attention=False)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(order)
    if cleared.rowcount != 1:
        return False
    record_event(order, OrderEventKind.CHECKED, "Flag cleared by staff.", actor.email)
    record_staff_action(actor.id, "order.clear_flag", "order", order.id)
    return True
