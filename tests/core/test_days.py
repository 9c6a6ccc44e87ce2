"""Days in Dr. Brown's calendar: one way to write a day and a range of days on every
staff page, and one midnight that every list and the dashboard count from, also on the
days the clocks change (23 and 25 hours long in New York)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from blueprints.admin.dashboard import business_periods
from blueprints.core.timezones import day_span, day_start, days_in_words, format_date
from blueprints.core.types import CALENDAR_YEARS

NEW_YORK = ZoneInfo("America/New_York")
SPRING_FORWARD = date(2026, 3, 8)
FALL_BACK = date(2026, 11, 1)


def test_a_calendar_day_is_written_as_every_page_writes_a_date():
    assert format_date(date(2026, 3, 5)) == "5 March 2026"
    assert format_date(datetime(2026, 3, 5, 12, tzinfo=UTC), NEW_YORK) == "5 March 2026"


@pytest.mark.parametrize(
    ("first", "last", "words"),
    [
        (date(2026, 3, 5), date(2026, 3, 5), "on 5 March 2026"),
        (date(2026, 3, 1), date(2026, 3, 31), "from 1 March 2026 to 31 March 2026"),
        (date(2026, 3, 1), None, "from 1 March 2026 on"),
        (None, date(2026, 3, 31), "up to 31 March 2026"),
    ],
)
def test_a_range_of_days_reads_one_way(first, last, words):
    assert days_in_words(first, last) == words


def test_a_day_starts_at_midnight_in_the_zone_given_in_utc_terms():
    start = day_start(date(2026, 1, 15), NEW_YORK)
    assert start == datetime(2026, 1, 15, 5, tzinfo=UTC)
    assert start.tzinfo is UTC


@pytest.mark.parametrize(("day", "hours"), [(SPRING_FORWARD, 23), (FALL_BACK, 25)])
def test_the_days_the_clocks_change_are_one_day_of_23_or_25_hours(day, hours):
    start, end = day_span(day, day, NEW_YORK)
    assert end - start == timedelta(hours=hours)
    assert start.astimezone(NEW_YORK).hour == end.astimezone(NEW_YORK).hour == 0


def test_a_span_across_both_clock_changes_runs_midnight_to_midnight():
    start, end = day_span(SPRING_FORWARD, FALL_BACK, NEW_YORK)
    days = (FALL_BACK - SPRING_FORWARD).days + 1
    # One hour lost in March, won back on the last day: whole days of 24 hours.
    assert end - start == timedelta(days=days)
    assert (start.astimezone(NEW_YORK).date(), end.astimezone(NEW_YORK).date()) == (
        SPRING_FORWARD,
        FALL_BACK + timedelta(days=1),
    )


def test_an_open_end_reaches_the_calendars_first_or_last_year():
    start, end = day_span(None, None, NEW_YORK)
    assert start.astimezone(NEW_YORK).date() == date(CALENDAR_YEARS[0], 1, 1)
    assert end.astimezone(NEW_YORK).date() == date(CALENDAR_YEARS[-1] + 1, 1, 1)


@pytest.mark.parametrize("day", [SPRING_FORWARD, FALL_BACK])
def test_the_dashboards_today_is_the_lists_day_on_a_clock_change(day):
    late = datetime.combine(day, datetime.max.time(), NEW_YORK) - timedelta(minutes=1)
    periods = business_periods(late.astimezone(UTC), NEW_YORK)
    assert (periods.today_start, periods.today_end) == day_span(day, day, NEW_YORK)
