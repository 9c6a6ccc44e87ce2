"""The shop's signed links to programs, no password needed.

Two kinds, kept apart by their salts:

- an order's link opens the programs of that order only. It is shown on the success
  page and sent in the order email. Whoever reaches the success page paid for that
  order, but the email they typed at Stripe proves nothing, so the link names the order,
  never the address. It signs the order's id with its random ``access_key``, which must
  still match: neither half alone opens anything.
- an address's link ("My programs") opens every program bought with that email. It is
  only ever emailed to that address, on request, so opening it proves the mailbox.
"""

import hmac
from datetime import timedelta
from urllib.parse import quote

from flask import current_app, url_for
from itsdangerous import BadSignature

from blueprints.core.addresses import normalise_email
from blueprints.core.links import external_url, signer, site_path
from blueprints.core.types import MAX_ID
from blueprints.shop.models import Order
from extensions import db

ORDER_PROGRAMS_SALT = "shop.order-programs"
ORDER_PROGRAMS_LINK_MAX_AGE = timedelta(days=3 * 365)
# ".v2": the address links that success pages showed before (to anyone who typed the
# address at Stripe) must open nothing now; their owners ask for a new one by email.
PROGRAMS_SALT = "shop.my-programs.v2"
# A new one is a form away, so an address link need not live long.
PROGRAMS_LINK_MAX_AGE = timedelta(days=30)


def programs_token(email):
    return signer(PROGRAMS_SALT).dumps(normalise_email(email))


def email_from_programs_token(token):
    """The email a "My programs" link was made for, or None when it is not valid."""
    try:
        return signer(PROGRAMS_SALT).loads(
            token, max_age=int(PROGRAMS_LINK_MAX_AGE.total_seconds())
        )
    except BadSignature:
        return None


def programs_url(email):
    """The absolute "My programs" link of ``email``: for the email sent to it only."""
    return external_url("my_account.programs", token=programs_token(email))


def order_programs_token(order):
    return signer(ORDER_PROGRAMS_SALT).dumps([order.id, order.access_key])


def order_from_programs_token(token):
    """The order an order's program link was made for, or None when it is not valid
    (bad signature, too old, or its key no longer matches)."""
    try:
        order_id, key = signer(ORDER_PROGRAMS_SALT).loads(
            token, max_age=int(ORDER_PROGRAMS_LINK_MAX_AGE.total_seconds())
        )
    except (BadSignature, TypeError, ValueError):
        return None
    if type(order_id) is not int or not 0 < order_id <= MAX_ID or not isinstance(key, str):
        return None
    order = db.session.get(Order, order_id)
    if order is None or not order.access_key:
        return None
    return order if hmac.compare_digest(order.access_key.encode(), key.encode()) else None


def order_programs_path(order):
    """The order's program link on this site (for the success page)."""
    return url_for("my_account.order_programs", token=order_programs_token(order))


def order_programs_url(order):
    """The absolute program link of ``order`` (for its emails)."""
    return external_url("my_account.order_programs", token=order_programs_token(order))


def my_orders_url():
    """The sign-in page of My account, which brings her to her orders once she is signed
    in (for the order email: she signs in with the address it was sent to)."""
    return external_url("account.sign_in", next=site_path("my_account.home") + "#orders")


def tracking_url(order):
    """The carrier's page for a shipped order's tracking number (``SHOP_TRACKING_URL``),
    or None when it has none or no carrier page is set."""
    template = current_app.config.get("SHOP_TRACKING_URL")
    if not order.tracking_number or not template:
        return None
    return template.replace("{number}", quote(order.tracking_number.strip(), safe=""))
