"""Subscriptions: signing up, confirming, leaving and pausing. Services flush; the view
commits.

Every change of a subscriber's status is one compare-and-set UPDATE
(``core.states``), so two requests that confirm or leave at the same moment change the
row once.
"""

import hashlib
import secrets
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.dialects import postgresql, sqlite

from blueprints.core.addresses import normalise_email
from blueprints.core.errors import UserError
from blueprints.core.states import change_status, claim_status
from blueprints.core.types import utcnow
from blueprints.newsletter.emails import (
    queue_already_subscribed_email,
    queue_confirmation_email,
    queue_welcome_email,
)
from blueprints.newsletter.links import subscriber_id_from_unsubscribe_token
from blueprints.newsletter.models import (
    CONFIRM_EMAIL_INTERVAL,
    CONFIRM_LINK_LIFETIME,
    MAX_EMAIL_LENGTH,
    MAX_FIRST_NAME_LENGTH,
    PAUSE_LENGTH,
    Subscriber,
    SubscriberStatus,
)
from extensions import db

MAX_TOKEN_LENGTH = 200  # a confirmation token is 43 characters; longer is not ours

# Leaving forgets the confirmation token, used or not.
_NO_CONFIRM_TOKEN = {"confirm_token_hash": None, "confirm_token_expires_at": None}
# Confirming uses the token up but keeps its hash, with no expiry: reopening the link
# (an old email, the browser's history) then finds her and says she is signed up. A
# used link confirms nothing again: confirming needs a subscriber not yet confirmed.
_USED_CONFIRM_TOKEN = {"confirm_token_expires_at": None}


class InvalidAddress(UserError):
    """The address cannot be used; the message is safe to show the person."""

    status = 400
    default_message = "Please enter a full email address, like name@example.com."


# --- addresses and tokens ---------------------------------------------------------------


