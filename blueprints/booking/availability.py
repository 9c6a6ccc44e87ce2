"""Free consultation times, computed on the server.

Start times are built as wall-clock times in Dr. Brown's zone (weekly hours, or a date's
override) and only then converted to UTC, so 9:00 stays 9:00 across daylight-saving
changes. A wall time that does not exist (the spring-forward gap) is skipped, and a
repeated autumn wall time is offered once (its first occurrence). Busy time (live
bookings with their buffers, staff blocks) comes from one query for the whole range.
"""

import bisect
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import and_, bindparam, or_, select, union_all

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


def min_notice():
    """How soon a consultation may start (FLASK_BOOKING_MIN_NOTICE_HOURS)."""
    return timedelta(hours=current_app.config["BOOKING_MIN_NOTICE_HOURS"])


def horizon():
    """How far ahead times are offered (FLASK_BOOKING_HORIZON_DAYS)."""
    return timedelta(days=current_app.config["BOOKING_HORIZON_DAYS"])


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


class Window(NamedTuple):
    day: date
    start_minute: int
    end_minute: int


# The statements below are built once (only their values change from one request to
# the next) and read the tables' columns: plain rows, without the ORM's bookkeeping.
_weekly_hours = WeeklyHours.__table__.c
_date_override = DateOverride.__table__.c
_booking = Booking.__table__.c
_blocked_time = BlockedTime.__table__.c

_WEEKLY_HOURS = select(_weekly_hours.weekday, _weekly_hours.start_time, _weekly_hours.end_time)
_DATE_OVERRIDES = select(
    _date_override.on_date, _date_override.start_time, _date_override.end_time
).where(_date_override.on_date.between(bindparam("first_day"), bindparam("last_day")))


def working_windows(first_day: date, last_day: date):
    """Working windows per local date from weekly hours and date overrides."""
    weekly = {}
    for row in db.session.execute(_WEEKLY_HOURS):
        weekly.setdefault(row.weekday, []).append(row)
    weekly = {weekday: _spans(rows) for weekday, rows in weekly.items()}
    overrides = {}
    for row in db.session.execute(_DATE_OVERRIDES, {"first_day": first_day, "last_day": last_day}):
        overrides.setdefault(row.on_date, []).append(row)
    overrides = {on_date: _spans(rows) for on_date, rows in overrides.items()}

    windows = []
    day = first_day
    while day <= last_day:
        spans = overrides.get(day)
        if spans is None:
            spans = weekly.get(day.weekday(), ())
        windows += [Window(day, start, end) for start, end in spans]
        day += timedelta(days=1)
    return windows


def _spans(rows):
    """One day's rows of hours as sorted ``(start, end)`` minutes of the day."""
    if any(row.start_time is None for row in rows):
        return []  # a day off wins over anything else that day
    return sorted(
        (
            _minutes(row.start_time),
            24 * 60 if row.end_time == time(23, 59) else _minutes(row.end_time),
        )
        for row in rows
    )


def _busy_query(include_bookings, exclude_booking):
    """Live bookings (with their buffers; holds only while unexpired) and staff blocks
    overlapping ``[:range_start, :range_end)``, as one statement."""
    range_start, range_end = bindparam("range_start"), bindparam("range_end")
    blocks = select(_blocked_time.starts_at.label("s"), _blocked_time.ends_at.label("e")).where(
        _blocked_time.starts_at < range_end, _blocked_time.ends_at > range_start
    )
    if not include_bookings:
        return blocks
    # The IN lets the (status, starts_at) index seek each live status; written as a
    # bare OR, SQLite skip-scans every status, past completed bookings included.
    live = and_(
        _booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.HELD]),
        or_(
            _booking.status == BookingStatus.CONFIRMED, _booking.hold_expires_at > bindparam("now")
        ),
    )
    bookings = select(_booking.starts_at.label("s"), _booking.buffer_ends_at.label("e")).where(
        live, _booking.starts_at < range_end, _booking.buffer_ends_at > range_start
    )
    if exclude_booking:
        bookings = bookings.where(_booking.id != bindparam("exclude_booking_id"))
    return union_all(bookings, blocks)


