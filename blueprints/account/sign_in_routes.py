"""A customer's sign-in with an emailed code or link (issue #18.1), and signing out.

1. ``/account/sign-in``: she types her address; a code and a link are emailed to it, and
   she is sent to the code page. The answer is the same page, status and work for any
   address (nothing is looked up before a code is accepted).
2. ``/account/sign-in/code``: she types the code (the address is in her session, never
   in the address bar). Five wrong tries end the code; a button sends a new one.
3. ``/account/sign-in/link/<token>``: the emailed link opens a page with one button. A
   GET only looks (a mail scanner that follows the link signs nobody in); the button's
   POST signs in.

The header says "Sign in" or "My account" without the pages being rendered per person
(they are cached and shared): a small cookie with no secret, :data:`HEADER_COOKIE`, is
kept in step with the session here, and ``static/js/site.js`` reads it.
"""

from flask import current_app, flash, g, redirect, render_template, request, session, url_for

from blueprints.account.blueprint import bp
from blueprints.account.codes import link_is_live
from blueprints.account.customer_sign_in import (
    code_tries_left,
    pending_email,
    pending_next,
    request_sign_in_code,
    sign_in_with_code,
    sign_in_with_link,
    sign_out,
    sign_out_all_devices,
)
from blueprints.account.customers import SESSION_KEY, current_customer
from blueprints.account.forms import ButtonForm, CodeForm, LinkForm, SignInForm
from blueprints.core.addresses import normalise_email
from blueprints.core.headers import no_store
from blueprints.core.security import is_safe_next
from extensions import db, limiter

# Non-secret, readable by the page's script: "1" while this browser is signed in.
HEADER_COOKIE = "bb_account"

WRONG_CODE = "That code is not right. Please check the email and type the 6 digits again."
NEW_CODE_NEEDED = (
    "That code can no longer be used: it was tried too many times, has expired or was "
    "used already. Please ask for a new code below."
)
START_AGAIN = "Please enter your email address again, and we will send you a new code."
LINK_ENDED = (
    "This sign-in link can no longer be used: it has expired (links work for 10 minutes), "
    "was used already, or a newer code was sent. Please ask for a new one."
)


def _next_or_home(target):
    return target if is_safe_next(target) else url_for("my_account.home")


# --- rate limits: per address typed (normalised) and per client address -----------------


def _address_limit():
    return current_app.config["CUSTOMER_SIGN_IN_ADDRESS_LIMIT"]


def _client_limit():
    return current_app.config["CUSTOMER_SIGN_IN_CLIENT_LIMIT"]


def _address_key():
    """The address a code is asked for: typed on the form, else the one in the session
    ("send me a new code"). Normalised, so case and spaces make no new bucket."""
    typed = request.form.get("email")
    email = typed if isinstance(typed, str) else pending_email()
    return "customer-sign-in:" + normalise_email(email)[:254]


_per_address = limiter.shared_limit(
    _address_limit, scope="customer-sign-in-address", key_func=_address_key, methods=["POST"]
)
_per_client = limiter.shared_limit(_client_limit, scope="customer-sign-in-client", methods=["POST"])


def _code_failed():
    """``deduct_when`` of the code step's limit: only wrong codes count."""
    return g.get("customer_code_failed", False)


# --- step 1: the address ------------------------------------------------------------------


def _sign_in_page(form, status=200, problem=None):
    next_value = request.values.get("next")
    return render_template(
        "account/sign_in.html",
        form=form,
        problem=problem,
        next=next_value if is_safe_next(next_value) else None,
    ), status


@bp.get("/sign-in")
@no_store
def sign_in():
    if current_customer() is not None:
        return redirect(_next_or_home(request.args.get("next")))
    return _sign_in_page(SignInForm(formdata=None))


@bp.post("/sign-in")
@_per_client
@_per_address
@no_store
def send_code():
    """Email a code and a link to the address typed; the same answer for any address."""
    form = SignInForm()
    if not form.validate():
        return _sign_in_page(form, 400)
    next_value = request.form.get("next")
    request_sign_in_code(form.email.data, next_value if is_safe_next(next_value) else None)
    db.session.commit()
    return redirect(url_for("account.enter_code"), 303)


# --- step 2: the code ----------------------------------------------------------------------


def _code_page(form, email, status=200, problem=None, new_code=False):
    return render_template(
        "account/sign_in_code.html",
        form=form,
        email=email,
        problem=problem,
        new_code=new_code,
        resend=ButtonForm(formdata=None),
    ), status


