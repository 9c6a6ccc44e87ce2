"""Staff sign-in, the parts the password step (admin/routes.py) and the code step
(admin/two_factor.py) share: starting the signed-in session, and the limit on failures."""

from flask import current_app, g, session
from flask_login import login_user


def complete_sign_in(user):
    """Start a new signed-in session for ``user``, whose password (and code, when they use
    a second factor) was accepted. The view commits and redirects after it."""
    # Nothing from before sign-in survives (the CSRF token included), so a session
    # planted on the browser beforehand is worth nothing once she has signed in.
    session.clear()
    login_user(user)
    session.permanent = True


def login_rate_limit():
    """The limit on failed sign-in attempts per address: passwords and codes alike."""
    return current_app.config["STAFF_LOGIN_RATE_LIMIT"]


def count_failed_attempt():
    """Mark this request as a failed attempt, so it counts towards the limit."""
    g.sign_in_failed = True


def sign_in_failed(response=None):
    """Flask-Limiter's ``deduct_when``: only failed attempts count, so staff who sign in
    are never slowed."""
    return g.get("sign_in_failed", False)
