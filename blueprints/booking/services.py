"""Booking work: holding a time, paying, confirming, changing, cancelling, reminding.

Every function here flushes and never commits; the view (or the webhook, or the CLI
command) commits once. The one rule for what may follow what is
:func:`check_transition`; every change is written to the append-only ``booking_event``.
"""

import json
import logging
from datetime import UTC, datetime, timedelta

import stripe
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from blueprints.booking import availability, emails
from blueprints.booking.display import slot_value  # noqa: F401 (pages and tests use it here)
from blueprints.booking.models import (
    GRID,
    BlockedTime,
    Booking,
    BookingEvent,
    BookingSlotClaim,
    BookingStatus,
    CallType,
    ConsultationType,
    DateOverride,
    WeeklyHours,
)
from blueprints.core.cache import invalidate_after_commit
from blueprints.core.reconcile import COMPLETED as RECONCILE_COMPLETED
from blueprints.core.reconcile import outstanding_check, stale_report
from blueprints.core.stripe import create_checkout_session, create_refund, webhook_handler
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import utcnow
from extensions import db

log = logging.getLogger(__name__)

# --- the cancellation policy: the one place it is defined ------------------------------

FREE_CHANGE_HOURS = 48
HOLD_MINUTES = 30
# Stripe wants a session to live at least 30 minutes after it is created; the hold lasts
# a little longer than the session so a payment made in its last second still finds it.
HOLD_GRACE = timedelta(minutes=3)
MANAGE_SALT = "booking-manage"
MANAGE_LINK_MAX_AGE = timedelta(days=120)


def cancellation_policy():
    """The policy in plain words, shown on the form, the emails and the manage page."""
    return (
        f"You can cancel or move your consultation free of charge up to {FREE_CHANGE_HOURS} "
        "hours before it starts; if you cancel in time, your payment is refunded in full "
        f"automatically. Within {FREE_CHANGE_HOURS} hours of the start we cannot refund "
        "or move the consultation."
    )


def change_deadline(booking):
    return booking.starts_at - timedelta(hours=FREE_CHANGE_HOURS)


def can_change_free(booking, now=None):
    """True while the client may still move or cancel with a full refund."""
    return (now or utcnow()) < change_deadline(booking)


# --- errors ---------------------------------------------------------------------------


class BookingError(Exception):
    """A refusal with a message for the person and an HTTP status for the view."""

    status = 400

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class SlotNotOffered(BookingError):
    status = 422


class SlotTaken(BookingError):
    status = 409


class TransitionRefused(BookingError):
    status = 409


class PaymentUnavailable(BookingError):
    status = 503


# --- the state machine -------------------------------------------------------------------

_TRANSITIONS = {
    BookingStatus.HELD: {BookingStatus.CONFIRMED, BookingStatus.EXPIRED, BookingStatus.RELEASED},
    # A payment that arrives after the hold ran out is honoured if the time is still free.
    BookingStatus.EXPIRED: {BookingStatus.CONFIRMED},
    BookingStatus.CONFIRMED: {
        BookingStatus.CONFIRMED,  # rescheduled: same state, a new time
        BookingStatus.CANCELLED,
        BookingStatus.COMPLETED,
        BookingStatus.NO_SHOW,
    },
}


def check_transition(booking, to_status):
    """Allow or refuse moving ``booking`` to ``to_status`` (raises TransitionRefused)."""
    if to_status not in _TRANSITIONS.get(booking.status, set()):
        raise TransitionRefused(
            f"This consultation is {booking.status.value.replace('_', ' ')}, so it cannot "
            f"be marked {to_status.value.replace('_', ' ')}."
        )


def record_event(booking, kind, actor, from_status=None, to_status=None, **detail):
    """Append one row to the booking's history."""
    db.session.add(
        BookingEvent(
            booking=booking,
            kind=kind,
            actor=actor,
            from_status=from_status.value if from_status else None,
            to_status=to_status.value if to_status else None,
            detail=json.dumps(detail, default=str) if detail else "",
        )
    )