def normalize_address(raw):
    """Check an address typed by a person; return ``(address, normalized)``.

    Refuses line breaks (header injection), over-long and malformed addresses with a
    message that can be shown as it is.
    """
    too_long = f"That email address is too long ({MAX_EMAIL_LENGTH} characters at most)."
    if raw is None or not raw.strip():
        raise InvalidAddress("Please enter your email address.")
    if any(ch in raw for ch in "\r\n\0"):
        raise InvalidAddress("An email address cannot contain line breaks.")
    raw = raw.strip()
    if len(raw) > MAX_EMAIL_LENGTH:
        raise InvalidAddress(too_long)
    try:
        # No SMTPUTF8 (a non-ASCII name before the @): not every mail server takes it.
        result = validate_email(raw, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidAddress() from exc
    address = result.ascii_email or result.normalized
    if len(address) > MAX_EMAIL_LENGTH:
        raise InvalidAddress(too_long)
    return address, normalise_email(address)


def _hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


class UnsubscribeLink(NamedTuple):
    """What an unsubscribe link names: ``genuine`` when we signed it (an altered or
    incomplete one is not), and its ``subscriber``, None when her row was deleted since
    (her account was deleted): then nothing is sent through the link any more."""

    genuine: bool
    subscriber: Subscriber | None = None


def read_unsubscribe_link(token):
    """The ``UnsubscribeLink`` of a token from an email."""
    subscriber_id = subscriber_id_from_unsubscribe_token(token)
    if subscriber_id is None:
        return UnsubscribeLink(genuine=False)
    return UnsubscribeLink(True, db.session.get(Subscriber, subscriber_id))


def subscriber_for_email(email):
    """The subscriber row of a (verified) address, in any state, or None."""
    return db.session.scalar(
        sa.select(Subscriber).where(Subscriber.email_normalized == normalise_email(email))
    )


def eligible_subscribers_clause(now):
    """Who may receive an issue right now (SQL, evaluated by the database)."""
    return sa.and_(
        Subscriber.status == SubscriberStatus.CONFIRMED,
        sa.or_(Subscriber.paused_until.is_(None), Subscriber.paused_until <= now),
    )


# --- signing up and confirming ---------------------------------------------------------


def _send_confirmation(subscriber, now):
    """Give the subscriber a fresh confirmation token and queue the email carrying it."""
    token = secrets.token_urlsafe(32)  # 256 bits
    subscriber.confirm_token_hash = _hash_token(token)
    subscriber.confirm_token_expires_at = now + CONFIRM_LINK_LIFETIME
    subscriber.confirm_sent_at = now
    queue_confirmation_email(subscriber, token)


def _confirmation_sent_lately(subscriber, now):
    return bool(
        subscriber.confirm_sent_at and subscriber.confirm_sent_at > now - CONFIRM_EMAIL_INTERVAL
    )


def _signup_upsert(address, normalized, first_name, token_hash, now):
    """One ``INSERT ... ON CONFLICT (email_normalized) DO UPDATE ... RETURNING`` for every
    signup: a new address gets a pending row, a known one keeps its row.

    The database decides, on the row it has locked, whether a signup email is due (none
    in the last day) and whether it is a confirmation (not confirmed yet: the new token
    replaces the old) or a note (confirmed: no token). So a parallel signup, confirm or
    unsubscribe of the same address is never overwritten with what this request read.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Subscriber).values(
        email=address,
        email_normalized=normalized,
        first_name=first_name,
        status=SubscriberStatus.PENDING,
        created_at=now,
        confirm_token_hash=token_hash,
        confirm_token_expires_at=now + CONFIRM_LINK_LIFETIME,
        confirm_sent_at=now,
    )
    due = sa.or_(
        Subscriber.confirm_sent_at.is_(None),
        Subscriber.confirm_sent_at <= now - CONFIRM_EMAIL_INTERVAL,
    )
    gets_link = sa.and_(due, Subscriber.status != SubscriberStatus.CONFIRMED)

    def proposed_if(condition, column):
        return sa.case((condition, stmt.excluded[column]), else_=getattr(Subscriber, column))

    return stmt.on_conflict_do_update(
        index_elements=[Subscriber.email_normalized],
        set_={
            "confirm_token_hash": proposed_if(gets_link, "confirm_token_hash"),
            "confirm_token_expires_at": proposed_if(gets_link, "confirm_token_expires_at"),
            "confirm_sent_at": proposed_if(due, "confirm_sent_at"),
        },
    ).returning(Subscriber)


def request_subscription(raw_email, first_name=""):
    """Record a signup and write its one email to the outbox. Returns the subscriber.

    Whoever the address belongs to, the request does the same work: one token made and
    hashed, one upsert of the subscriber row, one email rendered and written. Timing
    the form so tells nobody who is on the list. A new, pending, unsubscribed or bounced
    address is sent a confirmation link (double opt-in); a confirmed one, paused or not,
    a note that it is already on the list, and only its ``confirm_sent_at`` changes. At
    most one of these goes to an address per day: a later one is written withheld, not
    sent (so the form cannot be used to flood someone's inbox).
    """
    address, normalized = normalize_address(raw_email)
    first_name = " ".join((first_name or "").split())[:MAX_FIRST_NAME_LENGTH]
    now = utcnow()
    token = secrets.token_urlsafe(32)  # 256 bits
    subscriber = db.session.scalars(
        _signup_upsert(address, normalized, first_name, _hash_token(token), now),
        execution_options={"populate_existing": True},
    ).one()
    withheld = None
    # The row carries this request's time only when the upsert found an email due. A
    # withheld confirmation holds a token that was not stored: it is never to be sent.
    if subscriber.confirm_sent_at != now:
        withheld = "Not sent: this address had a signup email within the day (one a day at most)."
    if subscriber.status == SubscriberStatus.CONFIRMED:
        queue_already_subscribed_email(subscriber, withheld=withheld)
    else:
        queue_confirmation_email(subscriber, token, withheld=withheld)
    return subscriber


@dataclass
class TokenCheck:
    """What a confirmation link finds: its subscriber (None: an unknown link, or one
    used by a reader who has left or bounced since), whether it ``expired`` unused, and
    whether it was ``already_confirmed`` (she used it and is on the list)."""

    subscriber: Subscriber | None
    expired: bool = False
    already_confirmed: bool = False

    @property
    def valid(self):
        """True when the link may confirm its subscriber now."""
        return self.subscriber is not None and not (self.expired or self.already_confirmed)


def check_confirm_token(token):
    """Find the subscriber a confirmation token belongs to, and whether it expired or
    was used by her to confirm."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return TokenCheck(None)
    subscriber = db.session.scalar(
        sa.select(Subscriber).where(Subscriber.confirm_token_hash == _hash_token(token))
    )
    if subscriber is None:
        return TokenCheck(None)
    if subscriber.status == SubscriberStatus.CONFIRMED:
        return TokenCheck(subscriber, already_confirmed=True)
    if subscriber.confirm_token_expires_at is None:
        return TokenCheck(None)  # used, and she bounced since: the link says nothing now
    expired = subscriber.confirm_token_expires_at <= utcnow()
    return TokenCheck(subscriber, expired=expired)


def confirm_subscription(token):
    """Confirm the subscriber whose valid token this is; the token is used up (its hash
    is kept, so the link can later say she is signed up), and the welcome email is
    queued (once: a second click finds her confirmed).

    Returns the subscriber, or None when the token is unknown, used or expired (and
    then nothing changes). Raises ``StatusRefused`` (409) when a parallel request with
    the same token confirmed the subscriber first.
    """
    check = check_confirm_token(token)
    if not check.valid:
        return None
    subscriber = change_status(
        check.subscriber,
        SubscriberStatus.CONFIRMED,
        refused="This signup was already confirmed: you are on the list.",
        confirmed_at=utcnow(),
        unsubscribed_at=None,
        bounced_at=None,
        paused_until=None,
        **_USED_CONFIRM_TOKEN,
    )
    # Once per confirmation: a second click finds her confirmed and changes nothing.
    queue_welcome_email(subscriber)
    return subscriber


def resend_confirmation(token):
    """Send a fresh link in place of an expired one (at most one per 24 hours).

    Returns True when the expired token was recognised.
    """
    check = check_confirm_token(token)
    if check.subscriber is None or not check.expired:
        return False
    now = utcnow()
    if not _confirmation_sent_lately(check.subscriber, now):
        _send_confirmation(check.subscriber, now)
        db.session.flush()
    return True


# --- leaving and pausing -----------------------------------------------------------------


def unsubscribe(subscriber):
    """Take the subscriber off the list; safe to call again (nothing more changes)."""
    claim_status(
        subscriber,
        SubscriberStatus.UNSUBSCRIBED,
        unsubscribed_at=utcnow(),
        paused_until=None,
        **_NO_CONFIRM_TOKEN,
    )
    return subscriber


def pause_subscription(subscriber):
    """Skip the next four weeks of issues; the subscription then carries on by itself."""
    subscriber.paused_until = utcnow() + PAUSE_LENGTH
    db.session.flush()
    return subscriber


def resume_subscription(subscriber):
    """End a pause now: the next issue goes to her again."""
    subscriber.paused_until = None
    db.session.flush()
    return subscriber
