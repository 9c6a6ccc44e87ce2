"""The full list of time zones in a real browser: she types part of her city, the list
narrows as she types (the count read out politely), she chooses it and the times show in
her zone; and a browser that reports an old zone name (Asia/Calcutta) sees its current
zone (Kolkata). axe checks the list page before and after a search."""

import pytest

from blueprints.booking.seed import seed
from extensions import db
from tests.browser.conftest import assert_accessible

expect = pytest.importorskip("playwright.sync_api").expect

TIMES = "/consultations/initial-consultation/"


@pytest.fixture
def demo(app):
    seed()
    db.session.commit()


def _choose_by_search(page, typed, label):
    page.goto(f"/consultations/time-zones?next={TIMES}")
    page.get_by_label("Search for your city or country").press_sequentially(typed)
    expect(page.locator("#zone-count")).to_contain_text(f"matches \u201c{typed}\u201d")
    expect(page.get_by_label("Your time zone", exact=True)).to_contain_text(label)
    return page


def test_she_finds_her_zone_by_typing_part_of_its_name(page, live_server, demo):
    page.goto(f"/consultations/time-zones?next={TIMES}")
    assert_accessible(page)
    options = page.locator("#tz-select option")
    everything = options.count()
    assert everything > 300

    _choose_by_search(page, "kolk", "Kolkata")
    expect(page.locator("#zone-count")).to_have_attribute("aria-live", "polite")
    assert options.count() == 1
    expect(page.get_by_label("Your time zone", exact=True)).to_have_value("Asia/Kolkata")
    assert_accessible(page)
    page.get_by_role("button", name="Use this time zone").click()
    expect(page).to_have_url(f"{live_server.url}{TIMES}")
    expect(page.locator(".lead")).to_contain_text("Kolkata time")
    expect(page.get_by_label("Times are shown in this time zone")).to_have_value("Asia/Kolkata")

    _choose_by_search(page, "new york", "New York")
    expect(page.get_by_label("Your time zone", exact=True)).to_have_value("America/New_York")
    page.get_by_role("button", name="Use this time zone").click()
    expect(page.locator(".lead")).to_contain_text("Eastern Time")
    expect(page.get_by_label("Times are shown in this time zone")).to_have_value("America/New_York")


def test_clearing_the_search_or_finding_nothing_brings_back_every_place(page, demo):
    page.goto("/consultations/time-zones")
    search = page.get_by_label("Search for your city or country")
    zones = page.locator("#tz-select")
    everything = page.locator("#tz-select option").count()
    hers = zones.input_value()  # the zone she had when the page opened
    search.press_sequentially("india")
    expect(page.locator("#zone-count")).to_contain_text("1 place matches")
    expect(zones).to_have_value("Asia/Kolkata")
    search.fill("")
    expect(page.locator("#zone-count")).to_have_text("")
    expect(page.locator("#tz-select option")).to_have_count(everything)
    expect(zones).to_have_value(hers)  # not India, which she never chose
    search.press_sequentially("india")
    expect(zones).to_have_value("Asia/Kolkata")
    search.fill("atlantis")
    expect(page.locator("#zone-count")).to_contain_text("No place matches")
    expect(page.locator("#tz-select option")).to_have_count(everything)
    expect(zones).to_have_value(hers)


def test_a_browser_reporting_an_old_zone_name_sees_its_current_zone(browser, live_server, demo):
    # Chromium still reports Asia/Calcutta in India.
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Calcutta")
    page = context.new_page()
    try:
        page.goto(TIMES)
        expect(page.locator(".lead")).to_contain_text("Kolkata time")
        expect(page.get_by_label("Times are shown in this time zone")).to_have_value("Asia/Kolkata")
    finally:
        context.close()


@pytest.mark.parametrize(
    ("typed", "zone", "label"),
    [
        ("Florida", "America/New_York", "New York"),
        ("Ontario", "America/Toronto", "Toronto"),
        ("Australia", "Australia/Sydney", "Sydney"),
    ],
)
def test_a_state_province_or_country_chooses_its_usual_zone(page, demo, typed, zone, label):
    page.goto(f"/consultations/time-zones?next={TIMES}")
    page.get_by_label("Search for your city or country").press_sequentially(typed)
    expect(page.locator("#zone-count")).to_contain_text(f"match \u201c{typed}\u201d")
    expect(page.get_by_label("Your time zone", exact=True)).to_have_value(zone)
    first = page.locator("#tz-select option").first
    expect(first).to_have_attribute("value", zone)
    expect(first).to_have_text(label)
