"""The shop in Chromium, paying through the bundled Stripe emulator: a vest in a size
to the cart, check out, pay, the success page and the email; a program bought and a
lesson opened. axe finds nothing on any shop page."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from blueprints.shop.models import Order, OrderStatus, Variant
from blueprints.shop.seed import seed
from extensions import db
from stripe_emulator import EmulatorThread
from tests.browser.conftest import assert_accessible
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD, free_port, text_part


@pytest.fixture
def emulator(app, live_server):
    server = EmulatorThread(
        free_port(),
        live_server.url + "/stripe/webhook",
        app.config["STRIPE_WEBHOOK_SECRET"],
        api_key=app.config["STRIPE_SECRET_KEY"],
    ).start()
    # The SDK client is built per call, so these take effect for the next request.
    app.config.update(
        STRIPE_API_BASE=server.url, STRIPE_CHECKOUT_ORIGIN=server.url, STRIPE_EMULATOR=True
    )
    yield server
    server.stop()


@pytest.fixture
def demo_shop(app):
    seed()
    db.session.commit()


def _pay(page, email):
    expect(page.get_by_text("TEST PAYMENT: Stripe emulator")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your order")


def _stock(sku):
    db.session.expire_all()
    return db.session.scalar(select(Variant.stock).where(Variant.sku == sku))


def test_buy_a_vest_in_a_size_through_the_emulator(page, emulator, demo_shop, mailbox):
    stock_before = _stock("VEST-M-08")
    page.goto("/shop/")
    assert_accessible(page)
    page.get_by_role("link", name="Weighted Walking Vest").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Weighted Walking Vest")
    expect(page.get_by_text("Only 2 left", exact=True)).to_be_visible()
    assert_accessible(page)

    # Size and weight as two choices (static/js/options.js); tests/browser/
    # test_product_options.py follows the price and stock as they change.
    page.get_by_label("Size", exact=True).select_option("M")
    page.get_by_label("Added weight", exact=True).select_option("8")
    page.get_by_role("button", name="Add to cart").click()
    # She stays on the product, told it is in her cart; the header counts it, on this
    # page and on the shared (cached) pages she reads next.
    expect(page.get_by_role("status")).to_contain_text("to your cart")
    expect(page.get_by_role("link", name="Cart (1 item)")).to_be_visible()
    assert_accessible(page)
    page.goto("/")
    expect(page.get_by_role("link", name="Cart (1 item)")).to_be_visible()
    page.get_by_role("link", name="Cart (1 item)").click()
    expect(page).to_have_url(re.compile(r"/cart$"))
    expect(page.get_by_role("link", name="Weighted Walking Vest (Size M, 8 lb)")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Check out").click()
    expect(page).to_have_url(re.compile(r"^" + re.escape(emulator.url) + r"/pay/cs_test_"))
    expect(page.get_by_text("Shipping address")).to_be_visible()
    assert_accessible(page)  # the emulator's own page is kept clean too
    _pay(page, "ann@example.com")
    assert_accessible(page)

    [message] = mailbox.wait_for(1)
    assert message["To"] == "ann@example.com"
    assert "Weighted Walking Vest (Size M, 8 lb) x 1" in text_part(message)
    db.session.expire_all()
    order = db.session.scalars(select(Order)).one()
    assert order.status == OrderStatus.PAID and "1 Test Street" in order.shipping_address
    assert _stock("VEST-M-08") == stock_before - 1


def test_buy_a_program_and_open_a_lesson(page, emulator, demo_shop, mailbox):
    page.goto("/shop/12-week-back-strengthening-program")
    assert_accessible(page)
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Go to your cart").click()
    page.get_by_role("button", name="Check out").click()
    _pay(page, "bea@example.com")

    page.get_by_role("link", name="Start your program now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My programs")
    assert_accessible(page)
    page.get_by_role("link", name="Week 3: Hips and glutes carry you").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Week 3: Hips and glutes carry you")
    expect(page.get_by_text("sit-to-stand", exact=False).first).to_be_visible()
    assert_accessible(page)

    body = text_part(mailbox.wait_for(1)[0])
    assert "/account/order/" in body  # the order's own link (issue 17, finding 1)


def test_cancelling_on_the_emulator_returns_to_the_cart(page, emulator, demo_shop):
    page.goto("/shop/bone-building-food-plan")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Go to your cart").click()
    page.get_by_role("button", name="Check out").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment cancelled")
    assert_accessible(page)
    page.get_by_role("link", name="Return to your cart").click()
    expect(page.get_by_role("link", name=re.compile("Bone-Building Food Plan"))).to_be_visible()


@pytest.fixture
def staff_page(browser, live_server, staff_user):
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/admin/login")
    page.get_by_role("main").get_by_label("Email address").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/")
    yield page
    context.close()


def test_staff_ship_an_order_and_admin_pages_pass_axe(
    app, staff_page, emulator, demo_shop, mailbox, live_server
):
    page = staff_page
    page.goto("/shop/weighted-walking-vest")
    page.get_by_label("Size", exact=True).select_option("L")
    page.get_by_label("Added weight", exact=True).select_option("4")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Go to your cart").click()
    page.get_by_role("button", name="Check out").click()
    _pay(page, "cy@example.com")
    mailbox.wait_for(1)

    page.goto("/admin/orders")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"^BB-")).click()
    expect(page.get_by_role("heading", name="Mark shipped")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Tracking number").fill("1Z999")
    page.get_by_role("button", name="Mark shipped and email the customer").click()
    expect(page.get_by_text("marked shipped")).to_be_visible()
    assert "1Z999" in text_part(mailbox.wait_for(2)[-1])

    page.get_by_label("Amount to refund, in dollars").fill("10.00")
    page.get_by_role("button", name="Refund through Stripe").click()
    # Nothing is refunded until she says yes on the page that names the amount.
    expect(page.get_by_text(re.compile(r"^Refund \$10\.00 to .* through Stripe\?"))).to_be_visible()
    assert_accessible(page)
    db.session.expire_all()
    assert db.session.scalars(select(Order)).one().refunded_cents == 0
    page.get_by_role("button", name="Yes, refund through Stripe").click()
    expect(page.get_by_text("Refunded $10.00")).to_be_visible()
    db.session.expire_all()
    order = db.session.scalars(select(Order)).one()
    assert order.status == OrderStatus.PARTIALLY_REFUNDED and order.refunded_cents == 1000

    page.goto("/admin/products")
    assert_accessible(page)
    page.get_by_role("link", name="Weighted Walking Vest").click()
    assert_accessible(page)
