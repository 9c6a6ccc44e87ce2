"""Dr. Brown's hours as staff edit them: weekly hours, date overrides and days off,
and blocked time. Every edit clears the free-times pages once it commits, and is in the
audit log under the staff account that made it (``actor``)."""

from datetime import UTC, datetime

from sqlalchemy import select

from blueprints.booking.cache_tags import times_changed
from blueprints.booking.errors import BookingError
from blueprints.booking.models import BlockedTime, DateOverride, WeeklyHours
from blueprints.core.audit import record_staff_action
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import utcnow
from extensions import db

# The kinds of row staff remove from the availability page, by the name in its URL.
EDITABLE = {"hours": WeeklyHours, "overrides": DateOverride, "blocks": BlockedTime}


# The audit log's name for each kind of row (a setting of the calendar).
_RECORD_TYPES = {
    WeeklyHours: "weekly_hours",
    DateOverride: "date_override",
    BlockedTime: "blocked_time",
}


def _add(row, actor, detail):
    times_changed()
    db.session.add(row)
    db.session.flush()
    record_staff_action(actor.id, "availability.add", _RECORD_TYPES[type(row)], row.id, detail)
    return row


def add_weekly_hours(weekday, start_time, end_time, *, actor):
    """Add a working window to a weekday (Dr. Brown's wall-clock time)."""
    return _add(
        WeeklyHours(weekday=weekday, start_time=start_time, end_time=end_time),
        actor,
        {"weekday": weekday, "from": start_time, "to": end_time},
    )


def add_date_override(on_date, start_time=None, end_time=None, note="", *, actor):
    """Replace a date's weekly hours with a window, or make it a day off (no times)."""
    return _add(
        DateOverride(on_date=on_date, start_time=start_time, end_time=end_time, note=note),
        actor,
        {"date": on_date, "from": start_time, "to": end_time},
    )


def local_to_utc(day, wall_time):
    """A wall-clock time in Dr. Brown's zone as UTC (the first one when it repeats)."""
    return datetime.combine(day, wall_time, tzinfo=practitioner_zone()).astimezone(UTC)


def block_time(starts_at, ends_at, reason="", *, actor):
    """Take a stretch of time out of the calendar (BookingError if it ends first)."""
    if ends_at <= starts_at:
        raise BookingError("The end of a blocked time must be after its start.")
    return _add(
        BlockedTime(starts_at=starts_at, ends_at=ends_at, reason=reason),
        actor,
        {"from": starts_at, "to": ends_at},
    )


def block_local_time(on_date, start_time, end_date, end_time, reason="", *, actor):
    """:func:`block_time` from Dr. Brown's wall-clock dates and times (``end_date``
    None: the same day)."""
    return block_time(
        local_to_utc(on_date, start_time),
        local_to_utc(end_date or on_date, end_time),
        reason,
        actor=actor,
    )


def remove(kind, row_id, *, actor):
    """Remove one row of ``kind`` (a key of EDITABLE); False when there is none."""
    model = EDITABLE.get(kind)
    row = db.session.get(model, row_id) if model else None
    if row is None:
        return False
    times_changed()
    db.session.delete(row)
    db.session.flush()
    record_staff_action(actor.id, "availability.remove", _RECORD_TYPES[model], row_id)
    return True


def current_availability():
    """What the availability page lists: weekly hours, overrides from today, and
    blocked time that has not ended."""
    now = utcnow()
    today = now.astimezone(practitioner_zone()).date()
    return {
        "hours": db.session.scalars(
            select(WeeklyHours).order_by(WeeklyHours.weekday, WeeklyHours.start_time)
        ).all(),
        "overrides": db.session.scalars(
            select(DateOverride)
            .where(DateOverride.on_date >= today)
            .order_by(DateOverride.on_date, DateOverride.start_time)
        ).all(),
        "blocks": db.session.scalars(
            select(BlockedTime).where(BlockedTime.ends_at >= now).order_by(BlockedTime.starts_at)
        ).all(),
    }
