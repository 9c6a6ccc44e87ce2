"""Free consultation times, computed on the server.

Start times are built as wall-clock times in Dr. Brown's zone (weekly hours, or a date's
override) and only then converted to UTC, so 9:00 stays 9:00 across daylight-saving
changes. A wall time that does not exist (the spring-forward gap) is skipped, and a
repeated autumn wall time is offered once (its first occurrence). Busy time (live
bookings with their buffers, staff blocks) comes from one query for the whole range.
"""

import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, union_all

from blueprints.booking.models import (
    GRID,
    BlockedTime,
    Booking,
    BookingStatus,
    DateOverride,
    WeeklyHours,
)
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import utcnow
from extensions import db

# Offered start times fall on this step of wall-clock minutes from the window's start.
START_STEP_MINUTES = 30
DEFAULT_MIN_NOTICE_HOURS = 24
DEFAULT_HORIZON_DAYS = 60


def min_notice():
    """How soon a consultation may start (FLASK_BOOKING_MIN_NOTICE_HOURS)."""
    hours = current_app.config.get("BOOKING_MIN_NOTICE_HOURS", DEFAULT_MIN_NOTICE_HOURS)
    return timedelta(hours=hours)


def horizon():
    """How far ahead times are offered (FLASK_BOOKING_HORIZON_DAYS)."""
    return timedelta(days=current_app.config.get("BOOKING_HORIZON_DAYS", DEFAULT_HORIZON_DAYS))


def wall_time_exists(local: datetime):
    """False for a wall-clock time that the zone skips (the spring-forward gap)."""
    round_trip = local.astimezone(UTC).astimezone(local.tzinfo)
    return round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)


