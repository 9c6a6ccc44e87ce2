"""Demo consultations: two types, Dr. Brown's weekly hours, a day off and an override."""

from datetime import time, timedelta

from sqlalchemy import select

from blueprints.booking.models import ConsultationType, DateOverride, WeeklyHours
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