@bp.get("/sign-in/code")
@no_store
def enter_code():
    email = pending_email()
    if email is None:
        return redirect(url_for("account.sign_in"))
    return _code_page(CodeForm(formdata=None), email)


@bp.post("/sign-in/code")
@limiter.limit(_client_limit, methods=["POST"], deduct_when=lambda response: _code_failed())
@no_store
def check_code():
    email = pending_email()
    if email is None:
        return _sign_in_page(SignInForm(formdata=None), 400, problem=START_AGAIN)
    form = CodeForm()
    if not form.validate():
        return _code_page(form, email, 400)
    next_value = pending_next(email)
    customer = sign_in_with_code(email, form.code.data, keep=form.keep.data)
    if customer is None:
        db.session.commit()  # the wrong try counts
        g.customer_code_failed = True
        if code_tries_left(email) > 0:
            return _code_page(form, email, 400, problem=WRONG_CODE)
        return _code_page(form, email, 400, problem=NEW_CODE_NEEDED, new_code=True)
    db.session.commit()
    return redirect(_next_or_home(next_value), 303)


@bp.post("/sign-in/new-code")
@_per_client
@_per_address
@no_store
def new_code():
    """Send a new code to the address of this session (after five wrong tries, or when
    the first email never came)."""
    email = pending_email()
    if email is None:
        return redirect(url_for("account.sign_in"), 303)
    request_sign_in_code(email, pending_next(email))
    db.session.commit()
    flash("We have emailed you a new code. The earlier code no longer works.", "success")
    return redirect(url_for("account.enter_code"), 303)


# --- the emailed link: a page with one button ------------------------------------------------


@bp.get("/sign-in/link/<token>")
@no_store
def sign_in_link(token):
    """Only looks: a mail scanner fetching the link uses nothing up."""
    if not link_is_live(token):
        return render_template("account/sign_in_link.html", problem=LINK_ENDED, form=None), 404
    return render_template("account/sign_in_link.html", form=LinkForm(formdata=None), token=token)


@bp.post("/sign-in/link/<token>")
@_per_client
@no_store
def use_sign_in_link(token):
    form = LinkForm()
    # Opened in the browser that asked for the code: the page she was going to; on
    # another device: her home page.
    asked_for = pending_email()
    next_value = pending_next(asked_for) if asked_for else None
    customer = sign_in_with_link(token, keep=form.keep.data) if form.validate() else None
    if customer is None:
        db.session.rollback()
        return render_template("account/sign_in_link.html", problem=LINK_ENDED, form=None), 400
    db.session.commit()
    return redirect(_next_or_home(next_value if customer.email == asked_for else None), 303)


# --- signing out ---------------------------------------------------------------------------


@bp.post("/sign-out")
def sign_out_here():
    sign_out()
    flash("You are signed out.", "success")
    return redirect(url_for("blog.home"), 303)


@bp.post("/sign-out-everywhere")
def sign_out_everywhere():
    """Every browser she is signed in on is signed out (her session token rotates)."""
    sign_out_all_devices()
    db.session.commit()
    flash("You are signed out on every device.", "success")
    return redirect(url_for("blog.home"), 303)


# --- the session's upkeep and the header's cookie --------------------------------------------


@bp.before_app_request
def _forget_ended_customer_session():
    """A session whose customer signed out everywhere (or was deleted) is a reader's
    session again: it gets shared pages, and the header says "Sign in"."""
    if request.endpoint != "static" and SESSION_KEY in session and current_customer() is None:
        session.pop(SESSION_KEY, None)


@bp.after_app_request
def _keep_header_cookie_in_step(response):
    """``bb_account=1`` while this browser is signed in as a customer, for as long as
    her session cookie lives; cleared once she is not. No secret: it only chooses the
    header's words (the pages themselves are the same for everyone)."""
    app = current_app
    signed_in = SESSION_KEY in session
    marked = request.cookies.get(HEADER_COOKIE) == "1"
    secure = app.config["SESSION_COOKIE_SECURE"]
    if signed_in and (not marked or app.session_interface.should_set_cookie(app, session)):
        expires = app.session_interface.get_expiration_time(app, session)
        response.set_cookie(
            HEADER_COOKIE, "1", expires=expires, secure=secure, httponly=False, samesite="Lax"
        )
    elif not signed_in and HEADER_COOKIE in request.cookies:
        response.delete_cookie(HEADER_COOKIE, secure=secure, httponly=False, samesite="Lax")
    return response
