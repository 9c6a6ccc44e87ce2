"""Stripe events for shop orders (``metadata.kind == "order"``).

Each handler flushes; the core webhook commits once, or rolls back and answers 500 so
Stripe retries. Every handler is safe to run twice and in any order.
"""

from blueprints.core.reconcile import COMPLETED, outstanding_check, stale_report
from blueprints.core.stripe import webhook_handler
from blueprints.shop import services
from blueprints.shop.models import OrderState

UNPAID_STATES = (OrderState.PENDING, OrderState.EXPIRED, OrderState.CANCELLED)


@webhook_handler("checkout.session.completed", "order")
def checkout_completed(checkout, event):
    # Card payments arrive paid; delayed methods wait for async_payment_succeeded.
    services.fulfil_order(checkout["id"])


@webhook_handler("checkout.session.async_payment_succeeded", "order")
def async_payment_succeeded(checkout, event):
    services.fulfil_order(checkout["id"])


@webhook_handler("checkout.session.async_payment_failed", "order")
def async_payment_failed(checkout, event):
    services.fail_payment(checkout)


@webhook_handler("checkout.session.expired", "order")
def checkout_expired(checkout, event):
    services.expire_order(checkout)


@webhook_handler("charge.refunded", "order")
def charge_refunded(charge, event):
    services.apply_charge_refunded(charge)


# --- reconciliation (``flask stripe reconcile``) ---------------------------------------


@outstanding_check("order")
def order_outstanding(checkout, event_type):
    """True when the order of this session has not recorded Stripe's final word yet."""
    order = services.order_for_session_readonly(checkout["id"], checkout["metadata"])
    if order is None:
        return False
    if event_type == COMPLETED:
        return order.paid_at is None and order.state in UNPAID_STATES
    return order.state == OrderState.PENDING


@stale_report
def stale_orders(cutoff):
    return [
        f"Order {order.reference} pending since {order.created_at:%Y-%m-%d %H:%M} UTC."
        for order in services.pending_orders_before(cutoff)
    ]
