"""Her data, under her control: everything the site holds about her address in one
download, and deleting her account.

Each area knows its own rows and provides the two functions this module calls for an
address: ``<x>_for_export(email)`` (plain dicts) and ``erase_<x>_of(email)``. This
module only assembles them, in one transaction the view commits; emails written on the
way (a cancelled consultation's) go after the commit, through the outbox.
"""

from sqlalchemy import delete

from blueprints.account.models import AccountCode, Customer
from blueprints.blog.privacy import (
    comments_for_export,
    erase_comments_of,
    reply_notices_for_export,
)
from blueprints.booking.privacy import bookings_for_export, erase_bookings_of
from blueprints.core.outbox import emails_for_export, forget_recipient
from blueprints.core.types import utcnow
from blueprints.my_account.progress import erase_progress_of, progress_for_export
from blueprints.newsletter.privacy import erase_subscriber_of, subscription_for_export
from blueprints.shop.privacy import (
    check_orders_can_be_erased,
    erase_orders_of,
    orders_for_export,
    orders_still_to_ship,
)
from extensions import db

EXPORT_FORMAT = 1


def _when(value):
    return value.isoformat() if value else None


def export_data(customer, now=None):
    """Everything the site holds about ``customer``'s address, as one JSON-ready dict."""
    email = customer.email
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _when(now or utcnow()),
        "email": email,
        "account": {
            "name": customer.name,
            "created_at": _when(customer.created_at),
            "last_sign_in_at": _when(customer.last_sign_in_at),
        },
        "orders": orders_for_export(email),
        "consultations": bookings_for_export(email),
        "newsletter": subscription_for_export(email),
        "comments": comments_for_export(email),
        "comment_reply_notices": reply_notices_for_export(email),
        "lessons_done": progress_for_export(customer),
        # Subject, when and what became of each email to her; never their text.
        "emails": emails_for_export(email),
    }


def orders_holding_up_deletion(customer):
    """Her paid orders still waiting to ship: while there is one, her account cannot be
    deleted (the parcel needs her name and address), and the page says so."""
    return orders_still_to_ship(customer.email)


def delete_account(customer, comments, now=None):
    """Delete ``customer``'s account and what the site holds about her address.

    Future consultations are cancelled under the policy (refunded when in time), the
    newsletter ends, her comments are anonymised or removed (``comments``, see
    ``blog/privacy.py``), her orders keep their figures without her name or addresses,
    copies of emails sent to her go, and the account row with its codes goes, which ends
    every session of hers. The address can sign up again as a new customer. Flushes;
    returns a dict of counts. Raises OrdersStillToShip before changing anything while a
    paid order of hers still waits to ship (its label needs her address), and
    PaymentUnavailable (nothing changed, once the caller rolls back) when a refund
    cannot be made now."""
    now = now or utcnow()
    email = customer.email
    # First, before a consultation is cancelled and refunded through Stripe.
    check_orders_can_be_erased(email)
    summary = {
        "consultations_cancelled": erase_bookings_of(email, now=now),
        "orders_anonymised": erase_orders_of(email),
        "newsletter_ended": erase_subscriber_of(email),
        "comments_changed": erase_comments_of(email, comments),
        "lessons_forgotten": erase_progress_of(customer),
    }
    forget_recipient(email)
    db.session.execute(
        delete(AccountCode)
        .where(AccountCode.email == email)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(Customer)
        .where(Customer.id == customer.id)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    return summary