def transition(booking, to_status, *, kind, actor, **detail):
    """Move a booking to ``to_status`` after :func:`check_transition`, and record it."""
    check_transition(booking, to_status)
    before = booking.status
    booking.status = to_status
    record_event(booking, kind, actor, before, to_status, **detail)


# --- slot claims: the database's guard against double booking --------------------------


def grid_cells(starts_at, buffer_ends_at):
    cells = []
    cell = starts_at
    while cell < buffer_ends_at:
        cells.append(cell)
        cell += GRID
    return cells


def times_changed():
    """Clear the free-times pages once the change commits (one calendar for all types)."""
    invalidate_after_commit("booking:times")


def _claim_cells(booking):
    times_changed()
    for cell in grid_cells(booking.starts_at, booking.buffer_ends_at):
        db.session.add(BookingSlotClaim(booking_id=booking.id, slot_start=cell))


def _drop_claims(booking):
    times_changed()
    db.session.execute(delete(BookingSlotClaim).where(BookingSlotClaim.booking_id == booking.id))


def _take_write_lock():
    """On SQLite, start the transaction with the write lock, so simultaneous holds queue
    up behind each other instead of failing with "database is locked"."""
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
        for booking_id in expired_ids:
            db.session.add(
                BookingEvent(
                    booking_id=booking_id,
                    kind="hold_expired",
                    actor="system",
                    from_status=BookingStatus.HELD.value,
                    to_status=BookingStatus.EXPIRED.value,
                )
            )
    return len(expired_ids)


# --- holding a time and paying ------------------------------------------------------------


def active_types():
    return db.session.scalars(
        select(ConsultationType)
        .where(ConsultationType.active)
        .order_by(ConsultationType.position, ConsultationType.id)
    ).all()


def get_type(slug):
    return db.session.scalar(
        select(ConsultationType).where(ConsultationType.slug == slug, ConsultationType.active)
    )


def parse_slot(value):
    """A UTC datetime from the ``slot`` field (``2026-03-03T14:00:00Z``), else None."""
    if not value or not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC)


def next_free_times(ctype, after=None, limit=6):
    """The first few free times (after ``after``), for "that time was just taken"."""
    slots = availability.free_slots(ctype)
    if after is not None:
        later = [s for s in slots if s > after]
        slots = later or slots
    return slots[:limit]


TAKEN_MESSAGE = "Sorry, someone booked that time a moment ago. Please choose another time."
NOT_OFFERED_MESSAGE = "That time is not available. Please choose one of the times shown."


def check_offered(ctype, starts_at, *, now=None, exclude_booking_id=None):
    """Refuse a time that is not offered: SlotTaken when another booking has it,
    SlotNotOffered when it never was (off the grid, too soon, too late, off hours)."""
    if starts_at is None:
        raise SlotNotOffered(NOT_OFFERED_MESSAGE)
    options = {"now": now, "exclude_booking_id": exclude_booking_id}
    if availability.is_offered(ctype, starts_at, **options):
        return
    if availability.is_offered(ctype, starts_at, include_bookings=False, **options):
        raise SlotTaken(TAKEN_MESSAGE)
    raise SlotNotOffered(NOT_OFFERED_MESSAGE)


def hold_slot(ctype, starts_at, details, now=None):
    """Hold ``starts_at`` for a client while she pays; returns the flushed booking.

    Recomputes availability first (SlotNotOffered) and lets the UNIQUE slot claims refuse
    a time someone else holds at the same instant (SlotTaken, after a rollback).
    """
    now = now or utcnow()
    _take_write_lock()
    release_expired_holds(now)
    check_offered(ctype, starts_at, now=now)
    booking = Booking(
        consultation_type=ctype,
        status=BookingStatus.HELD,
        starts_at=starts_at,
        ends_at=starts_at + ctype.duration,
        buffer_ends_at=starts_at + ctype.duration + ctype.buffer,
        hold_expires_at=now + timedelta(minutes=HOLD_MINUTES) + HOLD_GRACE,
        price_cents=ctype.price_cents,
        currency=ctype.currency,
        policy_accepted_at=now,
        **details,
    )
    db.session.add(booking)
    try:
        db.session.flush()
        _claim_cells(booking)
        record_event(booking, "held", "client", None, BookingStatus.HELD)
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise SlotTaken(TAKEN_MESSAGE) from None
    return booking


