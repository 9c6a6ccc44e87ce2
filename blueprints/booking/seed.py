"""Demo consultations: two types, Dr. Brown's weekly hours, a day off and an override."""

from datetime import time, timedelta

from sqlalchemy import select

from blueprints.booking.models import (
    Booking,
    BookingStatus,
    CallType,
    ConsultationType,
    DateOverride,
    WeeklyHours,
)
from blueprints.core.bulk import count_where, insert_rows
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import utcnow
from extensions import db

TYPES = [
    {
        "slug": "initial-consultation",
        "name": "Initial consultation",
        "summary": "A full hour with Dr. Brown to go through your history, DEXA results, "
        "medications and goals, and to plan natural next steps together.",
        "duration_minutes": 60,
        "buffer_minutes": 30,
        "price_cents": 35000,
        "offers_phone": True,
        "offers_video": True,
        "position": 1,
    },
    {
        "slug": "follow-up-call",
        "name": "Follow-up call",
        "summary": "Half an hour by phone for clients who have had an initial consultation: "
        "review your progress and adjust your plan.",
        "duration_minutes": 30,
        "buffer_minutes": 15,
        "price_cents": 15000,
        "offers_phone": True,
        "offers_video": False,
        "position": 2,
    },
]

# Tuesday, Wednesday and Thursday, 9:00 to 17:00 New York time, lunch 12:00 to 13:00.
WEEKLY = [(day, start, end) for day in (1, 2, 3) for start, end in ((9, 12), (13, 17))]


def _next_weekday(start, weekday):
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def seed(large=False):
    """Load the demo consultation data; rows that exist are kept (safe to run twice)."""
    for data in TYPES:
        if db.session.scalar(select(ConsultationType).where(ConsultationType.slug == data["slug"])):
            continue
        db.session.add(ConsultationType(currency="usd", **data))
    if db.session.scalar(select(WeeklyHours.id).limit(1)) is None:
        for weekday, start, end in WEEKLY:
            db.session.add(WeeklyHours(weekday=weekday, start_time=time(start), end_time=time(end)))
    if db.session.scalar(select(DateOverride.id).limit(1)) is None:
        today = utcnow().astimezone(practitioner_zone()).date()
        # A Wednesday three weeks out is a day off; a Friday two weeks out has extra hours.
        day_off = _next_weekday(today + timedelta(days=21), 2)
        extra = _next_weekday(today + timedelta(days=14), 4)
        db.session.add(DateOverride(on_date=day_off, note="Conference"))
        db.session.add(
            DateOverride(on_date=extra, start_time=time(10), end_time=time(14), note="Extra hours")
        )
    db.session.flush()
    if large:
        _seed_large()


LARGE_BOOKINGS = 5_000


def _seed_large():
    """Bulk-insert 5,000 past, completed consultations (history for the admin and the
    benchmark); skipped once there. They hold no slot claims: only live bookings do."""
    have = count_where(Booking.id, Booking.stripe_session_id.like("cs_seed_bk_%"))
    ctype = db.session.scalar(select(ConsultationType).order_by(ConsultationType.id))
    if have >= LARGE_BOOKINGS or ctype is None:
        return
    now = utcnow()
    rows = []
    for n in range(have, LARGE_BOOKINGS):
        starts = (now - timedelta(days=3, hours=2 * n)).replace(minute=0, second=0, microsecond=0)
        ends = starts + timedelta(minutes=ctype.duration_minutes)
        rows.append(
            {
                "public_id": f"seedbk{n:08d}",
                "consultation_type_id": ctype.id,
                "status": BookingStatus.COMPLETED,
                "starts_at": starts,
                "ends_at": ends,
                "buffer_ends_at": ends + timedelta(minutes=ctype.buffer_minutes),
                "name": f"Client {n}",
                "email": f"client{n}@example.com",
                "phone": "+1 555 0100",
                "client_timezone": "America/New_York",
                "call_type": CallType.PHONE,
                "policy_accepted_at": starts - timedelta(days=7),
                "price_cents": ctype.price_cents,
                "currency": ctype.currency,
                "paid_cents": ctype.price_cents,
                "stripe_session_id": f"cs_seed_bk_{n}",
                "confirmed_at": starts - timedelta(days=7),
                "created_at": starts - timedelta(days=7),
                "updated_at": starts,
            }
        )
    insert_rows(Booking, rows)
