"""The signed link to a booking's manage page: in every email, and Stripe's return
address. No account is needed; the link is the key, so it names the booking's
``public_id`` (never the sequential id) and expires."""

from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import select

from blueprints.booking.errors import LinkExpired, LinkInvalid
from blueprints.booking.models import Booking
from blueprints.core.links import external_url, signer
from extensions import db

MANAGE_SALT = "booking-manage"
MANAGE_LINK_MAX_AGE = timedelta(days=120)


def manage_token(booking):
    """The signed token of ``booking``'s manage link."""
    return signer(MANAGE_SALT).dumps(booking.public_id)


def manage_url(booking, **values):
    """The absolute manage link (``values`` add query arguments, e.g. ``paid=1``)."""
    return external_url("booking.manage", token=manage_token(booking), **values)


def booking_from_token(token):
    """The booking a manage link points at (LinkExpired / LinkInvalid otherwise)."""
    try:
        public_id = signer(MANAGE_SALT).loads(
            token, max_age=int(MANAGE_LINK_MAX_AGE.total_seconds())
        )
    except SignatureExpired:
        raise LinkExpired() from None
    except BadSignature:
        raise LinkInvalid() from None
    booking = db.session.scalar(select(Booking).where(Booking.public_id == str(public_id)))
    if booking is None:
        raise LinkInvalid("We could not find that consultation.")
    return booking
