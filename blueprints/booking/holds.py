"""Holding a time while she pays, and letting it go.

One live booking per time is the database's job: a held or confirmed booking owns one
``booking_slot_claim`` row per 15-minute cell it covers, and ``slot_start`` is UNIQUE,
so of two holds of one time only one INSERT succeeds. Availability is recomputed on the
server first, so a time that was never offered is refused with its own message.
"""

import logging
from datetime import timedelta

import stripe
from flask import current_app
from sqlalchemy import and_, delete, false, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from blueprints.booking import availability
from blueprints.booking.cache_tags import times_changed
from blueprints.booking.errors import (
    PaymentUnavailable,
    SlotNotOffered,
    SlotTaken,
    TooManyHolds,
    refused,
)
from blueprints.booking.events import record_change, record_event
from blueprints.booking.links import manage_url
from blueprints.booking.models import (
    GRID,
    Booking,
    BookingEvent,
    BookingEventKind,
    BookingSlotClaim,
    BookingStatus,
)
from blueprints.booking.policy import HOLD_GRACE, HOLD_MINUTES
from blueprints.core.states import claim_status
from blueprints.core.stripe import (
    create_checkout_session,
    expire_checkout_session,
    retrieve_checkout_session,
)
from blueprints.core.types import utcnow
from extensions import db

log = logging.getLogger(__name__)


# --- slot claims ------------------------------------------------------------------------


def grid_cells(starts_at, buffer_ends_at):
    """The 15-minute cells from ``starts_at`` up to ``buffer_ends_at``."""
    cells = []
    cell = starts_at
    while cell < buffer_ends_at:
        cells.append(cell)
        cell += GRID
    return cells


def claim_cells(booking):
    """Add the booking's claims on the cells its time covers (the flush that follows
    raises IntegrityError when another booking owns one of them)."""
    times_changed()
    for cell in grid_cells(booking.starts_at, booking.buffer_ends_at):
        db.session.add(BookingSlotClaim(booking_id=booking.id, slot_start=cell))


def drop_claims(booking):
    """Give up every cell the booking owns."""
    times_changed()
    db.session.execute(delete(BookingSlotClaim).where(BookingSlotClaim.booking_id == booking.id))


