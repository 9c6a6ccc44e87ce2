"""A customer's sign-in with an emailed code or link, and signing out.

She types her address; a code and a link go to that address (:func:`send_sign_in_link`),
the same whether it has an account or not: nothing is looked up, and the account is made
only once a code or the link is accepted (``customers.customer_for_email``). Between the
two steps the session holds the address she typed (:data:`PENDING_KEY`), never in the
address bar. The code is checked against that address only, so a code of one address
never signs in another.

A new session at sign-in (``customers.start_customer_session``): nothing from before
survives but what the areas keep across it (her cart: ``core/sessions.keep_across_sign_in``).
It is kept 30 days when she asks (``core/sessions.keep_session``), else until the browser
closes.

A new account is named from what she gave elsewhere (an order, a booking): the area that
reads the others gives the way to find it (:func:`name_new_accounts_with`), so this one
imports none of them.
"""

import time
from datetime import timedelta

from flask import current_app, session

from blueprints.account.codes import (
    SIGN_IN,
    check_code,
    email_for_link,
    issue_code,
    tries_left,
)
from blueprints.account.customers import (
    current_customer,
    customer_for_email,
    end_customer_session,
    sign_out_everywhere,
    start_customer_session,
)
from blueprints.account.emails import send_sign_in_code
from blueprints.account.models import Customer
from blueprints.core.addresses import normalise_email
from blueprints.core.audit import record_staff_action
from blueprints.core.sessions import keep_session, kept_across_sign_in
from blueprints.core.types import utcnow

# The address she typed, and when, between "email me a code" and typing it.
PENDING_KEY = "customer_sign_in"
PENDING_SECONDS = 60 * 60
KEEP_SIGNED_IN = timedelta(days=30)
_NAME_FINDER = "better_bones_name_on_record"


def name_new_accounts_with(bp, finder):
    """``finder(email)``: the name she gave with ``email`` elsewhere, or "": what her
    account is named when she first signs in. Given when ``bp`` is registered."""

    def record(state):
        state.app.extensions[_NAME_FINDER] = finder

    bp.record_once(record)


def _name_on_record(email):
    finder = current_app.extensions.get(_NAME_FINDER)
    return finder(email) if finder else ""


def send_sign_in_link(email, *, actor=None):
    """Email ``email`` a new sign-in code and link (earlier ones end). The same work
    for any address, known or not. Staff use it too (they never see the code): ``actor``
    is then the staff account, and the audit entry names her account, made now if she
    has none yet, so the log says whom. Never her address nor the code: the audit log
    can never be changed, and her address must go when she deletes her account.
    Returns that account when staff sent it (else None). Flushes; the caller commits,
    and the outbox sends after the commit."""
    email = normalise_email(email)
    code, link_token = issue_code(email, SIGN_IN)
    send_sign_in_code(email, code, link_token, by_staff=actor is not None)
    if actor is None:
        return None
    customer = customer_for_email(email)
    record_staff_action(actor.id, "customer.sign_in_link", "customer", customer.id)
    return customer


def request_sign_in_code(email, next_url=None):
    """The sign-in page's first step: send the code, and remember in this session the
    address it went to and the page to open afterwards (checked again when used).
    Flushes."""
    send_sign_in_link(email)
    session[PENDING_KEY] = {
        "email": normalise_email(email),
        "at": int(time.time()),
        "next": next_url if isinstance(next_url, str) else None,
    }


def _pending():
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or not isinstance(pending.get("email"), str):
        return None
    at = pending.get("at")
    if not isinstance(at, int) or isinstance(at, bool) or time.time() - at > PENDING_SECONDS:
        return None
    return pending


def pending_email():
    """The address this session asked a code for (within the hour), or None."""
    pending = _pending()
    return pending["email"] if pending else None


def pending_next(email):
    """The page she was on her way to when she asked for the code of ``email`` in this
    browser, unchecked (the view checks it), or None."""
    pending = _pending()
    return pending.get("next") if pending and pending["email"] == email else None


def code_tries_left(email):
    """Tries the live code of ``email`` allows; 0: she needs a new code."""
    return tries_left(email, SIGN_IN)


def sign_in_with_code(email, code, keep=False):
    """Sign in as ``email`` when ``code`` is its live code (used up then); the customer,
    or None (a wrong code counts one of its tries). Flushes."""
    if not check_code(email, code, SIGN_IN):
        return None
    return _sign_in(email, keep)


def sign_in_with_link(link_token, keep=False):
    """Sign in with the emailed link (used up then); the customer, or None when the link
    is unknown, used or expired. Flushes."""
    email = email_for_link(link_token)
    if email is None:
        return None
    return _sign_in(email, keep)


def _sign_in(email, keep):
    customer = customer_for_email(email, create=True)
    if not customer.name:
        # Her name as she gave it when buying or booking: the comment form and staff's
        # directory show it. A name she has (she may have changed it) is kept.
        customer.name = _name_on_record(email)[: Customer.name.type.length]
    start_customer_session(customer, keep_cart=kept_across_sign_in())
    keep_session(utcnow() + KEEP_SIGNED_IN if keep else None)
    return customer


def sign_out():
    """Sign out in this browser: the session ends, the cart stays."""
    kept = {key: session[key] for key in kept_across_sign_in() if key in session}
    end_customer_session()
    session.clear()
    session.update(kept)
    keep_session(None)


def sign_out_all_devices():
    """Sign out in every browser she is signed in on (her session token rotates), this
    one included. Flushes."""
    customer = current_customer()
    if customer is not None:
        sign_out_everywhere(customer)
    sign_out()
