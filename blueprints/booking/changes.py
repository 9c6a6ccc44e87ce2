"""Changes to a confirmed booking: the client's cancel and move, staff's cancel,
no-show and done.

Each change wins or loses one compare-and-set on the booking row before anything else
happens, so of two requests at the same instant only one refunds, emails and records
it; the other gets a 409 refusal saying what the booking is now.
"""

import logging

import stripe
from sqlalchemy.exc import IntegrityError

from blueprints.account.roles import check_refund
from blueprints.booking import emails, meetings
from blueprints.booking.errors import ChangeRefused, PaymentUnavailable, SlotTaken, refused
from blueprints.booking.events import record_change, record_event
from blueprints.booking.holds import (
    check_offered,
    claim_cells,
    drop_claims,
    release_expired_holds,
    take_write_lock,
)
from blueprints.booking.models import Booking, BookingEventKind, BookingStatus
from blueprints.booking.policy import FREE_CHANGE_HOURS, can_change_free, client_refund_due
from blueprints.core.audit import record_staff_action
from blueprints.core.states import StatusRefused, claim_status
from blueprints.core.stripe import create_refund
from blueprints.core.types import utcnow
from extensions import db

log = logging.getLogger(__name__)


def _claim(booking, to, **values):
    """Move a confirmed booking to ``to`` (writing ``values`` in the same UPDATE), or
    raise the 409 refusal when another request changed it first."""
    take_write_lock()
    if not claim_status(booking, to, allowed={BookingStatus.CONFIRMED}, **values):
        raise refused(booking)


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
        booking,
        BookingEventKind.REFUNDED,
        reason,
        money_cents=-amount,
        amount_cents=amount,
        refund=refund.id,
    )
    return amount


def _who(actor):
    """The booking log's name for ``actor``: "client", "system"..., or "staff" for a
    staff account."""
    return actor if isinstance(actor, str) else "staff"


def _check_staff_refund(booking, staff):
    check_refund(
        staff,
        max(0, booking.paid_cents - booking.refunded_cents),
        booking.refunded_cents,
        booking.currency,
    )


def refund_in_full_cents(booking):
    """What cancelling with a refund gives back: all she paid not yet refunded."""
    if not booking.stripe_payment_intent_id:
        return 0
    return max(0, booking.paid_cents - booking.refunded_cents)


def check_staff_cancel(booking, *, actor, refund):
    """Raise what :func:`cancel_booking` would refuse the staff account ``actor`` before
    it changes anything (the booking is no longer confirmed; her role does not allow
    the refund), so staff are told before they are asked to confirm. Changes nothing."""
    if booking.status != BookingStatus.CONFIRMED:
        raise refused(booking)
    if refund:
        _check_staff_refund(booking, actor)


def cancel_booking(booking, *, actor, refund=None, now=None):
    """Cancel a confirmed booking and free its time; returns the cents refunded.

    ``actor`` is "client" or the staff account cancelling. A client's refund follows
    the policy (in time: full refund; late: none); staff choose, and an assistant's
    refund stays within her limit (``account/roles.py``, NotAllowed otherwise). Raises
    StatusRefused when it is no longer confirmed, or PaymentUnavailable when the refund
    cannot be made (the view rolls back: nothing is changed)."""
    now = now or utcnow()
    if isinstance(actor, str) and actor != "client":
        raise ValueError(f"staff cancel with their account, not {actor!r}")
    staff = None if isinstance(actor, str) else actor
    if refund is None:
        refund = client_refund_due(booking, now)
    if refund and staff is not None:
        _check_staff_refund(booking, staff)
    # Claimed first, so a second cancel at the same instant refunds nothing. The row
    # stays locked during the refund call; only changes to this booking wait for it.
    _claim(
        booking, BookingStatus.CANCELLED, cancelled_at=now, ics_sequence=Booking.ics_sequence + 1
    )
    refunded = 0
    if refund:
        try:
            refunded = _refund_in_full(booking, f"cancelled by {_who(actor)}")
        except stripe.StripeError as exc:
            raise PaymentUnavailable(
                "The refund could not be made just now, so the consultation is still booked. "
                "Please try again in a few minutes."
            ) from exc
    record_change(
        booking,
        BookingEventKind.CANCELLED,
        BookingStatus.CONFIRMED,
        _who(actor),
        refunded_cents=refunded,
    )
    if staff is not None:
        record_staff_action(
            staff.id,
            "booking.cancel",
            "booking",
            booking.id,
            {"refunded_cents": refunded, "currency": booking.currency},
        )
    drop_claims(booking)
    db.session.flush()
    emails.send_cancellation(booking, refunded)
    return refunded