def take_write_lock():
    """On SQLite, start the transaction with the write lock, so simultaneous changes
    queue up behind each other instead of failing with "database is locked"."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.driver_connection
        if not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def release_expired_holds(now=None):
    """Mark every held booking whose hold ran out as expired and free its time."""
    now = now or utcnow()
    expired_ids = db.session.scalars(
        update(Booking)
        .where(Booking.status == BookingStatus.HELD, Booking.hold_expires_at <= now)
        .values(status=BookingStatus.EXPIRED, updated_at=now)
        .returning(Booking.id)
        .execution_options(synchronize_session=False)
    ).all()
    if expired_ids:
        times_changed()
        db.session.execute(
            delete(BookingSlotClaim).where(BookingSlotClaim.booking_id.in_(expired_ids))
        )
        # Many rows in one statement: the events name the ids, not loaded bookings.
        db.session.add_all(
            BookingEvent(
                booking_id=booking_id,
                kind=BookingEventKind.HOLD_EXPIRED,
                actor="system",
                from_status=BookingStatus.HELD,
                to_status=BookingStatus.EXPIRED,
            )
            for booking_id in expired_ids
        )
    return len(expired_ids)


# --- each visitor's open holds -------------------------------------------------------------

# The advisory locks of this module on PostgreSQL: (this number, a visitor's key).
_VISITOR_LOCK_SPACE = 4017


def _is_open_hold(now):
    return and_(Booking.status == BookingStatus.HELD, Booking.hold_expires_at > now)


def check_open_holds(visitor, now=None):
    """Refuse a new hold (TooManyHolds) to a visitor who already has the most unpaid
    holds one may keep, counted by client address or by browser session.

    The count is taken in the transaction that inserts the hold, behind a lock on the
    visitor (SQLite's write lock; on PostgreSQL an advisory lock per key), so holds
    sent at once cannot each count the others as not yet there."""
    now = now or utcnow()
    _lock_visitor(visitor)
    limit = current_app.config["BOOKING_MAX_OPEN_HOLDS"]
    held = db.session.scalar(
        select(func.count(Booking.id)).where(
            _is_open_hold(now),
            or_(
                Booking.hold_address_key == visitor.address_key,
                Booking.hold_session_key == visitor.session_key,
            ),
        )
    )
    if held >= limit:
        raise TooManyHolds(
            f"You are already holding {limit} times that are not paid for yet. Please "
            "finish paying for one, or let one go, before you choose another time. A time "
            f"that is not paid for is let go by itself after {HOLD_MINUTES} minutes."
        )


def _lock_visitor(visitor):
    if db.session.connection().dialect.name != "postgresql":
        return  # take_write_lock() already queues every hold on SQLite
    # Sorted, so two requests that share one of the keys always lock in the same order.
    for key in sorted({visitor.address_key, visitor.session_key}):
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"),
            {"space": _VISITOR_LOCK_SPACE, "key": int(key[:8], 16) - 2**31},
        )


def open_holds_of_session(session_key, now=None):
    """The unpaid holds this browser has open, oldest first (for "finish or let go")."""
    if session_key is None:
        return []
    return db.session.scalars(
        select(Booking)
        .where(_is_open_hold(now or utcnow()), Booking.hold_session_key == session_key)
        .order_by(Booking.id)
    ).all()


# --- her own holds, chosen again ---------------------------------------------------------

# Said when her earlier payment page could not be closed, so her new hold was not made.
_NOT_CLOSED = (
    "We could not reach the payment service just now. Please try again in a few "
    "minutes: the time you are holding stays yours until then."
)


# A hold younger than this without a Checkout Session may be having one made by the
# request that holds it (Stripe's timeout and a retry, with room to spare): it is not
# replaced, lest its page open for a hold let go. An older one never got its page.
_CHECKOUT_STARTING = timedelta(minutes=2)


def close_earlier_holds(ctype, starts_at, visitor, let_go=None, now=None):
    """Her own unpaid holds that a new hold at ``starts_at`` takes the place of, with
    their payment pages closed at Stripe; the new hold releases them (``hold_slot``'s
    ``replacing``).

    They are the holds of her browser (``visitor.session_key``; another browser at the
    same address is someone else) whose time overlaps the new one: she came back from
    the payment page and chose the time again, perhaps with other answers. And the one
    she chose to let go (``let_go``, its public id) to stay within her allowance.

    Stripe is asked first, outside the transaction that holds the time (a network call
    must never keep every other booking waiting), and before the hold is given up, so
    the old page can no longer be paid. PaymentUnavailable when Stripe could not close
    one that may still be paid (the hold is then kept)."""
    if starts_at is None or visitor is None or visitor.session_key is None:
        return []
    now = now or utcnow()
    ends_at = starts_at + ctype.duration + ctype.buffer
    overlapping = and_(Booking.starts_at < ends_at, Booking.buffer_ends_at > starts_at)
    chosen = Booking.public_id == let_go if isinstance(let_go, str) and let_go else false()
    earlier = db.session.scalars(
        select(Booking)
        .where(
            _is_open_hold(now),
            Booking.hold_session_key == visitor.session_key,
            or_(overlapping, chosen),
        )
        .order_by(Booking.id)
    ).all()
    closed = []
    for booking in earlier:
        if booking.stripe_session_id is None and booking.created_at > now - _CHECKOUT_STARTING:
            continue  # another press is making its payment page now: see own_hold_at
        if booking.stripe_session_id and not _close_checkout(booking.stripe_session_id):
            raise PaymentUnavailable(_NOT_CLOSED)
        closed.append(booking)
    return closed


def own_hold_at(starts_at, visitor, now=None):
    """Her browser's open hold of ``starts_at``, else None: what a second press of the
    button at once meets (the first saved it after the second looked for her holds)."""
    if starts_at is None or visitor is None:
        return None
    return db.session.scalar(
        select(Booking)
        .where(
            _is_open_hold(now or utcnow()),
            Booking.hold_session_key == visitor.session_key,
            Booking.starts_at == starts_at,
        )
        .order_by(Booking.id.desc())
        .limit(1)
    )


def _close_checkout(session_id):
    """Expire an open Checkout Session; True once it can no longer be paid."""
    try:
        expire_checkout_session(session_id)
        return True
    except stripe.StripeError as exc:
        log.warning("Could not expire checkout session %s: %s", session_id, exc)
    try:  # Stripe refuses to expire a session that has already expired
        return retrieve_checkout_session(session_id).status == "expired"
    except stripe.StripeError:
        return False


def _release_replaced(earlier, reason):
    for booking in earlier:
        if claim_status(booking, BookingStatus.RELEASED, allowed={BookingStatus.HELD}):
            record_change(
                booking, BookingEventKind.HOLD_RELEASED, BookingStatus.HELD, "client", reason
            )
            drop_claims(booking)


def release_closed_holds(earlier):
    """Let go of the holds :func:`close_earlier_holds` closed, when the new hold could
    not be made after all: their payment pages are closed, so they can never be paid and
    would only keep the time from everyone until they run out."""
    take_write_lock()
    _release_replaced(earlier, "its payment page was closed for a new choice")
    db.session.flush()


# --- offered times ------------------------------------------------------------------------


def check_offered(ctype, starts_at, *, now=None, exclude_booking_id=None):
    """Refuse a time that is not offered: SlotTaken when another booking has it,
    SlotNotOffered when it never was (off the grid, too soon, too late, off hours)."""
    if starts_at is None:
        raise SlotNotOffered()
    options = {"now": now, "exclude_booking_id": exclude_booking_id}
    if availability.is_offered(ctype, starts_at, **options):
        return
    if availability.is_offered(ctype, starts_at, include_bookings=False, **options):
        raise SlotTaken()
    raise SlotNotOffered()


def next_free_times(ctype, after=None, limit=6):
    """The first few free times (after ``after``), for "that time was just taken"."""
    slots = availability.free_slots(ctype)
    if after is not None:
        later = [s for s in slots if s > after]
        slots = later or slots
    return slots[:limit]


# --- holding and paying ---------------------------------------------------------------------


def hold_slot(ctype, starts_at, details, now=None, visitor=None, replacing=()):
    """Hold ``starts_at`` for a client while she pays; returns the flushed booking.

    Her earlier holds in ``replacing`` (from :func:`close_earlier_holds`) are let go in
    the same transaction first, so her own hold never refuses her and counts once. A
    ``visitor`` (core.visitors) who then still holds BOOKING_MAX_OPEN_HOLDS unpaid times
    is refused (TooManyHolds). Recomputes availability first (SlotNotOffered) and lets
    the UNIQUE slot claims refuse a time someone else holds at the same instant
    (SlotTaken, after a rollback).
    """
    now = now or utcnow()
    take_write_lock()
    release_expired_holds(now)
    if visitor is not None:
        _release_replaced(
            [b for b in replacing if b.hold_session_key == visitor.session_key],
            "replaced by her new choice",
        )
    if visitor is not None:
        check_open_holds(visitor, now)
    check_offered(ctype, starts_at, now=now)
    booking = Booking(
        consultation_type=ctype,
        status=BookingStatus.HELD,
        starts_at=starts_at,
        ends_at=starts_at + ctype.duration,
        buffer_ends_at=starts_at + ctype.duration + ctype.buffer,
        hold_expires_at=now + timedelta(minutes=HOLD_MINUTES) + HOLD_GRACE,
        hold_address_key=visitor.address_key if visitor else None,
        hold_session_key=visitor.session_key if visitor else None,
        price_cents=ctype.price_cents,
        currency=ctype.currency,
        policy_accepted_at=now,
        **details,
    )
    db.session.add(booking)
    try:
        db.session.flush()
        claim_cells(booking)
        record_event(booking, BookingEventKind.HELD, actor="client", to_status=BookingStatus.HELD)
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise SlotTaken() from None
    return booking


def start_checkout(booking):
    """Create the Stripe Checkout Session for a held booking; returns its URL.

    On any Stripe failure the hold is released at once and PaymentUnavailable raised."""
    ctype = booking.consultation_type
    try:
        session = create_checkout_session(
            kind="booking",
            object_id=booking.id,
            line_items=[
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": booking.currency,
                        "unit_amount": booking.price_cents,
                        "product_data": {"name": f"{ctype.name} with Dr. Susan E. Brown"},
                    },
                }
            ],
            customer_email=booking.email,
            customer_name=booking.name,
            success_url=manage_url(booking, paid=1),
            cancel_url=manage_url(booking, checkout="cancelled"),
            expires_at=utcnow() + timedelta(minutes=HOLD_MINUTES, seconds=30),
            idempotency_key=f"booking-{booking.public_id}-checkout",
        )
    except stripe.StripeError as exc:
        log.warning("Checkout for booking %s failed: %s", booking.id, exc)
        release_hold(booking, "payment could not start")
        raise PaymentUnavailable() from exc
    booking.stripe_session_id = session.id
    booking.checkout_url = session.url
    record_event(booking, BookingEventKind.CHECKOUT_STARTED, actor="client", session_id=session.id)
    db.session.flush()
    return session.url


def release_hold(booking, reason, actor="system"):
    """Give up a held time at once (payment could not start, or she changed her mind).

    Raises StatusRefused when the booking is no longer held (paid or expired meanwhile).
    """
    if not claim_status(booking, BookingStatus.RELEASED, allowed={BookingStatus.HELD}):
        raise refused(booking)
    record_change(booking, BookingEventKind.HOLD_RELEASED, BookingStatus.HELD, actor, reason)
    drop_claims(booking)
    db.session.flush()
