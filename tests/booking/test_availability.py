"""Free times come from Dr. Brown's hours in her zone, across daylight-saving changes."""

from datetime import UTC, date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from blueprints.booking import display, holds
from blueprints.booking.models import BlockedTime, DateOverride
from extensions import db
from tests.booking.conftest import free, make_confirmed, utc

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def _local_hours(slots, zone=NY):
    return sorted({(s.astimezone(zone).hour, s.astimezone(zone).minute) for s in slots})


def test_slots_follow_weekly_hours_with_lunch_break_in_new_york(types):
    now = utc(2026, 12, 1, 12)  # a Tuesday
    slots = free(types["initial"], now=now, range_end=utc(2026, 12, 4, 5))
    # Wednesday 2 and Thursday 3 December: 9:00..11:00 and 13:00..16:00 start times.
    expected = [
        (9, 0),
        (9, 30),
        (10, 0),
        (10, 30),
        (11, 0),
        (13, 0),
        (13, 30),
        (14, 0),
        (14, 30),
        (15, 0),
        (15, 30),
        (16, 0),
    ]
    days = {s.astimezone(NY).date() for s in slots}
    assert days == {date(2026, 12, 2), date(2026, 12, 3)}
    for day in days:
        assert _local_hours([s for s in slots if s.astimezone(NY).date() == day]) == expected
    assert slots[0] == utc(2026, 12, 2, 14)  # 9:00 EST is 14:00 UTC


def test_minimum_notice_and_horizon_are_respected(types):
    now = utc(2026, 12, 1, 15)  # Tuesday 10:00 in New York
    slots = free(types["follow_up"], now=now)
    assert min(slots) >= now + timedelta(hours=24)
    assert max(slots) <= now + timedelta(days=60)
    assert utc(2026, 12, 2, 15) in slots  # exactly 24 hours later is allowed
    assert utc(2026, 12, 2, 14, 30) not in slots


def test_day_off_and_override_replace_weekly_hours(types):
    db.session.add(DateOverride(on_date=date(2026, 12, 2), note="Conference"))
    db.session.add(DateOverride(on_date=date(2026, 12, 4), start_time=time(10), end_time=time(12)))
    db.session.commit()
    slots = free(types["initial"], now=utc(2026, 11, 30, 12), range_end=utc(2026, 12, 5, 12))
    days = {s.astimezone(NY).date() for s in slots}
    assert date(2026, 12, 2) not in days
    friday = [s for s in slots if s.astimezone(NY).date() == date(2026, 12, 4)]
    assert _local_hours(friday) == [(10, 0), (10, 30), (11, 0)]


def test_existing_booking_and_its_buffer_and_blocks_remove_times(types):
    initial = types["initial"]
    start = utc(2026, 12, 2, 15)  # Wednesday 10:00 New York
    make_confirmed(initial, start)
    db.session.add(BlockedTime(starts_at=utc(2026, 12, 2, 19), ends_at=utc(2026, 12, 2, 20)))
    db.session.commit()
    slots = free(types["follow_up"], now=utc(2026, 11, 30, 12), range_end=utc(2026, 12, 3, 4))
    wednesday = _local_hours([s for s in slots if s.astimezone(NY).date() == date(2026, 12, 2)])
    # 9:30 would run into the 10:00 booking; 10:00-11:30 is the booking and its buffer;
    # 14:00-15:00 is blocked, and a 13:30 call would end at 14:00 plus its buffer.
    assert (9, 0) in wednesday and (9, 30) not in wednesday
    assert (10, 30) not in wednesday and (11, 0) not in wednesday
    assert (11, 30) in wednesday
    assert (13, 0) in wednesday and (13, 30) not in wednesday
    assert (14, 0) not in wednesday and (14, 30) not in wednesday and (15, 0) in wednesday


def test_expired_hold_does_not_block_but_live_hold_does(types):
    ctype = types["follow_up"]
    start = utc(2026, 12, 2, 15)
    now = utc(2026, 11, 30, 12)
    details = dict(
        name="A", email="a@example.com", phone="+1 555", client_timezone="UTC", call_type="phone"
    )
    holds.hold_slot(ctype, start, details, now=now)
    db.session.commit()
    assert start not in free(ctype, now=now + timedelta(minutes=10))
    assert start in free(ctype, now=now + timedelta(minutes=40))
    # Holding again after the first hold expired releases it and succeeds.
    second = holds.hold_slot(ctype, start, details, now=now + timedelta(minutes=40))
    db.session.commit()
    assert second.status.value == "held"


def test_availability_uses_one_busy_query_whatever_the_range(types, count_queries):
    ctype = types["follow_up"]
    now = utc(2026, 11, 30, 12)
    for week in range(4):
        make_confirmed(ctype, utc(2026, 12, 2, 15) + timedelta(days=7 * week))
    db.session.refresh(ctype)  # load the type itself outside the counted block
    with count_queries() as one_week:
        free(ctype, now=now, range_end=now + timedelta(days=7))
    with count_queries() as sixty_days:
        slots = free(ctype, now=now)
    assert slots
    assert sixty_days.count == one_week.count <= 3


# --- daylight-saving changes ---------------------------------------------------------------

NY_TRANSITIONS = [date(2026, 3, 8), date(2026, 11, 1), date(2027, 3, 14), date(2027, 11, 7)]
LONDON_TRANSITIONS = [date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31)]


