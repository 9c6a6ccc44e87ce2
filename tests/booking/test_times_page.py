"""The free-times page: a month calendar of the days with free times, each day's times
one link away (no script needed), in the reader's zone; a short list of common time
zones, with every zone one link away."""

import re
from datetime import timedelta

import pytest

from blueprints.booking import display
from blueprints.booking import seed as booking_seed
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import free

TIMES = "/consultations/initial-consultation/"


def _days_shown(page):
    return re.findall(r'<h3 id="day-\d+">([^<]+)</h3>', page.text)


def _free_days(page):
    """(iso date, aria-label) of each day the calendar links to."""
    return re.findall(
        r'<a href="\?month=[0-9-]+&amp;day=([0-9-]+)#times" aria-label="([^"]+)"', page
    )


def _month(value, zone=None):
    return value.astimezone(zone or practitioner_zone()).strftime("%Y-%m")


def test_the_calendar_marks_each_free_day_of_the_month_and_shows_the_first_days_times(
    client, types
):
    zone = practitioner_zone()
    slots = free(types["initial"])
    month = _month(slots[0])
    this_month = [s for s in slots if _month(s) == month]
    page = client.get(TIMES).text
    days = {s.astimezone(zone).date().isoformat() for s in this_month}
    assert {day for day, _label in _free_days(page)} == days
    first_day = min(days)
    count = sum(1 for s in this_month if s.astimezone(zone).date().isoformat() == first_day)
    label = dict(_free_days(page))[first_day]
    assert label.endswith(f", {count} free time{'s' if count != 1 else ''}")
    # The chosen (first) day is marked, and its times are the ones listed.
    assert re.search(rf'day={first_day}#times" aria-label="[^"]+" aria-current="date"', page)
    listed = re.findall(r"book\?slot=([0-9TZ:-]+)", page)
    assert listed == [
        display.slot_value(s)
        for s in this_month
        if s.astimezone(zone).date().isoformat() == first_day
    ]


def test_choosing_a_day_shows_its_times_without_script(client, types):
    zone = practitioner_zone()
    slots = free(types["initial"])
    month = _month(slots[0])
    days = sorted({s.astimezone(zone).date() for s in slots if _month(s) == month})
    day = days[-1]
    page = client.get(f"{TIMES}?month={month}&day={day.isoformat()}").text
    expected = [display.slot_value(s) for s in slots if s.astimezone(zone).date() == day]
    assert re.findall(r"book\?slot=([0-9TZ:-]+)", page) == expected
    # A day with no free time, or outside the month, falls back to the month's first.
    first = client.get(f"{TIMES}?month={month}&day=1999-01-01").text
    assert re.findall(r"book\?slot=([0-9TZ:-]+)", first) == re.findall(
        r"book\?slot=([0-9TZ:-]+)", client.get(TIMES).text
    )


def test_other_months_are_one_link_away_and_end_at_the_horizon(client, types):
    slots = free(types["initial"])
    months = sorted({_month(s) for s in slots})
    first = client.get(TIMES).text
    assert "&larr;" not in first  # nothing before this month
    nxt = re.search(r'<a href="\?month=([0-9-]+)">[A-Z][a-z]+ \d{4} &rarr;</a>', first)
    assert nxt and nxt.group(1) == months[1]
    second = client.get(f"{TIMES}?month={months[1]}").text
    assert {d[:7] for d, _ in _free_days(second)} == {months[1]}
    assert re.search(rf'<a href="\?month={months[0]}">&larr; ', second)
    last = client.get(f"{TIMES}?month={months[-1]}").text
    assert "&rarr;" not in last
    # A month outside the horizon (or not a month) shows the first one.
    assert _free_days(client.get(f"{TIMES}?month=2999-01").text) == _free_days(first)
    assert _free_days(client.get(f"{TIMES}?month=nonsense").text) == _free_days(first)


def test_each_time_names_its_day_for_screen_readers_and_her_home_time(client, types):
    client.set_cookie("tz", "Europe/London")
    page = client.get(TIMES).text
    day = _days_shown(client.get(TIMES))[0]
    assert f'<span class="visually-hidden">{day}, </span>' in page
    assert re.search(r'aria-label="[A-Z][a-z]+day \d{1,2} [A-Z][a-z]+, \d+ free times?"', page)
    assert re.search(r'<span class="slot-home">\(\d{1,2}:\d\d [ap]m in New York\)</span>', page)


