"""Her data (issue #18.3): "Download my data" and "Delete my account".

Both need a fresh code, even when she is signed in: she asks, a code is emailed to her
address (``codes.issue_code(email, CONFIRM)``), she types it, and the two actions are
open for :data:`WINDOW_MINUTES` in this browser only. The window is kept in the session
(``DATA_WINDOW_KEY``, private) with her id and session token, so signing out, signing
out everywhere or another customer signing in here closes it. Codes are per address:
a code sent to one customer opens nothing for another.
"""

import json
import time

from flask import Response, redirect, render_template, request, session, url_for

from blueprints.account.codes import CONFIRM, check_code, issue_code
from blueprints.account.customers import current_customer, customer_required
from blueprints.core.errors import UserError
from blueprints.core.headers import no_store
from blueprints.core.types import utcnow
from blueprints.privacy.blueprint import bp
from blueprints.privacy.emails import send_confirm_code
from blueprints.privacy.forms import ConfirmCodeForm, DeleteAccountForm, RequestCodeForm
from blueprints.privacy.your_data import delete_account, export_data, orders_holding_up_deletion
from extensions import db, limiter

DATA_WINDOW_KEY = "data_window"
WINDOW_MINUTES = 10
WRONG_CODE = (
    "That code is not right, or it has expired or was used. Please check the latest "
    "email from us, or ask for a new code."
)
NEED_CODE = "For your safety, please confirm with a code from your email first."


def _customer_key(customer):
    return f"{customer.id}:{customer.session_token}"


def _open_window(customer):
    session[DATA_WINDOW_KEY] = {
        "customer": _customer_key(customer),
        "until": int(time.time()) + WINDOW_MINUTES * 60,
    }


def window_is_open(customer):
    """True while a code she typed in this browser, minutes ago, is in force."""
    window = session.get(DATA_WINDOW_KEY)
    if not isinstance(window, dict) or window.get("customer") != _customer_key(customer):
        return False
    until = window.get("until")
    return isinstance(until, int) and time.time() < until


def _page(status=200, sent=None, **context):
    customer = current_customer()
    context.setdefault("request_form", RequestCodeForm(formdata=None))
    context.setdefault("code_form", ConfirmCodeForm(formdata=None))
    context.setdefault("delete_form", DeleteAccountForm(formdata=None))
    return render_template(
        "privacy/data.html",
        customer=customer,
        unlocked=window_is_open(customer),
        orders_to_ship=orders_holding_up_deletion(customer),
        window_minutes=WINDOW_MINUTES,
        sent=request.args.get("sent") == "1" if sent is None else sent,
        **context,
    ), status


def _data_customer_key():
    customer = current_customer()
    return f"data-code:{customer.id if customer else 'none'}"


@bp.get("/data")
@customer_required
@no_store
def data():
    """The "Your data" page: ask for a code, type it, then download or delete."""
    return _page()


@bp.post("/data/code")
@limiter.limit("5 per hour", key_func=_data_customer_key)
@limiter.limit("20 per hour")
@customer_required
@no_store
def data_code():
    """Email her a fresh code (to her own address only)."""
    form = RequestCodeForm()
    if not form.validate():
        return _page(400, problem="This form had expired. Please press the button again.")
    customer = current_customer()
    code, _link = issue_code(customer.email, purpose=CONFIRM)
    send_confirm_code(customer.email, code)
    db.session.commit()
    return redirect(url_for("privacy.data", sent=1), 303)


@bp.post("/data/confirm")
@limiter.limit("20 per hour")
@customer_required
@no_store
def data_confirm():
    """Her code opens the download and the deletion for a few minutes."""
    form = ConfirmCodeForm()
    if not form.validate():
        return _page(400, code_form=form, sent=True)
    customer = current_customer()
    accepted = check_code(customer.email, form.code.data, purpose=CONFIRM)
    db.session.commit()  # a wrong try is counted against the code either way
    if not accepted:
        return _page(400, code_form=form, code_problem=WRONG_CODE, sent=True)
    _open_window(customer)
    return redirect(url_for("privacy.data"), 303)


@bp.get("/data/download")
@customer_required
@no_store
def data_download():
    """Everything the site holds about her address, as one JSON file."""
    customer = current_customer()
    if not window_is_open(customer):
        return _page(403, problem=NEED_CODE)
    body = json.dumps(export_data(customer), indent=2, ensure_ascii=False)
    filename = f"better-bones-my-data-{utcnow():%Y-%m-%d}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.post("/data/delete")
@customer_required
@no_store
def data_delete():
    """Delete her account, after a fresh code and the button."""
    customer = current_customer()
    if not window_is_open(customer):
        return _page(403, problem=NEED_CODE)
    form = DeleteAccountForm()
    if not form.validate():
        return _page(400, delete_form=form)
    try:
        delete_account(customer, comments=form.comments.data)
    # An order still to ship (409), or a refund Stripe could not make now: nothing was
    # changed.
    except UserError as exc:
        db.session.rollback()
        return _page(exc.status, delete_form=form, problem=exc.message)
    db.session.commit()
    session.clear()
    return redirect(url_for("privacy.data_deleted"), 303)


@bp.get("/deleted")
@no_store
def data_deleted():
    return render_template("privacy/deleted.html")
