"""Stripe events for shop orders (``metadata.kind == "order"``).

Each handler flushes; the core webhook commits once, or rolls back and answers 500 so
Stripe retries. Every handler is safe to run twice and in any order.
"""

from blueprints.core.reconcile import COMPLETED, outstanding_check, stale_report
from blueprints.core.stripe import webhook_handler
from blueprints.shop import fulfilment, refunds
from blueprints.shop.models import OrderStatus

UNPAID_STATUSES = (OrderStatus.PENDING, OrderStatus.EXPIRED, OrderStatus.CANCELLED)


@webhook_handler("checkout.session.completed", "order")
def checkout_completed(checkout, event):
    # Card payments arrive paid; delayed methods wait for async_payment_succeeded.
    fulfilment.fulfil_order(checkout["id"])


@webhook_handler("checkout.session.async_payment_succeeded", "order")
def async_payment_succeeded(checkout, event):
    fulfilment.fulfil_order(checkout["id"])


@webhook_handler("checkout.session.async_payment_failed", "order")
def async_payment_failed(checkout, event):
    fulfilment.fail_payment(checkout)


@webhook_handler("checkout.session.expired", "order")
def checkout_expired(checkout, event):
    fulfilment.expire_order(checkout)


@webhook_handler("charge.refunded", "order")
def charge_refunded(charge, event):
    refunds.apply_charge_refunded(charge)


# --- reconciliation (``flask stripe reconcile``) ---------------------------------------


@outstanding_check("order")
def order_outstanding(checkout, event_type):
    """True when the order of this session has not recorded Stripe's final word yet."""
    order = fulfilment.find_order_for_session(checkout["id"], checkout["metadata"])
    if order is None:
        return False
    if event_type == COMPLETED:
        return order.paid_at is None and order.status in UNPAID_STATUSES
    return order.status == OrderStatus.PENDING


@stale_report
def stale_orders(cutoff):
    return [
        f"Order {order.reference} pending since {order.created_at:%Y-%m-%d %H:%M} UTC."
        for order in fulfilment.pending_orders_before(cutoff)
    ]
