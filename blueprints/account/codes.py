"""Codes emailed to an address: issuing them and checking them.

A code is 6 digits, valid ``CODE_MINUTES`` minutes, used once; ``MAX_CODE_FAILURES``
wrong tries end it (she asks for a new one). A new code ends the earlier ones of the same
address and purpose. Checking a code or a link is one guarded UPDATE (row count
checked), so two requests racing with one code cannot both win, and wrong tries made in
parallel all count, up to the fifth (the right code after that opens nothing).

Only HMACs of codes and link tokens (keyed with the app's secret key) are stored; the
plain code exists only in the email, never in a log or the database: the outbox blanks
its stored copy of the email once it is sent (``queue_email(forget_text=True)``).
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from blueprints.account.models import AccountCode
from blueprints.core.addresses import normalise_email
from blueprints.core.types import utcnow
from extensions import db

CODE_MINUTES = 10
MAX_CODE_FAILURES = 5
SIGN_IN = "sign_in"
CONFIRM = "confirm"
PURPOSES = (SIGN_IN, CONFIRM)


def _digest(kind, value):
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, f"account-{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _clean_code(code):
    code = (code or "").replace(" ", "").replace("-", "")
    return code if len(code) == 6 and code.isascii() and code.isdigit() else None


def issue_code(email, purpose=SIGN_IN, now=None):
    """A new code for ``email`` (normalised): returns ``(code, link_token)``, both plain,
    for the email only. ``link_token`` is None for ``CONFIRM`` codes. Earlier unused codes
    of the address and purpose end. Flushes."""
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    now = now or utcnow()
    email = normalise_email(email)
    db.session.execute(
        update(AccountCode)
        .where(
            AccountCode.email == email,
            AccountCode.purpose == purpose,
            AccountCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    link_token = secrets.token_urlsafe(32) if purpose == SIGN_IN else None
    db.session.add(
        AccountCode(
            email=email,
            purpose=purpose,
            code_hash=_digest("code", f"{email}:{code}"),
            link_hash=_digest("link", link_token) if link_token else None,
            created_at=now,
            expires_at=now + timedelta(minutes=CODE_MINUTES),
        )
    )
    db.session.flush()
    return code, link_token


def _live(now):
    return (
        AccountCode.used_at.is_(None),
        AccountCode.expires_at > now,
        AccountCode.failures < MAX_CODE_FAILURES,
    )


def _claim(row_id, now):
    """Mark the code used, once: True for the one request that wins."""
    won = db.session.execute(
        update(AccountCode)
        .where(AccountCode.id == row_id, *_live(now))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return won == 1


def check_code(email, code, purpose=SIGN_IN, now=None):
    """True when ``code`` is the live code of ``email`` for ``purpose``; it is then used
    up. A wrong code counts one try against the live code. Flushes."""
    now = now or utcnow()
    email = normalise_email(email)
    expected = _digest("code", f"{email}:{_clean_code(code) or 'not-a-code'}")
    row = db.session.scalar(
        select(AccountCode)
        .where(AccountCode.email == email, AccountCode.purpose == purpose, *_live(now))
        .order_by(AccountCode.id.desc())
        .limit(1)
    )
    if row is None:
        return False
    if _clean_code(code) and hmac.compare_digest(row.code_hash, expected):
        return _claim(row.id, now)
    # Counted only while the code lives: a burst of wrong tries stops at the fifth, so
    # the row says which came first, the right code (used) or five wrong ones (dead).
    db.session.execute(
        update(AccountCode)
        .where(AccountCode.id == row.id, *_live(now))
        .values(failures=AccountCode.failures + 1)
        .execution_options(synchronize_session=False)
    )
    return False


def email_for_link(link_token, now=None):
    """The address whose sign-in link this is, using the link up; None when the link is
    unknown, used, expired or its code was guessed at too often. Flushes."""
    if not link_token or len(link_token) > 100:
        return None
    now = now or utcnow()
    row = db.session.scalar(
        select(AccountCode).where(
            AccountCode.link_hash == _digest("link", link_token),
            AccountCode.purpose == SIGN_IN,
            *_live(now),
        )
    )
    if row is None or not _claim(row.id, now):
        return None
    return row.email


def link_is_live(link_token, now=None):
    """True while the link could still sign someone in (the page with one button shows
    the button; a scanner fetching it uses nothing up)."""
    if not link_token or len(link_token) > 100:
        return False
    now = now or utcnow()
    return (
        db.session.scalar(
            select(AccountCode.id).where(
                AccountCode.link_hash == _digest("link", link_token),
                AccountCode.purpose == SIGN_IN,
                *_live(now),
            )
        )
        is not None
    )


def tries_left(email, purpose=SIGN_IN, now=None):
    """How many more tries the live code of ``email`` allows: 0 when there is none (never
    sent, used, expired, or tried ``MAX_CODE_FAILURES`` times), so she needs a new one."""
    now = now or utcnow()
    failures = db.session.scalar(
        select(AccountCode.failures)
        .where(AccountCode.email == normalise_email(email), AccountCode.purpose == purpose)
        .where(*_live(now))
        .order_by(AccountCode.id.desc())
        .limit(1)
    )
    return 0 if failures is None else MAX_CODE_FAILURES - failures


# Spent and expired codes are kept this long (to look into a recent complaint), then
# deleted by the privacy purge.
CODE_KEEP = timedelta(days=1)


def purge_expired_codes(now=None):
    """Delete the codes that expired over :data:`CODE_KEEP` ago (``flask privacy
    purge``). Idempotent; returns how many went. Flushes."""
    cutoff = (now or utcnow()) - CODE_KEEP
    return db.session.execute(
        delete(AccountCode)
        .where(AccountCode.expires_at < cutoff)
        .execution_options(synchronize_session=False)
    ).rowcount
