"""The full zone list on the booking pages: no deprecated alias listed, an old zone
name (what Chromium reports in India or Ukraine) read as its current zone, never refused."""

import re

import pytest
from sqlalchemy import select

from blueprints.booking import display
from blueprints.booking.models import Booking
from extensions import db
from tests.booking.conftest import form_data, free
from tests.booking.test_times_page import TIMES
from tests.stripe_fake import stripe_config

ZONES = "/consultations/time-zones"


@pytest.fixture
def app_config(httpserver):
    return {**stripe_config(httpserver), "RATELIMIT_ENABLED": False}


def test_the_full_list_leaves_out_deprecated_aliases(client, types):
    page = client.get(ZONES).text
    for alias in ("Canada/Eastern", "Brazil/East", "Mexico/General", "Australia/ACT",
                  "Asia/Calcutta", "Europe/Kiev", "Asia/Saigon", "America/Buenos_Aires",
                  "Asia/Katmandu", "America/Godthab"):  # fmt: skip
        assert f'value="{alias}"' not in page, alias
    assert 'value="Asia/Kolkata"' in page and 'value="Europe/Kyiv"' in page
    assert '<optgroup label="Canada">' not in page and '<optgroup label="Brazil">' not in page


def test_a_browser_reporting_an_old_zone_name_sees_its_current_zone(client, types):
    client.set_cookie("tz", "Asia/Calcutta")
    page = client.get(TIMES).text
    assert '<option value="Asia/Kolkata" selected>India (Kolkata)</option>' in page
    assert 'data-zone-shown="Asia/Kolkata"' in page
    assert '<span class="slot-home">' in page  # her times, each with New York's beside it


def test_choosing_an_old_zone_name_stores_its_current_name(client, types):
    response = client.post("/consultations/timezone", data={"tz": "Europe/Kiev", "next": TIMES})
    assert response.status_code == 303 and response.headers["Location"].endswith(TIMES)
    assert "tz=Europe/Kyiv" in response.headers["Set-Cookie"]


def _options(page):
    return re.findall(r'<option value="([^"]+)"', page)


def test_the_full_list_has_a_search_box_with_plain_instructions(client, types):
    page = client.get(ZONES, query_string={"next": TIMES}).text
    search = re.search(r'<form class="zone-search"[^>]*method="get".*?</form>', page, re.S).group(0)
    assert '<label for="zone-search">' in search
    assert re.search(r'<input type="search" id="zone-search" name="q"[^>]*'
                     r'aria-describedby="zone-search-help"', search)  # fmt: skip
    assert 'id="zone-search-help"' in search
    assert re.search(r'id="zone-count" role="status" aria-live="polite"', page)
    assert f'<input type="hidden" name="next" value="{TIMES}">' in search
    assert '<script src="/static/js/zones.js' in page
    # No inline script: the page works under the Content-Security-Policy.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)


def test_searching_without_script_lists_only_the_places_that_match(client, types):
    page = client.get(ZONES, query_string={"q": "kolk", "next": TIMES}).text
    assert _options(page) == ["Asia/Kolkata"]
    assert "1 place matches" in page
    # Her country finds its cities; so does the common name of a zone.
    assert _options(client.get(ZONES, query_string={"q": "india"}).text) == ["Asia/Kolkata"]
    assert "America/New_York" in _options(client.get(ZONES, query_string={"q": "new york"}).text)
    eastern = _options(client.get(ZONES, query_string={"q": "Eastern time"}).text)
    assert {"America/New_York", "America/Toronto"} <= set(eastern)
    assert "Europe/Amsterdam" in _options(client.get(ZONES, query_string={"q": "netherlands"}).text)
    # Accents and capitals do not matter.
    assert "America/Sao_Paulo" in _options(client.get(ZONES, query_string={"q": "SÃO"}).text)


def test_a_search_that_finds_nothing_says_so_and_keeps_every_place(client, types):
    page = client.get(ZONES, query_string={"q": "atlantis"}).text
    assert "No place matches" in page
    assert len(_options(page)) > 300


