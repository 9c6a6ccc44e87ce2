"""What the consultation pages ask for: the types, a time from the form, the booking's
details, the sitemap, the reminders, and staff's schedule.

The work of a booking's life is split by concern beside this module: ``policy``
(deadlines and refunds), ``holds`` (holding a time while she pays), ``webhooks``
(Stripe's word on a payment), ``changes`` (cancel, move, no-show, done), ``hours``
(Dr. Brown's hours as staff edit them), ``links`` (the signed manage link), with
``events`` (the history), ``errors`` and ``cache_tags`` beneath them. Every function
flushes and never commits; the view, the webhook or the CLI commits once.
"""

from datetime import UTC, datetime

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import selectinload

from blueprints.booking import emails
from blueprints.booking.events import record_event
from blueprints.booking.models import (
    Booking,
    BookingEventKind,
    BookingStatus,
    CallType,
    ConsultationType,
)
from blueprints.booking.policy import REMINDER_LEAD
from blueprints.core.addresses import normalise_email
from blueprints.core.links import external_url
from blueprints.core.types import CALENDAR_YEARS, utcnow
from extensions import db

# What staff's schedule lists (a hold still running, and every outcome but a hold that
# never became a booking).
SCHEDULE_STATUSES = (
    BookingStatus.HELD,
    BookingStatus.CONFIRMED,
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
    BookingStatus.CANCELLED,
)
# The bookings that are (or were) going ahead: what the dashboard counts and the day
# sheet prints.
GOING_AHEAD = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)

# What a client's own list shows: every consultation she booked and paid for, whatever
# came of it (a hold that never became a booking is not one).
CLIENT_STATUSES = (
    BookingStatus.CONFIRMED,
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
    BookingStatus.CANCELLED,
)


def active_types():
    """The consultation types on offer, in their order."""
    return db.session.scalars(
        select(ConsultationType)
        .where(ConsultationType.active)
        .order_by(ConsultationType.position, ConsultationType.id)
    ).all()


def get_type(slug):
    """The active consultation type ``slug`` names, else None."""
    return db.session.scalar(
        select(ConsultationType).where(ConsultationType.slug == slug, ConsultationType.active)
    )


def parse_slot(value):
    """A UTC datetime from the ``slot`` field (``2026-03-03T14:00:00Z``), else None.

    Years outside CALENDAR_YEARS are refused before the time is moved to UTC: year 1 at
    +14:00 or year 9999 at -23:59 lies outside what ``datetime`` can hold in UTC."""
    if not value or not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.year not in CALENDAR_YEARS:
        return None
    return parsed.astimezone(UTC)


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
    urls = [(external_url("booking.index"), None)]
    for ctype in active_types():
        urls.append((external_url("booking.times", slug=ctype.slug), None))
    return urls


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
            record_event(booking, BookingEventKind.REMINDER_SENT)
            emails.send_reminder(booking)
            queued += 1
    db.session.flush()
    return queued


def schedule(start, end=None, now=None, *, statuses=SCHEDULE_STATUSES, limit=None):
    """Staff's schedule: the bookings starting from ``start`` up to ``end`` (None: no
    end), in ``statuses``, at most ``limit`` of them, earliest first."""
    now = now or utcnow()
    query = (
        select(Booking)
        .where(
            Booking.starts_at >= start,
            Booking.status.in_(statuses),
            # A hold whose 30 minutes ran out is not a booking, even before cleanup.
            or_(Booking.status != BookingStatus.HELD, Booking.hold_expires_at > now),
        )
        .order_by(Booking.starts_at, Booking.id)
        # The schedule shows each booking's history: one query for all of them.
        .options(selectinload(Booking.events))
    )
    if end is not None:
        query = query.where(Booking.starts_at < end)
    if limit is not None:
        query = query.limit(limit)
    return db.session.scalars(query).all()


def needing_attention(limit=20):
    """The latest bookings a person must look at (e.g. paid after the time was taken)."""
    return db.session.scalars(
        select(Booking)
        .where(Booking.needs_attention.is_not(None))
        .order_by(Booking.id.desc())
        .limit(limit)
    ).all()


def bookings_for_email(email):
    """The consultations booked with ``email`` (in any case, as she typed it), soonest
    first, each with its type (one query)."""
    return db.session.scalars(
        select(Booking)
        .where(
            func.lower(Booking.email) == normalise_email(email),
            Booking.status.in_(CLIENT_STATUSES),
        )
        .order_by(Booking.starts_at, Booking.id)
    ).all()


def consultation_counts(today_start, today_end, week_end):
    """How many consultations start today (``today_start`` to ``today_end``) and in the
    days after it up to ``week_end``, in one query."""

    def starting(start, end):
        inside = (Booking.starts_at >= start) & (Booking.starts_at < end)
        return func.coalesce(func.sum(case((inside, 1), else_=0)), 0)

    today, week = db.session.execute(
        select(starting(today_start, today_end), starting(today_end, week_end)).where(
            Booking.status.in_(GOING_AHEAD),
            Booking.starts_at >= today_start,
            Booking.starts_at < week_end,
        )
    ).one()
    return {"today": int(today), "next_days": int(week)}
