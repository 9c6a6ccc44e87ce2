"""Stripe events for shop orders (``metadata.kind == "order"``).

Each handler flushes; the core webhook commits once, or rolls back and answers 500 so
Stripe retries. Every handler is safe to run twice and in any order.
"""

from blueprints.core.stripe import webhook_handler
from blueprints.shop import services


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
