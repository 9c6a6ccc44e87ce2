"""Staff pages for customers (issue #18.5): the directory searched by email or name, one
page per customer with everything held under her address, and emailing her a sign-in
code. The work is My account's directory (``my_account/directory.py``) and the sign-in's
(``account/customer_sign_in.py``); these views parse the request and render. Staff never
see a customer's code: it goes to her mailbox only.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.account.codes import CODE_MINUTES
from blueprints.account.customer_sign_in import send_sign_in_link
from blueprints.admin.blueprint import bp
from blueprints.core.addresses import normalise_email
from blueprints.core.forms import has_control_characters
from blueprints.core.security import staff_required
from blueprints.core.timezones import practitioner_zone, to_zone
from blueprints.core.types import parse_id
from blueprints.my_account.directory import customer_by_id, customer_record, search_customers
from blueprints.my_account.directory_forms import CustomerSearchForm, SignInLinkForm
from extensions import db, limiter

MAX_PAGE = 100_000
MAX_EMAIL_LENGTH = 254
CODES_PER_ADDRESS = "5/hour"


@bp.get("/customers")
@staff_required
def customers():
    form = CustomerSearchForm(request.args)
    if not form.validate():
        return render_template("admin/customers.html", form=form, page=None), 400
    text = (form.q.data or "").strip()
    page = search_customers(text, parse_id(request.args.get("page", ""), maximum=MAX_PAGE) or 1)
    return render_template("admin/customers.html", form=form, page=page, text=text)


def _customer_url(record):
    if record.customer is not None:
        return url_for("admin.customer", customer_id=record.customer.id)
    return url_for("admin.customer_by_email", email=record.email)


def _render_customer(record, form=None, status=200):
    form = form or SignInLinkForm(formdata=None, email=record.email)
    zone = practitioner_zone()
    schedule_days = {b.id: to_zone(b.starts_at, zone).date() for b in record.bookings}
    return render_template(
        "admin/customer.html",
        record=record,
        link_form=form,
        code_minutes=CODE_MINUTES,
        schedule_days=schedule_days,
    ), status


@bp.get("/customers/<int:customer_id>")
@staff_required
def customer(customer_id):
    account = customer_by_id(customer_id) or abort(404)
    return _render_customer(customer_record(account.email))


def _email_arg(value):
    email = normalise_email(value if isinstance(value, str) else "")
    if not email or len(email) > MAX_EMAIL_LENGTH or has_control_characters(email):
        return None
    return email


@bp.get("/customers/by-email")
@staff_required
def customer_by_email():
    """A customer known by her address (an order's, a booking's, ...): her account's page
    when she has one, else the same page for the address alone."""
    email = _email_arg(request.args.get("email"))
    record = customer_record(email) if email else None
    if record is None or not record.known:
        abort(404)
    if record.customer is not None:
        return redirect(_customer_url(record))
    return _render_customer(record)


def _link_address():
    """The rate limit's key: the address a code goes to, so no one's mailbox is flooded
    (however many staff press the button)."""
    return "staff-code:" + (_email_arg(request.form.get("email")) or "")


@bp.post("/customers/sign-in-link")
@staff_required
@limiter.limit(CODES_PER_ADDRESS, key_func=_link_address)
def customer_sign_in_link():
    """Email her a fresh sign-in code; the page says only where it went."""
    form = SignInLinkForm()
    email = _email_arg(form.email.data)
    record = customer_record(email) if email else None
    if record is None or not record.known:
        abort(404)  # only someone the site knows, not any address typed into the request
    if not form.validate():
        return _render_customer(record, form, 400)
    account = send_sign_in_link(record.email, actor=current_user._get_current_object())
    db.session.commit()
    flash(
        f"We emailed a sign-in code to {record.email}. It works for {CODE_MINUTES} minutes.",
        "success",
    )
    return redirect(url_for("admin.customer", customer_id=account.id), 303)
