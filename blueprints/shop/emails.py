"""The shop's emails: the order confirmation and the shipping notice (text + HTML)."""

from blueprints.core.outbox import queue_email
from blueprints.shop.links import programs_url


def send_order_confirmation(order):
    """Queue the confirmation: the lines, the total and, for programs, the signed link."""
    has_programs = any(line.is_program for line in order.lines)
    return queue_email(
        order.email,
        "order_confirmation",
        f"Your Better Bones order {order.reference}",
        order=order,
        programs_link=programs_url(order.email) if has_programs else None,
    )


def send_shipped(order):
    """Queue the shipping notice with the tracking number."""
    return queue_email(
        order.email,
        "order_shipped",
        f"Your Better Bones order {order.reference} is on its way",
        order=order,
    )
