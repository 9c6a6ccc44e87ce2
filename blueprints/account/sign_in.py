"""Staff sign-in, what the password step (admin/routes.py) and the code step
(admin/two_factor.py) share: the pending state between them, starting the signed-in
session, and the limit on failed attempts.

After the password of someone with a second factor, the session holds only a pending
state (user id, session token, when) for a few minutes; wrong codes are counted on the
account (account/services.py), not here.
"""

import time

from flask import current_app, g, session
from flask_login import login_user

from blueprints.account.models import User
from extensions import db

PENDING_KEY = "totp_pending"
PENDING_SECONDS = 300


def start_second_step(user, next_url):
    """Replace the session with a pending second step for ``user`` (password accepted)."""
    session.clear()
    session[PENDING_KEY] = {
        "uid": user.id,
        "token": user.session_token,
        "at": int(time.time()),
        "next": next_url,
    }


def pending_sign_in():
    """(user, pending state) of a second step still open in this session, else (None, None)."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, None
    user = db.session.get(User, pending.get("uid"))
    if user is None or not user.active or not user.is_staff or not user.has_totp:
        return None, None
    if user.session_token != pending.get("token"):
        return None, None  # signed out everywhere meanwhile
    return user, pending


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
