"""A client's data in the consultations: her bookings for her download, their erasure
when she deletes her account, and the purge of intake answers after the retention time.

Her intake answers (T-scores, fractures, medications, goals) are encrypted at rest
(``Booking`` columns of ``core/crypto.py`` ``EncryptedText``); here they are read in the
clear only for her own download.
"""

import json
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import flag_modified

from blueprints.booking.changes import cancel_booking
from blueprints.booking.events import record_event
from blueprints.booking.holds import release_hold
from blueprints.booking.models import Booking, BookingEventKind, BookingStatus
from blueprints.core.addresses import normalise_email
from blueprints.core.types import utcnow
from extensions import db

INTAKE_FIELDS = ("t_scores", "fractures", "medications", "goals")
ERASED_NAME = "Erased at the client's request"


def _of(email):
    return select(Booking).where(func.lower(Booking.email) == normalise_email(email))


def _when(value):
    return value.isoformat() if value else None


def _detail(text):
    """An event's detail as written (JSON by ``events.record_event``), else its text."""
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return text


def bookings_for_export(email):
    """Every booking of ``email`` as plain dicts, her intake answers decrypted, with the
    history of each."""
    bookings = db.session.scalars(_of(email).order_by(Booking.starts_at)).all()
    return [
        {
            "reference": booking.public_id,
            "consultation": booking.consultation_type.name,
            "status": str(booking.status),
            "starts_at": _when(booking.starts_at),
            "ends_at": _when(booking.ends_at),
            "name": booking.name,
            "email": booking.email,
            "phone": booking.phone,
            "time_zone": booking.client_timezone,
            "call_type": str(booking.call_type),
            "age_range": booking.age_range,
            "intake_answers": {field: getattr(booking, field) for field in INTAKE_FIELDS},
            "intake_erased_at": _when(booking.intake_erased_at),
            "price_cents": booking.price_cents,
            "paid_cents": booking.paid_cents,
            "refunded_cents": booking.refunded_cents,
            "currency": booking.currency,
            "policy_accepted_at": _when(booking.policy_accepted_at),
            "created_at": _when(booking.created_at),
            "cancelled_at": _when(booking.cancelled_at),
            "events": [
                {
                    "kind": event.kind,
                    "from_status": event.from_status,
                    "to_status": event.to_status,
                    "by": event.actor,
                    "detail": _detail(event.detail),
                    "at": _when(event.created_at),
                }
                for event in booking.events
            ],
        }
        for booking in bookings
    ]


def _erase_intake_values(now):
    return {field: "" for field in INTAKE_FIELDS} | {"intake_erased_at": now}


def erase_bookings_of(email, now=None):
    """Her account is being deleted: each future consultation is cancelled under the
    policy (refunded in full when in time, through Stripe; the cancellation email is
    queued to her before her address goes), an unpaid hold is given up, and every
    booking of hers keeps only its time, type and money: name, address, phone and intake
    answers are erased. Returns the number of consultations cancelled.

    Raises PaymentUnavailable when a refund cannot be made now: the caller rolls back
    and nothing is erased."""
    now = now or utcnow()
    bookings = db.session.scalars(_of(email).order_by(Booking.id)).all()
    cancelled = 0
    for booking in bookings:
        if booking.status == BookingStatus.CONFIRMED and booking.starts_at > now:
            cancel_booking(booking, actor="client", now=now)
            cancelled += 1
        elif booking.status == BookingStatus.HELD:
            release_hold(booking, "the client deleted her account", actor="client")
    for booking in bookings:
        record_event(
            booking,
            BookingEventKind.PERSONAL_DATA_ERASED,
            "she deleted her account: name, address, phone and health answers erased",
            actor="client",
        )
    if bookings:
        db.session.flush()
        db.session.execute(
            update(Booking)
            .where(Booking.id.in_([b.id for b in bookings]))
            .values(
                name=ERASED_NAME,
                email="",
                phone="",
                hold_address_key=None,
                hold_session_key=None,
                **_erase_intake_values(now),
            )
            .execution_options(synchronize_session=False)
        )
        for booking in bookings:
            db.session.expire(booking)
    return cancelled


def purge_intake_answers(now=None, retention_days=None):
    """Erase the intake answers of every booking that ended more than
    ``INTAKE_RETENTION_DAYS`` ago (cron, daily). Idempotent: a purged booking is
    skipped. Returns how many bookings were purged."""
    now = now or utcnow()
    if retention_days is None:
        retention_days = current_app.config["INTAKE_RETENTION_DAYS"]
    cutoff = now - timedelta(days=int(retention_days))
    return db.session.execute(
        update(Booking)
        .where(Booking.intake_erased_at.is_(None), Booking.ends_at < cutoff)
        .values(**_erase_intake_values(now))
        .execution_options(synchronize_session=False)
    ).rowcount


def reencrypt_intake_answers(batch_size=200):
    """Write every stored intake answer again with the first key of ``DATA_KEY`` (after
    a new key was put in front); then the old key can be dropped. Reading a value that no
    key opens raises DataKeyError. Returns the number of bookings rewritten."""
    rewritten = 0
    last_id = 0
    while True:
        bookings = db.session.scalars(
            select(Booking).where(Booking.id > last_id).order_by(Booking.id).limit(batch_size)
        ).all()
        if not bookings:
            return rewritten
        for booking in bookings:
            for field in INTAKE_FIELDS:
                flag_modified(booking, field)  # written again: encrypted with the first key
        db.session.flush()
        rewritten += len(bookings)
        last_id = bookings[-1].id