def start_checkout(booking):
    """Create the Stripe Checkout Session for a held booking; returns its URL.

    On any Stripe failure the hold is released at once and PaymentUnavailable raised."""
    ctype = booking.consultation_type
    token = manage_token(booking)
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
            success_url=_external("booking.manage", token=token, paid=1),
            cancel_url=_external("booking.manage", token=token, checkout="cancelled"),
            expires_at=utcnow() + timedelta(minutes=HOLD_MINUTES, seconds=30),
            idempotency_key=f"booking-{booking.public_id}-checkout",
        )
    except stripe.StripeError as exc:
        log.warning("Checkout for booking %s failed: %s", booking.id, exc)
        release_hold(booking, "payment could not start")
        raise PaymentUnavailable(
            "We could not start the payment just now, so your time was not held. "
            "Please try again in a few minutes."
        ) from exc
    booking.stripe_session_id = session.id
    booking.checkout_url = session.url
    record_event(booking, "checkout_started", "client", session_id=session.id)
    db.session.flush()
    return session.url


def release_hold(booking, reason, actor="system"):
    """Give up a held time at once (payment could not start, or she changed her mind)."""
    transition(booking, BookingStatus.RELEASED, kind="hold_released", actor=actor, reason=reason)
    _drop_claims(booking)
    db.session.flush()


def _external(endpoint, **values):
    """An absolute link on SITE_URL; works in requests, webhooks and CLI commands alike."""
    base = current_app.config["SITE_URL"].rstrip("/")
    adapter = current_app.url_map.bind("localhost")
    return base + adapter.build(endpoint, values)


# --- Stripe webhooks ------------------------------------------------------------------------


def _plain(stripe_object):
    """A plain dict: stripe>=15 objects refuse ``.get``."""
    to_dict = getattr(stripe_object, "to_dict", None)
    return to_dict() if to_dict else dict(stripe_object)


def _booking_for(stripe_object, lock=True):
    metadata = stripe_object.get("metadata") or {}
    try:
        booking_id = int(metadata.get("id"))
    except (TypeError, ValueError):
        log.warning("Stripe object %s has no booking id", stripe_object.get("id"))
        return None
    query = select(Booking).where(Booking.id == booking_id)
    if lock:
        query = query.with_for_update(of=Booking)
    return db.session.scalar(query)


@webhook_handler("checkout.session.completed", "booking")
def on_checkout_completed(session, event):
    """Payment made: confirm the booking, or refund a payment whose time is gone."""
    session = _plain(session)
    booking = _booking_for(session)
    if booking is None or session.get("payment_status") not in ("paid", "no_payment_required"):
        return
    if booking.stripe_session_id and booking.stripe_session_id != session["id"]:
        log.warning("Session %s does not belong to booking %s", session["id"], booking.id)
        return
    if booking.paid_cents:
        return  # already handled (a retried event with a new id)
    booking.stripe_session_id = session["id"]
    booking.stripe_payment_intent_id = session.get("payment_intent")
    booking.paid_cents = session.get("amount_total") or booking.price_cents
    record_event(booking, "paid", "stripe", amount_cents=booking.paid_cents, event=event["id"])
    now = utcnow()

    if booking.status == BookingStatus.HELD:
        _confirm(booking, now)
        return
    if booking.status in (BookingStatus.EXPIRED, BookingStatus.RELEASED):
        cells = grid_cells(booking.starts_at, booking.buffer_ends_at)
        taken = db.session.scalar(
            select(BookingSlotClaim.id).where(BookingSlotClaim.slot_start.in_(cells)).limit(1)
        )
        # Still within her hours and free of blocks and other bookings? The minimum
        # notice does not apply to a time she chose when it was far enough ahead.
        blocked = not availability.is_offered(
            booking.consultation_type, booking.starts_at, now=now - availability.min_notice()
        )
        if (
            booking.status == BookingStatus.EXPIRED
            and taken is None
            and not blocked
            and booking.starts_at > now
        ):
            _claim_cells(booking)
            db.session.flush()  # an IntegrityError here means a race: Stripe retries
            _confirm(booking, now, late=True)
            return
        _refund_late_payment(booking)
        return
    log.warning("Payment for booking %s in state %s", booking.id, booking.status)