def test_the_zone_selector_offers_common_zones_in_plain_words(client, types):
    page = client.get(TIMES).text
    assert '<option value="America/New_York" selected>Eastern Time (New York)</option>' in page
    assert '<optgroup label="Europe">' in page
    assert page.count("<option") < 60
    assert 'href="/consultations/time-zones?next=' in page


def test_her_own_zone_is_offered_even_when_it_is_not_a_common_one(client, types):
    client.set_cookie("tz", "America/Indiana/Knox")
    page = client.get(TIMES).text
    assert '<option value="America/Indiana/Knox" selected>Knox (Indiana)</option>' in page
    assert '<optgroup label="Your time zone">' in page


def test_every_booking_page_offers_the_same_zone_list_in_plain_words(client, types):
    """The times page and the booking form share one list: common zones first, her own
    zone added when it is another one, no zone written as its id."""
    client.set_cookie("tz", "Asia/Kathmandu")
    times = client.get(TIMES).text
    slot = display.slot_value(free(types["initial"])[0])
    form = client.get(f"{TIMES}book?slot={slot}").text

    def options(page):
        select = re.search(r'<select[^>]*name="(?:tz|timezone)"[^>]*>(.*?)</select>', page, re.S)
        return re.findall(r'<option[^>]*value="([^"]+)"[^>]*>([^<]*)</option>', select.group(1))

    assert options(times) == options(form)
    assert options(times)[0] == ("Asia/Kathmandu", "Kathmandu")
    assert ("America/Los_Angeles", "Pacific Time (Los Angeles)") in options(times)
    assert not any("/" in label or "_" in label for _value, label in options(times))


def test_the_full_list_of_zones_sets_the_zone_without_javascript(client, types):
    page = client.get("/consultations/time-zones", query_string={"next": TIMES})
    assert page.status_code == 200
    assert '<optgroup label="Asia">' in page.text
    assert (
        '<option value="Asia/Kathmandu" data-k="nepal" data-m="nepal">Kathmandu</option>'
        in page.text
    )
    assert (
        '<option value="America/Argentina/Buenos_Aires" data-m="argentina" data-c>Buenos Aires (Argentina)</option>'
        in (page.text)
    )
    assert f'<input type="hidden" name="next" value="{TIMES}">' in page.text
    response = client.post("/consultations/timezone", data={"tz": "Asia/Kathmandu", "next": TIMES})
    assert response.status_code == 303 and response.headers["Location"].endswith(TIMES)
    assert "tz=Asia/Kathmandu" in response.headers["Set-Cookie"]


def test_the_full_list_never_sends_her_off_site(client, types):
    page = client.get("/consultations/time-zones", query_string={"next": "//evil.example"})
    assert "evil.example" not in page.text


def test_a_shorter_horizon_setting_ends_the_months_and_the_times_sooner(app, client, types):
    app.config["BOOKING_HORIZON_DAYS"] = 21
    last_time = max(free(types["initial"]))
    assert last_time <= utcnow() + timedelta(days=21)
    months = sorted({_month(s) for s in free(types["initial"])})
    last = client.get(f"{TIMES}?month={months[-1]}").text
    assert "&rarr;" not in last
    assert (
        max(d for d, _ in _free_days(last))
        <= last_time.astimezone(practitioner_zone()).date().isoformat()
    )


def test_every_booking_page_detects_the_visitors_zone(client, types):
    """booking.js and its marker on the list of consultations, the free times and the
    booking form: a first visit from any of them shows times in her own zone."""
    slot = display.slot_value(free(types["initial"])[0])
    for url in ("/consultations/", TIMES, f"{TIMES}book?slot={slot}"):
        page = client.get(url).text
        assert re.search(r'<script src="/static/js/booking\.js\?v=\w+" defer>', page), url
        assert 'data-zone-shown="America/New_York"' in page, url


TIMES_PAGE_BUDGET = 15 * 1024  # bytes of uncompressed HTML (issue #19.7)


@pytest.mark.parametrize("slug", ["initial-consultation", "follow-up-call"])
def test_the_free_times_page_stays_under_15_kb_of_html_for_every_day_of_the_demo(app, client, slug):
    booking_seed.seed()
    db.session.commit()
    first = client.get(f"/consultations/{slug}/")
    assert first.status_code == 200
    sizes = {"first view": len(first.data)}
    days = _free_days(first.text)
    assert len(days) >= 4  # the demo's month has free days to choose from
    for day, _label in days:
        page = client.get(f"/consultations/{slug}/?month={day[:7]}&day={day}")
        assert page.status_code == 200 and "book?slot=" in page.text
        sizes[day] = len(page.data)
    assert max(sizes.values()) < TIMES_PAGE_BUDGET, sizes
