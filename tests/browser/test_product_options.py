"""A vest's options in Chromium at 1366 and 390 px (#19.3): size and weight chosen as two
choices, the chosen option's price and stock shown beside the button as they change (and
the most of it she can buy in the quantity's hint and max), a
sold-out pair refused before sending, added to the cart; axe finds nothing, and on a
phone the page does not scroll sideways."""

import re

import pytest
from playwright.sync_api import expect

from blueprints.shop.seed import seed
from extensions import db
from tests.browser.conftest import assert_accessible

VIEWPORTS = ({"width": 1366, "height": 900}, {"width": 390, "height": 844})


@pytest.fixture
def demo_shop(app):
    seed()
    db.session.commit()


def _sideways(page):
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_choose_a_vest_by_size_and_weight_at_two_widths(browser, live_server, demo_shop):
    for viewport in VIEWPORTS:
        context = browser.new_context(
            base_url=live_server.url, viewport=viewport, timezone_id="America/New_York"
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto("/shop/weighted-walking-vest")
        size = page.get_by_label("Size", exact=True)
        weight = page.get_by_label("Added weight", exact=True)
        price = page.locator("[data-option-price]")
        stock = page.locator("[data-option-stock]")
        add = page.get_by_role("button", name="Add to cart")
        quantity = page.get_by_label("Quantity")
        hint = page.locator("#quantity-hint")

        # The one combined choice gives way to the two.
        expect(page.get_by_label("Size and added weight")).to_be_hidden()
        expect(size).to_have_value("S")
        expect(price).to_have_text("$89.00")
        expect(stock).to_have_text("Only 2 left")
        expect(hint).to_have_text("From 1 to 2.")
        expect(quantity).to_have_attribute("max", "2")
        # A sold-out pair says so, and cannot be sent.
        size.select_option("XL")
        weight.select_option("12")
        expect(price).to_have_text("$129.00")
        expect(stock).to_contain_text("Sold out")
        expect(add).to_be_disabled()
        # Another weight in the same size is for sale.
        weight.select_option("8")
        expect(price).to_have_text("$109.00")
        expect(stock).to_have_text(re.compile(r"In stock|Only \d left"))
        expect(add).to_be_enabled()
        # Plenty left: the per-order limit of one vest option.
        expect(hint).to_have_text("From 1 to 3.")
        expect(quantity).to_have_attribute("max", "3")
        size.select_option("M")
        expect(stock).to_have_text(re.compile(r"In stock|Only \d left"))
        expect(
            page.get_by_role("table", name="Chest measurement for each vest size")
        ).to_be_visible()
        assert_accessible(page)
        assert _sideways(page) <= 0, viewport

        add.click()
        expect(page.get_by_role("status")).to_contain_text("Weighted Walking Vest (Size M, 8 lb)")
        page.get_by_role("link", name="Go to your cart").click()
        expect(page).to_have_url(re.compile(r"/cart$"))
        expect(
            page.get_by_role("link", name="Weighted Walking Vest (Size M, 8 lb)")
        ).to_be_visible()
        assert "VEST-" not in page.content()  # no SKU
        assert _sideways(page) <= 0, viewport
        context.close()
