"""Stripe events for bookings (``metadata.kind == "booking"``).

Each handler flushes; the core webhook commits once, or rolls back and answers 500 so
Stripe retries. Every handler is safe to run twice and in any order: the booking row is
locked (PostgreSQL) and each change of status is a compare-and-set.
"""

import logging

from sqlalchemy import select

from blueprints.booking import availability, emails, meetings
from blueprints.booking.events import record_change, record_event
from blueprints.booking.holds import claim_cells, drop_claims, grid_cells
from blueprints.booking.models import (
    Booking,
    BookingEventKind,
    BookingSlotClaim,
    BookingStatus,
)
from blueprints.core.reconcile import COMPLETED, outstanding_check, stale_report
from blueprints.core.states import claim_status
from blueprints.core.stripe import (
    create_refund,
    refunds_of,
    retrieve_checkout_session,
    webhook_handler,
)
from blueprints.core.types import utcnow
from extensions import db

log = logging.getLogger(__name__)

UNPAID_STATUSES = (BookingStatus.HELD, BookingStatus.EXPIRED, BookingStatus.RELEASED)


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
    """Payment made: confirm the booking, or refund a payment whose time is gone or
    that is not the booking's price.

    The event's body only names the session: what was paid, in which currency and for
    which booking is read from the session as Stripe returns it, as orders do."""
    session = _plain(retrieve_checkout_session(session["id"]))
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
    amount = session.get("amount_total")
    currency = str(session.get("currency") or "").lower()
    if amount != booking.price_cents or currency != booking.currency:
        _refuse_wrong_amount(booking, amount, currency, event)
        return
    booking.paid_cents = amount
    record_event(
        booking,
        BookingEventKind.PAID,
        actor="stripe",
        money_cents=booking.paid_cents,
        amount_cents=booking.paid_cents,
        event=event["id"],
    )
    now = utcnow()
    # Each branch is a compare-and-set: a hold that expired or was let go meanwhile
    # (SQLite has no row lock) falls through to the late-payment rules.
    if booking.status == BookingStatus.HELD and _confirm(booking, now, BookingStatus.HELD):
        return
    if booking.status in (BookingStatus.EXPIRED, BookingStatus.RELEASED):
        if _still_free(booking, now) and _confirm(booking, now, BookingStatus.EXPIRED):
            return
        _refund_late_payment(booking)
        return
    log.warning("Payment for booking %s in status %s", booking.id, booking.status)


def _refuse_wrong_amount(booking, amount, currency, event):
    """A payment that is not the booking's price never confirms it: give back what was
    taken, let the held time go, and flag the booking for staff."""
    if booking.needs_attention:
        return  # a retried event of a payment already refused (nothing was taken)
    expected = f"{booking.price_cents} {booking.currency}"
    log.warning(
        "Booking %s: Stripe reports %s %s paid, the price is %s; not confirmed",
        booking.id,
        amount,
        currency,
        expected,
    )
    booking.needs_attention = (
        f"Stripe reports {amount} {currency} paid for a booking of {expected}: "
        "not confirmed" + (", refunded in full." if amount else ".")
    )
    record_event(
        booking,
        BookingEventKind.AMOUNT_MISMATCH,
        actor="stripe",
        amount_cents=amount,
        currency=currency,
        expected=expected,
        event=event["id"],
    )
    if isinstance(amount, int) and amount > 0 and booking.stripe_payment_intent_id:
        booking.paid_cents = amount
        refund = create_refund(
            booking.stripe_payment_intent_id,
            amount,
            idempotency_key=f"booking-{booking.public_id}-mismatch-refund",
            metadata={"kind": "booking", "id": str(booking.id)},
        )
        booking.refunded_cents = amount
        booking.stripe_refund_id = refund.id
        # Taken and given back at once: no money_cents, the books never counted it.
        record_event(
            booking,
            BookingEventKind.REFUNDED,
            actor="system",
            amount_cents=amount,
            refund=refund.id,
        )
    if claim_status(booking, BookingStatus.RELEASED, allowed={BookingStatus.HELD}):
        record_change(
            booking,
            BookingEventKind.HOLD_RELEASED,
            BookingStatus.HELD,
            "system",
            "the payment was not the booking's price",
        )
        drop_claims(booking)
    db.session.flush()


