"""Consultations: types, Dr. Brown's hours, bookings, their slot claims and events.

One live booking per time is the database's job: a held or confirmed booking owns one
``booking_slot_claim`` row for every 15-minute grid cell it covers (appointment plus
buffer), and ``slot_start`` is UNIQUE. A second booking that overlaps needs one of
those cells, so its INSERT fails on SQLite and PostgreSQL alike.
"""

import uuid
from datetime import date, datetime, time, timedelta
from typing import ClassVar

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    Time,
    event,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.core.crypto import EncryptedText
from blueprints.core.states import Transitions
from blueprints.core.types import StrEnum, UTCDateTime, enum_column, utcnow
from extensions import db

# Every booking starts on this grid and covers whole cells (duration and buffer).
GRID_MINUTES = 15
GRID = timedelta(minutes=GRID_MINUTES)


class CallType(StrEnum):
    PHONE = "phone"
    VIDEO = "video"


class BookingStatus(StrEnum):
    HELD = "held"  # waiting for payment; the time is kept until hold_expires_at
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    EXPIRED = "expired"  # the hold ran out (or Checkout expired) without payment
    RELEASED = "released"  # the hold was given up at once (payment could not start)
    CANCELLED = "cancelled"


BOOKING_TRANSITIONS = Transitions(
    {
        BookingStatus.HELD: {
            BookingStatus.CONFIRMED,
            BookingStatus.EXPIRED,
            BookingStatus.RELEASED,
        },
        # A payment that arrives after the hold ran out is honoured if the time is still
        # free. A released hold is not: she gave the time up, so her payment is refunded.
        BookingStatus.EXPIRED: {BookingStatus.CONFIRMED},
        BookingStatus.CONFIRMED: {
            BookingStatus.CONFIRMED,  # rescheduled: same status, a new time
            BookingStatus.CANCELLED,
            BookingStatus.COMPLETED,
            BookingStatus.NO_SHOW,
        },
    }
)


class BookingEventKind(StrEnum):
    """What a row of a booking's history records."""

    HELD = "held"
    CHECKOUT_STARTED = "checkout_started"
    HOLD_RELEASED = "hold_released"
    HOLD_EXPIRED = "hold_expired"
    CHECKOUT_EXPIRED = "checkout_expired"
    PAID = "paid"
    AMOUNT_MISMATCH = "amount_mismatch"  # Stripe took another amount or currency
    CONFIRMED = "confirmed"
    CONFIRMED_LATE = "confirmed_late"
    LATE_PAYMENT_REFUNDED = "late_payment_refunded"
    REFUND_RECORDED = "refund_recorded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    NO_SHOW = "no_show"
    COMPLETED = "completed"
    REMINDER_SENT = "reminder_sent"
    PERSONAL_DATA_ERASED = "personal_data_erased"  # she deleted her account
    MEETING_LINK_SET = "meeting_link_set"


def new_public_id():
    return uuid.uuid4().hex


