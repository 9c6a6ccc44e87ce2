"""The signed-in customer: who she is in this request, and starting and ending her session.

A customer's session holds one key, ``customer`` = ``"<id>:<session token>"``, beside
anything else a reader's session holds (a cart). Staff sign in through Flask-Login
(``_user_id``); the two never mix. Rotating ``Customer.session_token`` ends every copy of
her session ("sign out everywhere", deleting the account).

Views use :func:`current_customer` and :func:`customer_required`; the code sign-in
(``account/codes.py``) calls :func:`start_customer_session` once a code is accepted.
"""

from functools import wraps

from flask import g, redirect, request, session, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from blueprints.account.models import Customer, new_session_token
from blueprints.core.addresses import normalise_email
from blueprints.core.types import utcnow
from extensions import db

SESSION_KEY = "customer"
_UNSET = object()


def current_customer():
    """The customer signed in on this request, or None (looked up once per session value:
    ``g`` can outlive a request when an app context is held open, as tests do)."""
    value = session.get(SESSION_KEY)
    cached_value, customer = g.get("_customer", (_UNSET, None))
    if cached_value != value:
        customer = _customer_from_session(value)
        g._customer = (value, customer)
    return customer


def _customer_from_session(value):
    pk, _, token = str(value or "").partition(":")
    if not pk.isdigit() or not token:
        return None
    customer = db.session.get(Customer, int(pk))
    if customer is None or customer.session_token != token:
        return None
    return customer


def customer_required(view):
    """Send a reader who is not signed in as a customer to the sign-in page, and back."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_customer() is None:
            # Back to this page after signing in; a form's POST address is not a page.
            back = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("account.sign_in", next=back or url_for("my_account.home")))
        return view(*args, **kwargs)

    return wrapped


def customer_for_email(email, create=True):
    """The account of this (verified) address, made on first sign-in when ``create``.
    Flushes."""
    email = normalise_email(email)
    customer = db.session.scalar(select(Customer).where(Customer.email == email))
    if customer is None and create:
        # The unique address decides: two first sign-ins at once (the code in one browser,
        # the link in another) make one account, and the second finds it.
        try:
            with db.session.begin_nested():
                customer = Customer(email=email)
                db.session.add(customer)
                db.session.flush()
        except IntegrityError:
            customer = db.session.scalar(select(Customer).where(Customer.email == email))
            if customer is None:
                raise
    return customer


def rename_customer(customer, name):
    """Her name as she typed it in My account (checked by the form). Flushes."""
    customer.name = name
    db.session.flush()


def start_customer_session(customer, keep_cart=None):
    """Start a new session for ``customer``, whose emailed code was accepted.

    Nothing from before survives but the cart (``keep_cart``: the session keys to carry
    over), so a session planted on the browser beforehand is worth nothing afterwards.
    The view commits and redirects after it.
    """
    kept = {key: session[key] for key in (keep_cart or ()) if key in session}
    session.clear()
    session.update(kept)
    session[SESSION_KEY] = f"{customer.id}:{customer.session_token}"
    customer.last_sign_in_at = utcnow()
    g._customer = (session[SESSION_KEY], customer)


def end_customer_session():
    """Sign out in this browser only."""
    session.pop(SESSION_KEY, None)
    g.pop("_customer", None)


def sign_out_everywhere(customer):
    """Rotate her session token: every copy of her session stops working. Flushes."""
    customer.session_token = new_session_token()
    db.session.flush()
