"""Buying a vest in Chromium at desktop and phone width (issues #19.3 and #19.4): she
chooses its size and weight, the vest page shows the shipping rates, the cart its
shipping and total; she chooses "Ship to: Canada" in the cart and presses Update (a list
never sends a form by itself: WCAG 3.2.2) and the total follows; the emulator's Checkout
offers only Canada and its rate, and the success page and the email show the total with
that shipping. axe finds nothing; at 390 px no page scrolls sideways."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible
from tests.browser.test_shop import demo_shop, emulator  # noqa: F401  (fixtures, used by name)


def _cents(text):
    return int(re.sub(r"[^0-9]", "", text))


def _check(page, phone):
    assert_accessible(page)
    if phone:
        extra = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert extra <= 0, f"{page.url} scrolls {extra} px sideways"


@pytest.mark.usefixtures("emulator", "demo_shop")
def test_a_vest_ships_to_canada_at_the_rate_she_chose_on_desktop_and_phone(
    browser, live_server, mailbox
):
    for buyer, width in enumerate((1366, 390), start=1):
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": width, "height": 900},
            timezone_id="America/New_York",
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        _buy_and_ship_to_canada(page, phone=width == 390)
        context.close()
        email = mailbox.wait_for(buyer)[-1].as_string()
        assert "$24.00" in email and "Size M, 8 lb" in email


def _buy_and_ship_to_canada(page, phone):
    page.goto("/shop/weighted-walking-vest")
    shipping = page.get_by_role("region", name="Shipping")
    expect(shipping.get_by_role("heading", name="Canada")).to_be_visible()
    expect(shipping).to_contain_text("Standard, 5\u201310 business days: $24.00")
    _check(page, phone)
    # She chooses her size and weight (two choices), then adds the vest.
    page.get_by_label("Size", exact=True).select_option("M")
    page.get_by_label("Added weight", exact=True).select_option("8")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("status")).to_contain_text("(Size M, 8 lb)")
    page.get_by_role("link", name="Go to your cart").click()

    foot = page.locator("tfoot")
    subtotal = _cents(foot.get_by_role("row", name=re.compile("^Subtotal")).inner_text())
    expect(foot).to_contain_text("Shipping (United States: Standard, 3\u20135 business days)")
    total_row = foot.get_by_role("row", name=re.compile("^Total"))
    assert _cents(total_row.inner_text()) == subtotal + 1200
    policy = page.get_by_role("main").get_by_role("link", name="Shipping and returns")
    expect(policy).to_be_visible()
    _check(page, phone)

    # Choosing the country changes nothing until she presses Update (WCAG 3.2.2, On Input).
    page.get_by_label("Ship to").select_option("CA")
    expect(foot).to_contain_text("United States: Standard")
    page.get_by_role("button", name="Update the country to ship to").click()
    expect(page.get_by_role("status")).to_contain_text("Shipping to Canada")
    expect(foot).to_contain_text("Shipping (Canada: Standard, 5\u201310 business days)")
    assert _cents(total_row.inner_text()) == subtotal + 2400
    expect(page.get_by_label("Ship to")).to_have_value("CA")
    _check(page, phone)

    page.get_by_role("button", name="Check out").click()
    expect(page.get_by_text("TEST PAYMENT: Stripe emulator")).to_be_visible()
    page.get_by_label("Email").fill("dee@example.com")
    # Checkout offers only her country and its rate: no US rate to pick by mistake.
    expect(page.get_by_label("Country").locator("option")).to_have_count(1)
    expect(page.get_by_role("radio", name=re.compile(r"United States"))).to_have_count(0)
    page.get_by_label("Country").select_option("CA")
    page.get_by_role("radio", name=re.compile(r"Canada: Standard")).check()
    _check(page, phone)
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your order")
    table = page.get_by_role("table", name="Your order")
    expect(table).to_contain_text("Shipping (Canada: Standard, 5\u201310 business days)")
    total = table.get_by_role("row", name=re.compile("^Total"))
    assert _cents(total.inner_text()) == subtotal + 2400
    _check(page, phone)
