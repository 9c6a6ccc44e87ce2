"""The time zone script stays off the critical path, yet the next page knows the zone."""

import pytest


@pytest.fixture
def tokyo_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Tokyo")
    page = context.new_page()
    yield page
    context.close()


def _tz_cookie(page):
    return [c["value"] for c in page.context.cookies() if c["name"] == "tz"]


def test_zone_is_remembered_on_the_readers_first_tap(tokyo_page):
    tokyo_page.goto("/")
    assert _tz_cookie(tokyo_page) == []  # no Intl work while the page loads
    tokyo_page.mouse.click(5, 300)
    assert _tz_cookie(tokyo_page) == ["Asia/Tokyo"]


def test_zone_is_remembered_when_the_browser_is_idle_after_load(tokyo_page):
    tokyo_page.goto("/")
    # The page's CSP forbids eval, so poll from outside instead of wait_for_function.
    for _ in range(80):
        if _tz_cookie(tokyo_page):
            break
        tokyo_page.wait_for_timeout(100)
    assert _tz_cookie(tokyo_page) == ["Asia/Tokyo"]
