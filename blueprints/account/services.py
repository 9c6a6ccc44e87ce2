"""Staff account work: creating accounts, checking passwords, signing out everywhere."""

from contextlib import suppress

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select

from blueprints.account.models import User, new_session_token
from blueprints.core.types import utcnow
from extensions import db, login_manager


def _hasher():
    # Tests set ARGON2_FAST to keep the suite quick; production uses the library defaults.
    if current_app.config.get("ARGON2_FAST"):
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()


# Verifying against this hash when no account matches keeps the timing the same.
_DUMMY_HASH = None


def hash_password(password):
    return _hasher().hash(password)


def normalise_email(email):
    return (email or "").strip().lower()


def create_staff(email, password, name=""):
    """Add a staff account (or reset the password of an existing one). Flushes."""
    email = normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name)
        db.session.add(user)
    user.password_hash = hash_password(password)
    user.is_staff = True
    user.active = True
    user.session_token = new_session_token()
    db.session.flush()
    return user


def authenticate(email, password):
    """The active user with this email and password, or None (same cost either way)."""
    global _DUMMY_HASH
    user = db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))
    hasher = _hasher()
    if user is None or not user.active:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hasher.hash("not-a-real-password")
        with suppress(VerificationError, InvalidHashError):
            hasher.verify(_DUMMY_HASH, password or "")
        return None
    try:
        hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_login_at = utcnow()
    return user


def sign_out_everywhere(user):
    """Rotate the session token: every copy of the old session cookie stops working."""
    user.session_token = new_session_token()


@login_manager.user_loader
def load_user(user_id):
    user_pk, _, token = (user_id or "").partition(":")
    if not user_pk.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_pk))
    if user is None or user.session_token != token:
        return None
    return user
