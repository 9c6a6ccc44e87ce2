"""Staff account work: creating accounts, checking passwords, signing out everywhere."""

import hmac
from contextlib import suppress
from datetime import timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, or_, select, update

from blueprints.account.models import StaffRole, User, new_session_token
from blueprints.core.addresses import normalise_email
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


def create_staff(email, password, name="", role=None):
    """Add a staff account (or reset the password of an existing one). A new account is
    an owner unless ``role`` says otherwise; an existing one keeps its role unless
    ``role`` is given. Flushes."""
    email = normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name, role=StaffRole(role or StaffRole.OWNER))
        db.session.add(user)
    else:
        if role is not None:
            user.role = StaffRole(role)
        if name:
            user.name = name
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
    if user is None or user.session_token != token or not user.active:
        return None
    return user


# --- the optional second factor (TOTP) ---------------------------------------------------

TOTP_ISSUER = "Better Bones"
TOTP_VALID_WINDOW = 1  # one 30-second step either side, for a phone clock a little off


def new_totp_secret():
    return pyotp.random_base32()


def totp_uri(email, secret):
    """The otpauth:// address an authenticator app reads (typed or scanned)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def _matching_step(secret, code, at=None):
    """The time step whose code equals ``code``, or None."""
    code = (code or "").replace(" ", "")
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now = int((at or utcnow()).timestamp())
    step = now // totp.interval
    for offset in range(-TOTP_VALID_WINDOW, TOTP_VALID_WINDOW + 1):
        candidate = step + offset
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def verify_totp(user, code, at=None):
    """True when ``code`` is the user's current code and was never accepted before.

    The step is recorded with one conditional UPDATE, so two requests racing with the
    same code cannot both win (replay refused even across machines). Flushes.
    """
    if not user.totp_secret:
        return False
    step = _matching_step(user.totp_secret, code, at)
    if step is None:
        return False
    won = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(user)
    return won == 1


MAX_CODE_FAILURES = 5
CODE_LOCK = timedelta(minutes=15)


def code_step_locked(user, now=None):
    """True while wrong codes have locked ``user``'s second step."""
    return user.totp_locked_until is not None and (now or utcnow()) < user.totp_locked_until


def record_code_failure(user, now=None):
    """Count one wrong code against the account (one UPDATE, so parallel guesses all
    count); the fifth locks the step for :data:`CODE_LOCK`. Returns True once locked."""
    now = now or utcnow()
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(totp_failures=User.totp_failures + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(User)
        .where(User.id == user.id, User.totp_failures >= MAX_CODE_FAILURES)
        .values(totp_failures=0, totp_locked_until=now + CODE_LOCK)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user)
    return code_step_locked(user, now)


def clear_code_failures(user):
    """A right code: the count starts again. Flushes."""
    user.totp_failures = 0
    user.totp_locked_until = None
    db.session.flush()


def enable_totp(user, secret, code, at=None):
    """Turn the second factor on once the person proves their app shows ``code``."""
    step = _matching_step(secret, code, at)
    if step is None:
        return False
    user.totp_secret = secret
    user.totp_last_step = step
    sign_out_everywhere(user)  # other sessions signed in without the second factor end
    db.session.flush()
    return True


def reset_totp(user):
    """Turn the second factor off (the ``users reset-totp`` command)."""
    user.totp_secret = None
    user.totp_last_step = None
    sign_out_everywhere(user)
    db.session.flush()


def staff_addresses():
    """Every staff account's address: staff notifications go to each of them."""
    return db.session.scalars(select(User.email).where(User.is_staff, User.active)).all()