def test_each_place_carries_its_country_for_the_search_script(client, types):
    page = client.get(ZONES).text
    assert re.search(
        r'<option value="Asia/Kolkata" data-k="[^"]*india[^"]*"[^>]*>Kolkata</option>', page
    )
    assert len(page.encode()) < 60_000  # a few hundred places: keep the page light


def test_a_booking_made_under_an_old_zone_name_keeps_its_current_name(client, types, stripe_api):
    slot = display.slot_value(free(types["initial"])[0])
    response = client.post(
        f"{TIMES}book", data=form_data(slot, timezone="Asia/Calcutta", call_type="phone")
    )
    assert response.status_code == 303
    booking = db.session.scalars(select(Booking)).one()
    assert booking.client_timezone == "Asia/Kolkata"


def test_a_search_folds_only_what_she_typed_not_every_place_again(monkeypatch):
    """The places' search words are worked out once per process: a search on the full
    list of about 420 places folds only the words typed."""
    display.search_zone_groups("warm up")  # the first search may work the places out
    folded = []
    real = display.search_words
    monkeypatch.setattr(display, "search_words", lambda text: folded.append(text) or real(text))
    groups, matches = display.search_zone_groups("kolk")
    assert matches == 1 and groups[0][1][0].name == "Asia/Kolkata"
    assert folded == ["kolk"]


def _selected(page):
    return re.findall(r'<option value="([^"]+)"[^>]*\bselected\b', page)


@pytest.mark.parametrize(
    ("typed", "first", "also"),
    [
        ("Florida", "America/New_York", {"America/Chicago"}),  # the panhandle
        ("Ontario", "America/Toronto", {"America/Winnipeg"}),  # the northwest
        ("texas", "America/Chicago", {"America/Denver"}),  # El Paso
        ("British Columbia", "America/Vancouver", set()),
        ("Quebec", "America/Toronto", set()),
        ("Québec", "America/Toronto", set()),
        ("Arizona", "America/Phoenix", set()),
        ("Washington", "America/Los_Angeles", set()),
        ("Nova Scotia", "America/Halifax", set()),
    ],
)
def test_a_us_state_or_canadian_province_finds_its_zones_most_of_it_first(
    client, types, typed, first, also
):
    page = client.get(ZONES, query_string={"q": typed}).text
    found = _options(page)
    assert found and found[0] == first, found
    assert also <= set(found)
    assert _selected(page) == [first]  # chosen, ready to use, as the script does


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("Australia", "Australia/Sydney"),
        ("australia", "Australia/Sydney"),
        ("Canada", "America/Toronto"),
        ("United States", "America/New_York"),
        ("Brazil", "America/Sao_Paulo"),
        ("Russia", "Europe/Moscow"),
        ("Mexico", "America/Mexico_City"),  # not New Mexico's Denver
        ("New Mexico", "America/Denver"),
        ("Georgia", "America/New_York"),  # the state first; the country is listed too
    ],
)
def test_a_country_lists_its_usual_zone_first_and_chooses_it(client, types, typed, first):
    page = client.get(ZONES, query_string={"q": typed}).text
    found = _options(page)
    assert found[0] == first, found[:5]
    assert _selected(page) == [first]


def test_australia_lists_its_cities_before_an_island_in_antarctica(client, types):
    found = _options(client.get(ZONES, query_string={"q": "Australia"}).text)
    assert "Antarctica/Macquarie" in found
    assert found.index("Antarctica/Macquarie") > found.index("Australia/Perth")
    assert "Asia/Tbilisi" in _options(client.get(ZONES, query_string={"q": "Georgia"}).text)


def test_every_zone_a_state_or_province_names_is_a_listed_zone():
    listed = {zone.name for _region, zones in display.ALL_ZONE_GROUPS for zone in zones}
    for name, zones in display.STATES_AND_PROVINCES:
        assert zones and set(zones) <= listed, name
    assert len(display.STATES_AND_PROVINCES) >= 50 + 1 + 13