class ConsultationType(db.Model):
    """What can be booked: a length, a buffer after it, a price, and how the call happens."""

    __tablename__ = "consultation_type"
    __table_args__ = (
        CheckConstraint(
            "duration_minutes > 0 AND duration_minutes % 15 = 0", name="duration_on_grid"
        ),
        CheckConstraint("buffer_minutes >= 0 AND buffer_minutes % 15 = 0", name="buffer_on_grid"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("offers_phone OR offers_video", name="offers_a_call_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int]
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    offers_phone: Mapped[bool] = mapped_column(default=True)
    offers_video: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    @property
    def duration(self):
        return timedelta(minutes=self.duration_minutes)

    @property
    def buffer(self):
        return timedelta(minutes=self.buffer_minutes)

    @property
    def call_types(self):
        return [
            t
            for t, offered in (
                (CallType.VIDEO, self.offers_video),
                (CallType.PHONE, self.offers_phone),
            )
            if offered
        ]


class WeeklyHours(db.Model):
    """One working window on a weekday, in Dr. Brown's own wall-clock time."""

    __tablename__ = "weekly_hours"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        CheckConstraint("start_time < end_time", name="starts_before_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    weekday: Mapped[int]  # Monday is 0, as date.weekday()
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)


class DateOverride(db.Model):
    """Hours for one date that replace the weekly hours; no times means a day off.

    A date may have several windows (a morning and an afternoon)."""

    __tablename__ = "date_override"
    __table_args__ = (
        CheckConstraint(
            "(start_time IS NULL AND end_time IS NULL) OR "
            "(start_time IS NOT NULL AND end_time IS NOT NULL AND start_time < end_time)",
            name="day_off_or_window",
        ),
        Index("ix_date_override_on_date", "on_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    on_date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    note: Mapped[str] = mapped_column(String(200), default="")

    @property
    def is_day_off(self):
        return self.start_time is None


class BlockedTime(db.Model):
    """A stretch of time staff took out of the calendar (stored in UTC)."""

    __tablename__ = "blocked_time"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_blocked_time_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Booking(db.Model):
    """One client's consultation at one time, from hold to its outcome."""

    TRANSITIONS: ClassVar[Transitions] = BOOKING_TRANSITIONS

    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("buffer_ends_at >= ends_at", name="buffer_after_end"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("paid_cents >= 0", name="paid_not_negative"),
        CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= paid_cents", name="refund_within_paid"
        ),
        CheckConstraint("status <> 'held' OR hold_expires_at IS NOT NULL", name="held_has_expiry"),
        Index("ix_booking_status_starts_at", "status", "starts_at"),
        # A customer's bookings by her address, in any case (staff's customer page).
        Index("ix_booking_email_lower", func.lower(text("email"))),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Goes into signed links and the calendar UID; never the sequential id.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    consultation_type_id: Mapped[int] = mapped_column(ForeignKey("consultation_type.id"))
    status: Mapped[BookingStatus] = mapped_column(
        enum_column(BookingStatus, name="booking_status"), default=BookingStatus.HELD
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    buffer_ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who asked for the hold (core.visitors: keyed hashes of the client address and of
    # the browser's session), so each visitor's open holds can be counted.
    hold_address_key: Mapped[str | None] = mapped_column(String(32))
    hold_session_key: Mapped[str | None] = mapped_column(String(32))

    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40))
    client_timezone: Mapped[str] = mapped_column(String(64))
    call_type: Mapped[CallType] = mapped_column(enum_column(CallType, name="call_type"))
    age_range: Mapped[str] = mapped_column(String(40), default="")
    # Her intake answers are health data: encrypted at rest with DATA_KEY (core/crypto.py),
    # shown only to her and to staff, and erased INTAKE_RETENTION_DAYS after the
    # consultation (booking/privacy.py, ``flask privacy purge``), which sets
    # intake_erased_at.
    t_scores: Mapped[str] = mapped_column(EncryptedText(), default="")
    fractures: Mapped[str] = mapped_column(EncryptedText(), default="")
    medications: Mapped[str] = mapped_column(EncryptedText(), default="")
    goals: Mapped[str] = mapped_column(EncryptedText(), default="")
    intake_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    policy_accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())

    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    paid_cents: Mapped[int] = mapped_column(default=0)
    refunded_cents: Mapped[int] = mapped_column(default=0)
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    checkout_url: Mapped[str | None] = mapped_column(Text)
    # The video room for this consultation, set by staff in the schedule (https only);
    # without it, the usual room (staff set it on the availability page) is used.
    meeting_url: Mapped[str | None] = mapped_column(String(500))
    # Set when a person must look at this booking (e.g. paid after the time was taken).
    needs_attention: Mapped[str | None] = mapped_column(String(300))

    # Raised on every change of time or cancellation, so calendars replace the entry.
    ics_sequence: Mapped[int] = mapped_column(default=0)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    consultation_type: Mapped[ConsultationType] = relationship(lazy="joined", innerjoin=True)
    events: Mapped[list["BookingEvent"]] = relationship(
        back_populates="booking", order_by="BookingEvent.id", passive_deletes=True
    )

    @property
    def duration(self):
        return self.ends_at - self.starts_at

    @property
    def details_erased(self):
        """Her account was deleted (``booking/privacy.py``): name, address, phone and
        intake answers are erased, and only the time, type and money are left. Every
        booking is made with an address, so an empty one means exactly this."""
        return not self.email


class BookingSlotClaim(db.Model):
    """One 15-minute cell of the calendar owned by one live booking (UNIQUE start)."""

    __tablename__ = "booking_slot_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("booking.id", ondelete="CASCADE"), index=True
    )
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime(), unique=True)


class BookingEvent(db.Model):
    """Append-only history of a booking: every change of state, time or money."""

    __tablename__ = "booking_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("booking.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))  # a BookingEventKind
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(40))  # client, staff, stripe, system
    detail: Mapped[str] = mapped_column(Text, default="")
    # The money this row moved, in the booking's currency: + taken, - given back; None
    # when it moved none. The dashboard sums it by created_at (booking/reports.py).
    money_cents: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    booking: Mapped[Booking] = relationship(back_populates="events")


@event.listens_for(BookingEvent, "before_update")
def _events_are_append_only(mapper, connection, target):
    raise RuntimeError("booking_event rows are never changed")
