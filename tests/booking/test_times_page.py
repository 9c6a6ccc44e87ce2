"""The free-times page: four weeks at a glance, grouped by day, in the reader's zone;
a short list of common time zones, with every zone one link away."""

import re
from datetime import timedelta

from blueprints.booking import display
from blueprints.booking.availability import min_notice
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import utcnow
from tests.booking.conftest import free

TIMES = "/consultations/initial-consultation/"


def _days_shown(page):
    return re.findall(r'<h3 id="day-\d+">([^<]+)</h3>', page.text)


def test_the_page_lists_four_weeks_of_free_times_by_day(client, types):
    start = utcnow() + min_notice()
    slots = free(types["initial"], range_start=start, range_end=start + timedelta(weeks=4))
    assert slots[-1] - slots[0] > timedelta(weeks=3)  # the test data spans the month
    page = client.get(TIMES)
    assert page.status_code == 200
    for slot in slots:
        assert f"book?slot={display.slot_value(slot)}" in page.text
    later = free(types["initial"], range_start=start + timedelta(weeks=4, hours=1))
    assert display.slot_value(later[0]) not in page.text
    # One heading per day that has a free time, each day once.
    days = _days_shown(page)
    assert (
        len(days)
        == len(set(days))
        == len({s.astimezone(practitioner_zone()).date() for s in slots})
    )


def test_later_and_earlier_dates_move_four_weeks_at_a_time(client, types):
    first = client.get(TIMES)
    assert f'href="{TIMES}?week=4">Later dates' in first.text
    assert "Earlier dates" not in first.text
    second = client.get(f"{TIMES}?week=4")
    assert f'href="{TIMES}?week=0">&larr; Earlier dates' in second.text
    assert f'href="{TIMES}?week=8">Later dates' in second.text
    assert not set(_days_shown(first)) & set(_days_shown(second))
    last = client.get(f"{TIMES}?week=8")
    assert "Later dates" not in last.text


def test_each_time_names_its_day_for_screen_readers_and_her_home_time(client, types):
    client.set_cookie("tz", "Europe/London")
    page = client.get(TIMES).text
    day = _days_shown(client.get(TIMES))[0]
    assert f'<span class="visually-hidden">{day}, </span>' in page
    assert re.search(r'<span class="slot-home">\(\d{1,2}:\d\d [ap]m in New York\)</span>', page)


def test_the_zone_selector_offers_common_zones_in_plain_words(client, types):
    page = client.get(TIMES).text
    assert '<option value="America/New_York" selected>Eastern time (New York)</option>' in page
    assert '<optgroup label="Europe">' in page
    assert page.count("<option") < 60
    assert 'href="/consultations/time-zones?next=' in page


def test_her_own_zone_is_offered_even_when_it_is_not_a_common_one(client, types):
    client.set_cookie("tz", "America/Indiana/Knox")
    page = client.get(TIMES).text
    assert '<option value="America/Indiana/Knox" selected>America/Indiana/Knox</option>' in page


def test_the_full_list_of_zones_sets_the_zone_without_javascript(client, types):
    page = client.get("/consultations/time-zones", query_string={"next": TIMES})
    assert page.status_code == 200
    assert '<option value="Asia/Kathmandu">Asia/Kathmandu</option>' in page.text
    assert f'<input type="hidden" name="next" value="{TIMES}">' in page.text
    response = client.post("/consultations/timezone", data={"tz": "Asia/Kathmandu", "next": TIMES})
    assert response.status_code == 303 and response.headers["Location"].endswith(TIMES)
    assert "tz=Asia/Kathmandu" in response.headers["Set-Cookie"]


def test_the_full_list_never_sends_her_off_site(client, types):
    page = client.get("/consultations/time-zones", query_string={"next": "//evil.example"})
    assert "evil.example" not in page.text


def test_a_shorter_horizon_setting_ends_the_pages_and_the_times_sooner(app, client, types):
    app.config["BOOKING_HORIZON_DAYS"] = 21  # three weeks begun: one page, no later one
    page = client.get(TIMES)
    assert page.status_code == 200 and "Later dates" not in page.text
    assert max(free(types["initial"])) <= utcnow() + timedelta(days=21)
    # A week past the horizon is not a page of its own: the first page is shown.
    assert _days_shown(client.get(f"{TIMES}?week=4")) == _days_shown(page)