def reschedule_booking(booking, new_start, *, actor, now=None):
    """Move a confirmed booking to another free time (same type, same payment).

    The time it moves from is the one this request loaded: if another request moved
    or cancelled it meanwhile, this one is refused (409) before it touches a claim."""
    now = now or utcnow()
    if booking.status != BookingStatus.CONFIRMED:
        raise refused(booking)
    if actor == "client" and not can_change_free(booking, now):
        raise ChangeRefused(
            f"Your consultation starts within {FREE_CHANGE_HOURS} hours, so it can no longer "
            "be moved online. Please reply to your confirmation email."
        )
    old_start = booking.starts_at
    take_write_lock()
    # Lock the row (PostgreSQL; SQLite's write lock is already held) and read it again;
    # "of" keeps the lock off the consultation type it is loaded with.
    db.session.refresh(booking, with_for_update={"of": Booking})
    if booking.status != BookingStatus.CONFIRMED:
        raise refused(booking)
    if booking.starts_at != old_start:
        raise StatusRefused(
            "This consultation was moved to another time a moment ago. "
            "Please reload the page to see its time."
        )
    ctype = booking.consultation_type
    release_expired_holds(now)
    check_offered(ctype, new_start, now=now, exclude_booking_id=booking.id)
    booking_id = booking.id
    ends_at = new_start + ctype.duration
    try:
        drop_claims(booking)
        _claim(
            booking,
            BookingStatus.CONFIRMED,
            starts_at=new_start,
            ends_at=ends_at,
            buffer_ends_at=ends_at + ctype.buffer,
            reminder_sent_at=None,
            ics_sequence=Booking.ics_sequence + 1,
        )
        claim_cells(booking)
        record_change(
            booking,
            BookingEventKind.RESCHEDULED,
            BookingStatus.CONFIRMED,
            actor,
            old_start=old_start.isoformat(),
            new_start=new_start.isoformat(),
        )
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        log.info("Reschedule of booking %s lost a race", booking_id)
        raise SlotTaken() from None
    emails.send_reschedule(booking, old_start)
    return booking


def _mark_after_start(booking, to, kind, actor, too_early):
    if booking.starts_at > utcnow():
        raise ChangeRefused(too_early)
    _claim(booking, to)
    record_change(booking, kind, BookingStatus.CONFIRMED, "staff")
    db.session.flush()
    record_staff_action(actor.id, f"booking.{to.value}", "booking", booking.id)


def mark_no_show(booking, *, actor):
    """Staff (``actor``, the staff account): she did not come to the call."""
    _mark_after_start(
        booking,
        BookingStatus.NO_SHOW,
        BookingEventKind.NO_SHOW,
        actor,
        "A consultation can be marked as missed only after it starts.",
    )


def mark_completed(booking, *, actor):
    """Staff (``actor``, the staff account): the consultation took place."""
    _mark_after_start(
        booking,
        BookingStatus.COMPLETED,
        BookingEventKind.COMPLETED,
        actor,
        "A consultation can be marked as done only after it starts.",
    )


def change_meeting_link(booking, url, *, actor, now=None):
    """Staff (``actor``, the staff account) give a video consultation its own meeting link
    (or clear it, back to the default room), with one audit entry when it changes.
    Returns ``(changed, emailed)``.

    When the link she would join by really changes on a confirmed consultation still to
    come, her calendar entry is updated (same UID, SEQUENCE one higher, in the same
    compare-and-set as the check) and she is emailed after the commit. A change of the
    usual room itself (``meetings.set_usual_room``, on the availability page) emails no one.
    """
    now = now or utcnow()
    before = meetings.meeting_link(booking)
    if not meetings.set_meeting_url(booking, url):
        return False, False
    record_staff_action(
        actor.id, "booking.meeting_link", "booking", booking.id, {"url": booking.meeting_url or ""}
    )
    if meetings.meeting_link(booking) == before or booking.status != BookingStatus.CONFIRMED:
        return True, False
    take_write_lock()
    if not claim_status(
        booking,
        BookingStatus.CONFIRMED,
        allowed={BookingStatus.CONFIRMED},
        where=(Booking.starts_at > now,),
        ics_sequence=Booking.ics_sequence + 1,
    ):
        return True, False  # past, or cancelled a moment ago: nothing to tell her
    emails.send_meeting_link_change(booking, first=before is None)
    return True, True