def _still_free(booking, now):
    """True when an expired hold's time is still within Dr. Brown's hours, in the
    future, and free of blocks and other bookings."""
    if booking.status != BookingStatus.EXPIRED or booking.starts_at <= now:
        return False
    cells = grid_cells(booking.starts_at, booking.buffer_ends_at)
    taken = db.session.scalar(
        select(BookingSlotClaim.id).where(BookingSlotClaim.slot_start.in_(cells)).limit(1)
    )
    # The minimum notice does not apply to a time she chose when it was far enough ahead.
    return taken is None and availability.is_offered(
        booking.consultation_type, booking.starts_at, now=now - availability.min_notice()
    )


def _confirm(booking, now, from_status):
    """Confirm a paid booking if it is still in ``from_status``; False otherwise.

    A video consultation is given the room its confirmation email names as its own link
    in the same UPDATE, so a new usual room saved by staff at that moment (whose update
    cannot see this confirmation until it commits) never changes the room she was sent.
    """
    room = meetings.meeting_link(booking)
    if not claim_status(
        booking,
        BookingStatus.CONFIRMED,
        allowed={from_status},
        hold_expires_at=None,
        confirmed_at=now,
        **({"meeting_url": room} if room else {}),
    ):
        return False
    late = from_status == BookingStatus.EXPIRED
    if late:
        claim_cells(booking)
        db.session.flush()  # an IntegrityError here means a race: Stripe retries
    kind = BookingEventKind.CONFIRMED_LATE if late else BookingEventKind.CONFIRMED
    record_change(booking, kind, from_status, "stripe")
    db.session.flush()
    emails.send_confirmation(booking)
    return True


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
        BookingEventKind.LATE_PAYMENT_REFUNDED,
        actor="system",
        money_cents=-booking.paid_cents,
        amount_cents=booking.paid_cents,
        refund=refund.id,
    )
    db.session.flush()
    emails.send_late_payment_refund(booking)


@webhook_handler("checkout.session.expired", "booking")
def on_checkout_expired(session, event):
    """Checkout ran out without payment: free the time."""
    booking = _booking_for(_plain(session))
    if booking is None or not claim_status(
        booking, BookingStatus.EXPIRED, allowed={BookingStatus.HELD}
    ):
        return
    record_change(booking, BookingEventKind.CHECKOUT_EXPIRED, BookingStatus.HELD, "stripe")
    drop_claims(booking)
    db.session.flush()


@webhook_handler("charge.refunded", "booking")
def on_charge_refunded(charge, event):
    """Record refunds made in Stripe's dashboard too, so our books agree with Stripe.

    The event only names the booking: the amount refunded is what Stripe answers for the
    booking's own payment, never what the event's body says."""
    charge = _plain(charge)
    booking = _booking_for(charge)
    if booking is None or booking.stripe_payment_intent_id is None:
        return
    refunded = sum(r["amount"] for r in refunds_of(booking.stripe_payment_intent_id))
    if refunded > booking.refunded_cents and refunded <= booking.paid_cents:
        record_event(
            booking,
            BookingEventKind.REFUND_RECORDED,
            actor="stripe",
            money_cents=booking.refunded_cents - refunded,
            amount_cents=refunded,
        )
        booking.refunded_cents = refunded
        db.session.flush()


# --- reconciliation (``flask stripe reconcile``) ---------------------------------------


@outstanding_check("booking")
def booking_outstanding(session, event_type):
    """True when the booking of this session has not recorded Stripe's final word yet."""
    booking = _booking_for(_plain(session), lock=False)
    if booking is None:
        return False
    if event_type == COMPLETED:
        return not booking.paid_cents and booking.status in UNPAID_STATUSES
    return booking.status == BookingStatus.HELD


@stale_report
def stale_holds(cutoff):
    held = db.session.scalars(
        select(Booking)
        .where(Booking.status == BookingStatus.HELD, Booking.created_at < cutoff)
        .order_by(Booking.created_at)
    ).all()
    return [f"Booking {b.public_id} held since {b.created_at:%Y-%m-%d %H:%M} UTC." for b in held]