# Every shape the busy query takes, built once: (include_bookings, exclude a booking).
_BUSY_QUERIES = {
    (include, exclude): _busy_query(include, exclude)
    for include in (True, False)
    for exclude in (True, False)
}


def busy_intervals(range_start, range_end, now, exclude_booking_id=None, include_bookings=True):
    """Merged ``[start, end)`` UTC intervals that no new booking may touch (one query)."""
    query = _BUSY_QUERIES[include_bookings, include_bookings and exclude_booking_id is not None]
    params = {"range_start": range_start, "range_end": range_end}
    if include_bookings:
        params["now"] = now
        if exclude_booking_id is not None:
            params["exclude_booking_id"] = exclude_booking_id
    rows = db.session.execute(query, params).all()
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
    # Every candidate time of the range passes through the loop below (a month: a few
    # hundred), so it compares POSIX seconds, not datetimes.
    busy_starts = [start.timestamp() for start, _end in merged]
    busy_ends = [end.timestamp() for _start, end in merged]
    duration = ctype.duration_minutes * 60
    busy_after = duration + ctype.buffer_minutes * 60
    grid = GRID.total_seconds()
    first, last = range_start.timestamp(), range_end.timestamp()
    found = set()
    for window in working_windows(first_day, last_day):
        window_end = _window_end(window, zone)
        if window_end < first:
            continue  # the days around the range, read only for their late or early hours
        for start in _window_starts(window, ctype.duration_minutes, zone):
            if start > last:
                break
            # The end is elapsed time from the start: exact across DST changes.
            if start in found or start + duration > window_end or start % grid:
                continue
            if not first <= start <= last:
                continue
            # Busy intervals are sorted and disjoint, so their ends rise too: only the
            # last one that starts before this booking (with its buffer) would end can
            # reach past its start.
            i = bisect.bisect_left(busy_starts, start + busy_after)
            if i and busy_ends[i - 1] > start:
                continue
            found.add(start)
    return [datetime.fromtimestamp(start, UTC) for start in sorted(found)]


def _wall_clock(day, minute_of_day, zone):
    if minute_of_day >= 24 * 60:
        day, minute_of_day = day + timedelta(days=1), minute_of_day - 24 * 60
    return datetime.combine(day, time(minute_of_day // 60, minute_of_day % 60), tzinfo=zone)


def _happens_once(local):
    """True for a wall time neither skipped nor repeated by a clock change (the usual)."""
    return local.utcoffset() == local.replace(fold=1).utcoffset()


def _window_end(window, zone):
    """When ``window`` ends, as POSIX seconds."""
    end = _wall_clock(window.day, window.end_minute, zone)
    if _happens_once(end):
        return end.timestamp()
    end = local_datetime(window.day, window.end_minute, zone)
    if end is not None:
        return end.timestamp()
    # A window that ends at a wall time the clocks skip: take the earlier of the two
    # readings, so the window never runs past what staff meant.
    wall = _wall_clock(window.day, window.end_minute, zone)
    return min(wall.timestamp(), wall.replace(fold=1).timestamp())


def _window_starts(window, duration_minutes, zone):
    """POSIX start times on the wall-clock step within ``window`` (gap times left out)."""
    last_minute = window.end_minute - duration_minutes
    if last_minute < window.start_minute:
        return []
    first = _wall_clock(window.day, window.start_minute, zone)
    last = _wall_clock(window.day, last_minute, zone)
    if first.utcoffset() == last.utcoffset() and _happens_once(first) and _happens_once(last):
        # No clock change inside the window (the usual day): wall-clock steps are
        # elapsed steps, so count them from the first start without asking the zone.
        first = first.timestamp()
        return [
            first + offset * 60
            for offset in range(0, last_minute - window.start_minute + 1, START_STEP_MINUTES)
        ]
    starts = []
    for minute in range(window.start_minute, last_minute + 1, START_STEP_MINUTES):
        local = local_datetime(window.day, minute, zone)
        if local is not None:
            starts.append(local.timestamp())
    return starts


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