def _confirm(booking, now, late=False):
    transition(
        booking,
        BookingStatus.CONFIRMED,
        kind="confirmed_late" if late else "confirmed",
        actor="stripe",
    )
    booking.hold_expires_at = None
    booking.confirmed_at = now
    db.session.flush()
    emails.send_confirmation(booking)


def _refund_late_payment(booking):
    refund = create_refund(
        booking.stripe_payment_intent_id,
        booking.paid_cents,
        idempotency_key=f"booking-{booking.public_id}-late-refund",
        metadata={"kind": "booking", "id": str(booking.id)},
    )
    booking.refunded_cents = booking.paid_cents
    booking.stripe_refund_id = refund.id
    booking.needs_attention = (
        "Paid after the hold expired and the time had been taken: refunded in full."
    )
    record_event(
        booking,
        "late_payment_refunded",
        "system",
        amount_cents=booking.paid_cents,
        refund=refund.id,
    )
    db.session.flush()
    emails.send_late_payment_refund(booking)


@webhook_handler("checkout.session.expired", "booking")
def on_checkout_expired(session, event):
    """Checkout ran out without payment: free the time."""
    booking = _booking_for(_plain(session))
    if booking is None or booking.status != BookingStatus.HELD:
        return
    transition(booking, BookingStatus.EXPIRED, kind="checkout_expired", actor="stripe")
    _drop_claims(booking)
    db.session.flush()


@outstanding_check("booking")
def booking_outstanding(session, event_type):
    """True when the booking of this session has not recorded Stripe's final word yet."""
    booking = _booking_for(_plain(session), lock=False)
    if booking is None:
        return False
    if event_type == RECONCILE_COMPLETED:
        return not booking.paid_cents and booking.status in (
            BookingStatus.HELD,
            BookingStatus.EXPIRED,
            BookingStatus.RELEASED,
        )
    return booking.status == BookingStatus.HELD


@stale_report
def stale_holds(cutoff):
    held = db.session.scalars(
        select(Booking)
        .where(Booking.status == BookingStatus.HELD, Booking.created_at < cutoff)
        .order_by(Booking.created_at)
    ).all()
    return [f"Booking {b.public_id} held since {b.created_at:%Y-%m-%d %H:%M} UTC." for b in held]


@webhook_handler("charge.refunded", "booking")
def on_charge_refunded(charge, event):
    """Record refunds made in Stripe's dashboard too, so our books agree with Stripe."""
    charge = _plain(charge)
    booking = _booking_for(charge)
    if booking is None:
        return
    refunded = int(charge.get("amount_refunded") or 0)
    if refunded > booking.refunded_cents and refunded <= booking.paid_cents:
        record_event(booking, "refund_recorded", "stripe", amount_cents=refunded)
        booking.refunded_cents = refunded
        db.session.flush()


# --- changes after booking ------------------------------------------------------------------