def _week_around(day, types):
    """Free times of every day from 6 days before to 6 days after a transition."""
    now = __import__("datetime").datetime.combine(day - timedelta(days=8), time(12), tzinfo=UTC)
    return free(types["initial"], now=now, range_end=now + timedelta(days=16))


@pytest.mark.parametrize("day", NY_TRANSITIONS + LONDON_TRANSITIONS)
def test_slots_keep_new_york_hours_and_exact_length_across_dst(types, day):
    slots = _week_around(day, types)
    assert slots
    by_day = {}
    for s in slots:
        by_day.setdefault(s.astimezone(NY).date(), []).append(s)
    expected = [
        (9, 0),
        (9, 30),
        (10, 0),
        (10, 30),
        (11, 0),
        (13, 0),
        (13, 30),
        (14, 0),
        (14, 30),
        (15, 0),
        (15, 30),
        (16, 0),
    ]
    for local_day, day_slots in by_day.items():
        assert local_day.weekday() in (1, 2, 3)
        assert _local_hours(day_slots) == expected, local_day
    # UTC offsets differ before and after a New York change: same wall time, other UTC.
    if day in NY_TRANSITIONS:
        offsets = {s.astimezone(NY).utcoffset() for s in slots}
        assert len(offsets) == 2
    # Durations are exact elapsed time, whatever the zone does.
    for s in slots:
        end = s + types["initial"].duration
        assert (end - s) == timedelta(hours=1)
        assert end.astimezone(NY).hour - s.astimezone(NY).hour == 1


def test_london_clients_see_the_one_hour_shift_between_the_two_changes(types):
    # 9:00 New York is 14:00 in London most of the year, but 13:00 in the weeks when
    # New York has moved its clocks and London has not yet (March 2026).
    slots = free(types["initial"], now=utc(2026, 3, 1), range_end=utc(2026, 4, 4))
    nine_am = [s for s in slots if s.astimezone(NY).hour == 9 and s.astimezone(NY).minute == 0]
    london_hours = {s.astimezone(NY).date(): s.astimezone(LONDON).hour for s in nine_am}
    assert london_hours[date(2026, 3, 3)] == 14
    assert london_hours[date(2026, 3, 10)] == 13
    assert london_hours[date(2026, 3, 31)] == 14


@pytest.mark.parametrize("day", [date(2026, 3, 8), date(2027, 3, 14)])
def test_nothing_is_offered_in_the_spring_forward_gap(types, day):
    db.session.add(DateOverride(on_date=day, start_time=time(1), end_time=time(4)))
    db.session.commit()
    now = utc(day.year, day.month, day.day) - timedelta(days=3)
    slots = free(types["follow_up"], now=now, range_end=now + timedelta(days=4))
    that_day = [s for s in slots if s.astimezone(NY).date() == day]
    walls = _local_hours(that_day)
    assert walls == [(1, 0), (1, 30), (3, 0), (3, 30)]
    for s in that_day:
        assert display.slot_value(s).endswith(("00:00Z", "30:00Z"))
        local = s.astimezone(NY)
        assert local.astimezone(UTC) == s  # a real instant, not a gap time
    # The 1:30 call ends at 3:00 EDT: thirty minutes of real time.
    one_thirty = next(s for s in that_day if s.astimezone(NY).hour == 1 and s.minute == 30)
    assert (one_thirty + types["follow_up"].duration).astimezone(NY).hour == 3


@pytest.mark.parametrize("day", [date(2026, 11, 1), date(2027, 11, 7)])
def test_repeated_autumn_hour_is_offered_once(types, day):
    db.session.add(DateOverride(on_date=day, start_time=time(0), end_time=time(3)))
    db.session.commit()
    now = utc(day.year, day.month, day.day) - timedelta(days=3)
    slots = free(types["follow_up"], now=now, range_end=now + timedelta(days=4))
    that_day = [s for s in slots if s.astimezone(NY).date() == day]
    walls = [(s.astimezone(NY).hour, s.astimezone(NY).minute) for s in that_day]
    assert len(walls) == len(set(walls))  # no wall-clock time twice
    assert walls.count((1, 0)) == 1 and walls.count((1, 30)) == 1
    assert len(that_day) == len(set(that_day))
    # The offered 1:00 is the first one (daylight time, UTC-4).
    one = next(s for s in that_day if s.astimezone(NY).hour == 1 and s.astimezone(NY).minute == 0)
    assert one.astimezone(NY).utcoffset() == timedelta(hours=-4)


def test_window_ending_inside_the_gap_never_runs_past_it(types):
    # Staff open 0:30 to 2:30 on the spring-forward night: 2:30 never happens.
    day = date(2026, 3, 8)
    db.session.add(DateOverride(on_date=day, start_time=time(0, 30), end_time=time(2, 30)))
    db.session.commit()
    now = utc(2026, 3, 5)
    slots = free(types["follow_up"], now=now, range_end=now + timedelta(days=4))
    that_day = [s for s in slots if s.astimezone(NY).date() == day]
    assert _local_hours(that_day) == [(0, 30), (1, 0)]
    for s in that_day:
        assert s + types["follow_up"].duration <= utc(2026, 3, 8, 6, 30)
