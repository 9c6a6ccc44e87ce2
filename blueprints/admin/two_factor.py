"""Staff second factor (TOTP): the sign-in's second step and turning it on or off.

After the password, the session holds only a pending state (account/sign_in.py) for a few
minutes; the signed-in session starts only after a code.
"""

from flask import flash, redirect, render_template, session, url_for
from flask_login import current_user, login_user

from blueprints.account.services import (
    CODE_LOCK,
    clear_code_failures,
    code_step_locked,
    enable_totp,
    new_totp_secret,
    record_code_failure,
    reset_totp,
    totp_uri,
    verify_totp,
)
from blueprints.account.sign_in import (
    PENDING_KEY,
    complete_sign_in,
    count_failed_attempt,
    login_rate_limit,
    pending_sign_in,
    sign_in_failed,
)
from blueprints.admin.blueprint import bp
from blueprints.admin.forms import CodeForm
from blueprints.core.errors import render_error
from blueprints.core.security import staff_required
from extensions import db, limiter

ENROL_KEY = "totp_enrol"
CODE_FAILED = "That code did not work. Codes change every 30 seconds: please try the newest one."
CODE_LOCKED = (
    f"Too many wrong codes were tried for this account. The code step is locked for "
    f"{int(CODE_LOCK.total_seconds()) // 60} minutes; please sign in again after that."
)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"], deduct_when=sign_in_failed)
def login_code():
    """The second step: the 6-digit code. Wrong codes count towards the same limit per
    address as wrong passwords, and towards the account's own count on the server: five
    lock the step for 15 minutes, whatever session or cookie the guesses come with."""
    user, pending = pending_sign_in()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash("Please sign in again.", "error")
        return redirect(url_for("admin.login"), code=303)
    if code_step_locked(user):
        session.pop(PENDING_KEY, None)
        return render_error(429, CODE_LOCKED)
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        if verify_totp(user, form.code.data):
            next_url = pending.get("next") or url_for("admin.dashboard")
            clear_code_failures(user)
            complete_sign_in(user)
            db.session.commit()
            return redirect(next_url, code=303)
        error = CODE_FAILED
    if form.is_submitted():
        count_failed_attempt()
        db.session.rollback()  # nothing of the attempt but the count is kept
        locked = record_code_failure(user)
        db.session.commit()
        if locked:
            session.pop(PENDING_KEY, None)
            flash(CODE_LOCKED, "error")
            return redirect(url_for("admin.login"), code=303)
    form.code.data = ""
    status = 400 if form.is_submitted() else 200
    return render_template("admin/login_code.html", form=form, error=error), status


@bp.route("/two-factor", methods=["GET", "POST"])
@staff_required
def two_factor():
    """Turn the second factor on: show a new secret (and its otpauth:// address) and
    save it once a code from the app proves it was added."""
    user = current_user._get_current_object()
    form = CodeForm()
    if user.has_totp:
        return render_template("admin/two_factor.html", form=form, enabled=True)
    secret = session.get(ENROL_KEY) or new_totp_secret()
    session[ENROL_KEY] = secret
    error = None
    if form.validate_on_submit():
        if enable_totp(user, secret, form.code.data):
            session.pop(ENROL_KEY, None)
            db.session.commit()
            # Enabling rotated the session token: sign this session in again with it.
            login_user(user)
            flash("Two-step sign-in is on. You will be asked for a code each time.", "success")
            return redirect(url_for("admin.two_factor"), code=303)
        error = CODE_FAILED
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/two_factor.html",
        form=form,
        enabled=False,
        secret=secret,
        uri=totp_uri(user.email, secret),
        error=error,
    ), status


@bp.post("/two-factor/off")
@staff_required
def two_factor_off():
    """Turn it off from the admin area (a current code is required)."""
    user = current_user._get_current_object()
    form = CodeForm()
    if not (form.validate_on_submit() and verify_totp(user, form.code.data)):
        db.session.rollback()
        flash(CODE_FAILED, "error")
        return redirect(url_for("admin.two_factor"), code=303)
    reset_totp(user)
    db.session.commit()
    login_user(user)
    flash("Two-step sign-in is off.", "success")
    return redirect(url_for("admin.two_factor"), code=303)