def _refund_in_full(booking, reason):
    if not booking.stripe_payment_intent_id or booking.paid_cents <= booking.refunded_cents:
        return 0
    amount = booking.paid_cents - booking.refunded_cents
    refund = create_refund(
        booking.stripe_payment_intent_id,
        amount,
        idempotency_key=f"booking-{booking.public_id}-refund",
        metadata={"kind": "booking", "id": str(booking.id)},
    )
    booking.refunded_cents += amount
    booking.stripe_refund_id = refund.id
    record_event(
        booking, "refunded", "system", amount_cents=amount, refund=refund.id, reason=reason
    )
    return amount


def cancel_booking(booking, *, actor, refund=None, now=None):
    """Cancel a confirmed booking and free its time.

    A client's refund follows the policy (in time: full refund; late: none); staff choose.
    Raises TransitionRefused, or PaymentUnavailable when the refund cannot be made (then
    nothing is changed)."""
    now = now or utcnow()
    check_transition(booking, BookingStatus.CANCELLED)
    if refund is None:
        refund = can_change_free(booking, now)
    refunded = 0
    if refund:
        try:
            refunded = _refund_in_full(booking, f"cancelled by {actor}")
        except stripe.StripeError as exc:
            raise PaymentUnavailable(
                "The refund could not be made just now, so the consultation is still booked. "
                "Please try again in a few minutes."
            ) from exc
    transition(
        booking, BookingStatus.CANCELLED, kind="cancelled", actor=actor, refunded_cents=refunded
    )
    booking.cancelled_at = now
    booking.ics_sequence += 1
    _drop_claims(booking)
    db.session.flush()
    emails.send_cancellation(booking, refunded)
    return refunded


def reschedule_booking(booking, new_start, *, actor, now=None):
    """Move a confirmed booking to another free time (same type, same payment)."""
    now = now or utcnow()
    check_transition(booking, BookingStatus.CONFIRMED)
    if booking.status != BookingStatus.CONFIRMED:
        raise TransitionRefused("Only a confirmed consultation can be moved.")
    if actor == "client" and not can_change_free(booking, now):
        raise TransitionRefused(
            f"Your consultation starts within {FREE_CHANGE_HOURS} hours, so it can no longer "
            "be moved online. Please reply to your confirmation email."
        )
    ctype = booking.consultation_type
    _take_write_lock()
    release_expired_holds(now)
    check_offered(ctype, new_start, now=now, exclude_booking_id=booking.id)
    old_start = booking.starts_at
    booking_id = booking.id
    try:
        _drop_claims(booking)
        booking.starts_at = new_start
        booking.ends_at = new_start + ctype.duration
        booking.buffer_ends_at = booking.ends_at + ctype.buffer
        booking.reminder_sent_at = None
        booking.ics_sequence += 1
        db.session.flush()
        _claim_cells(booking)
        transition(
            booking,
            BookingStatus.CONFIRMED,
            kind="rescheduled",
            actor=actor,
            old_start=old_start.isoformat(),
            new_start=new_start.isoformat(),
        )
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        log.info("Reschedule of booking %s lost a race", booking_id)
        raise SlotTaken(TAKEN_MESSAGE) from None
    emails.send_reschedule(booking, old_start)
    return booking


def mark_no_show(booking, actor="staff"):
    """Staff: she did not come to the call."""
    if booking.starts_at > utcnow():
        raise TransitionRefused("A consultation can be marked as missed only after it starts.")
    transition(booking, BookingStatus.NO_SHOW, kind="no_show", actor=actor)
    db.session.flush()


def mark_completed(booking, actor="staff"):
    """Staff: the consultation took place."""
    if booking.starts_at > utcnow():
        raise TransitionRefused("A consultation can be marked as done only after it starts.")
    transition(booking, BookingStatus.COMPLETED, kind="completed", actor=actor)
    db.session.flush()


# --- reminders --------------------------------------------------------------------------------

REMINDER_LEAD = timedelta(hours=24)