def local_datetime(day: date, minute_of_day: int, zone):
    """The first occurrence of a wall-clock time on a day, or None in a DST gap."""
    if minute_of_day >= 24 * 60:
        nxt = day + timedelta(days=1)
        local = datetime.combine(nxt, time(0, 0), tzinfo=zone)
        return local if wall_time_exists(local) else None
    local = datetime.combine(
        day, time(minute_of_day // 60, minute_of_day % 60), tzinfo=zone
    ).replace(fold=0)
    return local if wall_time_exists(local) else None


def _minutes(t: time):
    return t.hour * 60 + t.minute


@dataclass(frozen=True)
class Window:
    day: date
    start_minute: int
    end_minute: int


def working_windows(first_day: date, last_day: date):
    """Working windows per local date from weekly hours and date overrides."""
    weekly = {}
    for row in db.session.scalars(select(WeeklyHours)):
        weekly.setdefault(row.weekday, []).append(row)
    overrides = {}
    for row in db.session.scalars(
        select(DateOverride).where(DateOverride.on_date.between(first_day, last_day))
    ):
        overrides.setdefault(row.on_date, []).append(row)

    windows = []
    day = first_day
    while day <= last_day:
        rows = overrides.get(day)
        if rows is None:
            rows = weekly.get(day.weekday(), [])
        for row in rows:
            if row.start_time is None:  # a day off wins over anything else that day
                break
        else:
            for row in sorted(rows, key=lambda r: r.start_time):
                end = _minutes(row.end_time)
                if row.end_time == time(23, 59):
                    end = 24 * 60
                windows.append(Window(day, _minutes(row.start_time), end))
        day += timedelta(days=1)
    return windows


def busy_intervals(range_start, range_end, now, exclude_booking_id=None, include_bookings=True):
    """Merged ``[start, end)`` UTC intervals that no new booking may touch.

    One query: live bookings (with their buffers; holds only while unexpired) and staff
    blocks overlapping the range."""
    live = or_(
        Booking.status == BookingStatus.CONFIRMED,
        and_(Booking.status == BookingStatus.HELD, Booking.hold_expires_at > now),
    )
    bookings = select(Booking.starts_at.label("s"), Booking.buffer_ends_at.label("e")).where(
        live, Booking.starts_at < range_end, Booking.buffer_ends_at > range_start
    )
    if exclude_booking_id is not None:
        bookings = bookings.where(Booking.id != exclude_booking_id)
    blocks = select(BlockedTime.starts_at.label("s"), BlockedTime.ends_at.label("e")).where(
        BlockedTime.starts_at < range_end, BlockedTime.ends_at > range_start
    )
    query = union_all(bookings, blocks) if include_bookings else blocks
    rows = db.session.execute(query).all()
    # A UNION loses the column type on some drivers, so give every value its zone back.
    intervals = sorted((_aware(s), _aware(e)) for s, e in rows)
    merged = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def _aware(value):
    if isinstance(value, str):  # SQLite returns text through a UNION
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _overlaps(merged, starts, start, end):
    # Merged intervals are sorted and disjoint, so their ends rise too: only the last
    # one that starts before ``end`` can reach past ``start``.
    i = bisect.bisect_left(starts, end)
    return i > 0 and merged[i - 1][1] > start


def free_slots(
    ctype,
    *,
    now=None,
    range_start=None,
    range_end=None,
    exclude_booking_id=None,
    include_bookings=True,
):
    """UTC start times at which ``ctype`` can be booked, earliest first."""
    now = now or utcnow()
    earliest = now + min_notice()
    latest = now + horizon()
    range_start = max(range_start or earliest, earliest)
    range_end = min(range_end or latest, latest)
    if range_start > range_end:
        return []
    zone = practitioner_zone()
    first_day = range_start.astimezone(zone).date() - timedelta(days=1)
    last_day = range_end.astimezone(zone).date() + timedelta(days=1)
    merged = busy_intervals(
        range_start,
        range_end + ctype.duration + ctype.buffer,
        now,
        exclude_booking_id,
        include_bookings,
    )
    starts = [m[0] for m in merged]
    slots = []
    seen = set()
    for window in working_windows(first_day, last_day):
        window_end = local_datetime(window.day, window.end_minute, zone)
        if window_end is None:
            # A window that ends at a wall time the clocks skip: take the earlier of the
            # two readings, so the window never runs past what staff meant.
            wall = datetime.combine(
                window.day, time(window.end_minute // 60, window.end_minute % 60), tzinfo=zone
            )
            window_end = min(wall.astimezone(UTC), wall.replace(fold=1).astimezone(UTC))
        window_end_utc = window_end.astimezone(UTC)
        minute = window.start_minute
        while minute + ctype.duration_minutes <= window.end_minute:
            local = local_datetime(window.day, minute, zone)
            minute += START_STEP_MINUTES
            if local is None:
                continue
            start = local.astimezone(UTC)
            end = start + ctype.duration  # elapsed time: exact across DST changes
            if start in seen or end > window_end_utc:
                continue
            if start.timestamp() % GRID.total_seconds():
                continue
            if not (range_start <= start <= range_end):
                continue
            if _overlaps(merged, starts, start, end + ctype.buffer):
                continue
            seen.add(start)
            slots.append(start)
    slots.sort()
    return slots


def is_offered(ctype, starts_at, *, now=None, exclude_booking_id=None, include_bookings=True):
    """True when ``starts_at`` is one of the free times offered right now (with
    ``include_bookings=False``: it would be, were no one else booked)."""
    if starts_at.tzinfo is None:
        return False
    starts_at = starts_at.astimezone(UTC)
    now = now or utcnow()
    # Cheap bounds first; they also keep date arithmetic away from year 1 and 9999.
    if not (now + min_notice() <= starts_at <= now + horizon()):
        return False
    day = timedelta(days=1)
    return starts_at in free_slots(
        ctype,
        now=now,
        range_start=starts_at - day,
        range_end=starts_at + day,
        exclude_booking_id=exclude_booking_id,
        include_bookings=include_bookings,
    )


def group_by_day(slots, zone):
    """``[(local_date, [slot, ...]), ...]`` in the reader's zone."""
    days = {}
    for slot in slots:
        days.setdefault(slot.astimezone(zone).date(), []).append(slot)
    return sorted(days.items())
