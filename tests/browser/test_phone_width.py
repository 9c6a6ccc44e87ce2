"""Every public page fits a phone (issue #19.1): at 390 px wide nothing scrolls sideways.

The cart is measured with a vest and a program in it, the booking form with a time
chosen, so the widest content each page can have is on it.
"""

import pytest
from playwright.sync_api import expect

from blueprints.blog.seed import seed as seed_blog
from blueprints.booking.seed import seed as seed_booking
from blueprints.shop.seed import seed as seed_shop
from extensions import db
from tests.browser.conftest import assert_accessible

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo(app):
    seed_blog()
    seed_shop()
    seed_booking()
    db.session.commit()


@pytest.fixture
def phone(browser, live_server, demo):
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, timezone_id="America/New_York"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _overflow(page):
    """How far the page scrolls sideways, and the widest elements that cause it."""
    return page.evaluate(
        """() => {
          const width = window.innerWidth;
          const wide = [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > width + 1)
            .slice(0, 5)
            .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
          // A box that scrolls sideways inside the page hides its right side just the
          // same (the cart's total was off screen in one): none may either.
          const boxes = [...document.querySelectorAll('body *')]
            .filter(el => el.scrollWidth > el.clientWidth + 1
                     && ['auto', 'scroll'].includes(getComputedStyle(el).overflowX))
            .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
          return {extra: document.documentElement.scrollWidth - width, wide, boxes};
        }"""
    )


def _links(page, selector):
    return page.eval_on_selector_all(selector, "els => els.map(e => e.getAttribute('href'))")


def test_no_public_page_scrolls_sideways_on_a_phone(phone):
    page = phone
    pages = ["/", "/blog/", "/blog/search?q=bone", "/shop/", "/consultations/", "/newsletter/"]
    pages += ["/consultations/time-zones", "/account/programs", "/account/sign-in", "/nowhere"]
    page.goto("/blog/")
    pages += _links(page, "main article h2 a, main .post-list a")[:2]
    page.goto("/shop/")
    products = _links(page, "main a[href^='/shop/p/'], main .card a")
    pages += products
    page.goto("/consultations/")
    times = _links(page, "main a.button")
    pages += times
    page.goto(times[0])
    pages += _links(page, "a.slot-link")[:1]

    # The cart with what makes it widest: a vest with its options and a program.
    for product in products:
        page.goto(product)
        add = page.get_by_role("button", name="Add to cart")
        if add.count():
            add.first.click()
    page.goto("/cart")
    expect(page.locator("table.cart-table")).to_be_visible()
    pages.append("/cart")
    assert_accessible(page)  # the stacked rows keep every label and control named

    assert len(set(pages)) >= 16, pages  # the links above were found
    too_wide = {}
    for path in dict.fromkeys(pages):
        page.goto(path)
        result = _overflow(page)
        if result["extra"] > 0 or result["boxes"]:
            too_wide[path] = result
    assert not too_wide, too_wide