def send_reminders(now=None):
    """Queue the reminder for each confirmed booking starting within 24 hours, once.

    Each booking is claimed with a conditional UPDATE on ``reminder_sent_at``, so two
    cron runs at once never both send it. Returns how many were queued."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Booking).where(
            Booking.status == BookingStatus.CONFIRMED,
            Booking.reminder_sent_at.is_(None),
            Booking.starts_at > now,
            Booking.starts_at <= now + REMINDER_LEAD,
        )
    ).all()
    queued = 0
    for booking in due:
        claimed = db.session.execute(
            update(Booking)
            .where(Booking.id == booking.id, Booking.reminder_sent_at.is_(None))
            .values(reminder_sent_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed == 1:
            record_event(booking, "reminder_sent", "system")
            emails.send_reminder(booking)
            queued += 1
    db.session.flush()
    return queued


# --- signed manage links ----------------------------------------------------------------------


def _serializer():
    return URLSafeTimedSerializer(current_app.secret_key, salt=MANAGE_SALT)


def manage_token(booking):
    return _serializer().dumps(booking.public_id)


class LinkExpired(BookingError):
    status = 410


class LinkInvalid(BookingError):
    status = 400


def booking_from_token(token):
    """The booking a manage link points at (LinkExpired / LinkInvalid otherwise)."""
    try:
        public_id = _serializer().loads(token, max_age=int(MANAGE_LINK_MAX_AGE.total_seconds()))
    except SignatureExpired:
        raise LinkExpired(
            "This link has expired. Please use the link in your most recent email from us, "
            "or reply to it and we will help."
        ) from None
    except BadSignature:
        raise LinkInvalid(
            "This link is not complete or has been changed. Please open it again from your email."
        ) from None
    booking = db.session.scalar(select(Booking).where(Booking.public_id == str(public_id)))
    if booking is None:
        raise LinkInvalid("We could not find that consultation.")
    return booking


# --- details from the form --------------------------------------------------------------------


def booking_details(form):
    """The columns a booking takes from the validated booking form."""
    return {
        "name": form.name.data.strip(),
        "email": form.email.data.strip(),
        "phone": form.phone.data.strip(),
        "client_timezone": form.timezone.data,
        "call_type": CallType(form.call_type.data),
        "age_range": form.age_range.data or "",
        "t_scores": (form.t_scores.data or "").strip(),
        "fractures": (form.fractures.data or "").strip(),
        "medications": (form.medications.data or "").strip(),
        "goals": (form.goals.data or "").strip(),
    }


def sitemap_urls():
    """The public consultation pages for the sitemap."""
    urls = [(_external("booking.index"), None)]
    for ctype in active_types():
        urls.append((_external("booking.times", slug=ctype.slug), None))
    return urls


def manage_url(booking):
    """The signed link to the booking's manage page, for emails."""
    return _external("booking.manage", token=manage_token(booking))


# --- staff: hours, overrides, blocks -------------------------------------------------------


def add_weekly_hours(weekday, start_time, end_time):
    """Add a working window to a weekday (Dr. Brown's wall-clock time)."""
    row = WeeklyHours(weekday=weekday, start_time=start_time, end_time=end_time)
    times_changed()
    db.session.add(row)
    db.session.flush()
    return row


def add_date_override(on_date, start_time=None, end_time=None, note=""):
    """Replace a date's weekly hours with a window, or make it a day off (no times)."""
    row = DateOverride(on_date=on_date, start_time=start_time, end_time=end_time, note=note)
    times_changed()
    db.session.add(row)
    db.session.flush()
    return row


def local_to_utc(day, wall_time):
    """A wall-clock time in Dr. Brown's zone as UTC (the first one when it repeats)."""
    return datetime.combine(day, wall_time, tzinfo=practitioner_zone()).astimezone(UTC)


def block_time(starts_at, ends_at, reason=""):
    """Take a stretch of time out of the calendar."""
    if ends_at <= starts_at:
        raise BookingError("The end of a blocked time must be after its start.")
    row = BlockedTime(starts_at=starts_at, ends_at=ends_at, reason=reason)
    times_changed()
    db.session.add(row)
    db.session.flush()
    return row
