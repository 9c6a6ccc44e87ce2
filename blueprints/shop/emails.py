"""The shop's emails: the order confirmation, the shipping notice, the refund notice
and the "My programs" link (text + HTML)."""

from blueprints.core.outbox import queue_email
from blueprints.shop.links import (
    PROGRAMS_LINK_MAX_AGE,
    my_orders_url,
    order_programs_url,
    programs_url,
    tracking_url,
)


def send_order_confirmation(order):
    """Queue the confirmation: the lines, the total, a link to her orders in My account
    (she signs in with this address first) and, for programs, the order's own link (the
    address was typed at Stripe by whoever paid: it opens nothing more)."""
    has_programs = any(line.is_program for line in order.lines)
    return queue_email(
        order.email,
        "order_confirmation",
        f"Your Better Bones order {order.reference}",
        order=order,
        programs_link=order_programs_url(order) if has_programs else None,
        orders_link=my_orders_url(),
    )


def send_programs_link(email):
    """Queue the link to every program of ``email``, to that address only."""
    return queue_email(
        email,
        "programs_link",
        "Your Better Bones programs",
        programs_link=programs_url(email),
        link_days=PROGRAMS_LINK_MAX_AGE.days,
    )


def send_shipped(order, corrected=False):
    """Queue the shipping notice: the tracking number linked to the carrier's page (as
    My account links it) and a link to her orders. ``corrected``: staff corrected the
    number after it was first sent, and the email says so."""
    subject = (
        f"The corrected tracking number for your Better Bones order {order.reference}"
        if corrected
        else f"Your Better Bones order {order.reference} is on its way"
    )
    return queue_email(
        order.email,
        "order_shipped",
        subject,
        order=order,
        corrected=corrected,
        tracking_link=tracking_url(order),
        orders_link=my_orders_url(),
    )


def send_refunded(order, amount_cents, currency, access_ended):
    """Queue the refund notice: how much went back to her card, for which order, what
    remains paid, and (``access_ended``) that a full refund closed the order's programs."""
    return queue_email(
        order.email,
        "order_refunded",
        f"Your refund for Better Bones order {order.reference}",
        order=order,
        amount_cents=amount_cents,
        currency=currency,
        remaining_cents=max(order.total_cents - order.refunded_cents, 0),
        access_ended=access_ended,
        orders_link=my_orders_url(),
    )
