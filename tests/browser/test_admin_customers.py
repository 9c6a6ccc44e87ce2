"""Staff's customers and order list in Chromium (issues #18.5, #20.5): find an order by
its customer's name, open her page, email her a sign-in code; axe-core finds nothing on
any of these pages, with and without a form error."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from blueprints.account.services import create_staff
from blueprints.core.types import utcnow
from extensions import db
from tests import factories
from tests.browser.conftest import assert_accessible
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
from tests.factories import make_booking, make_consultation_type, make_order, make_subscriber
from tests.shop.conftest import make_vest


@pytest.fixture
def margaret(app):
    create_staff(STAFF_EMAIL, STAFF_PASSWORD, name="Susan Brown")
    db.session.commit()
    vest = make_vest()
    make_order(vest, email="margaret@example.com", name="Margaret Hill", events=("paid",))
    make_order(vest, email="bea@example.com", name="Bea Jones", currency="cad",
               created_at=utcnow() - timedelta(days=3))  # fmt: skip
    make_booking(
        make_consultation_type(),
        email="margaret@example.com",
        name="Margaret Hill",
        events=("held", "confirmed"),
    )
    make_subscriber("margaret@example.com", first_name="Margaret")
    factories.make_comment(
        factories.make_post("Walking"), "Thank you.", email="margaret@example.com"
    )
    db.session.close()  # the live server's threads use their own sessions


def test_staff_find_an_order_open_its_customer_and_send_her_a_code(page, margaret, mailbox):
    page.goto("/admin/login")
    page.get_by_role("main").get_by_label("Email address").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/")

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Orders").click()
    assert_accessible(page)
    page.get_by_label("Order number, email or name").fill("hill")
    page.get_by_role("button", name="Find").click()
    # The click returns once the results page has started loading: wait for its rows.
    expect(page.locator("table").last.locator("tbody tr")).to_have_count(1)
    assert_accessible(page)

    page.get_by_label("From (day)").fill("2026-03-10")
    page.get_by_label("To (day)").fill("2026-03-01")
    page.get_by_role("button", name="Find").click()
    page.wait_for_selector(".form-errors")
    assert_accessible(page)

    page.goto("/admin/orders?state=all&q=hill")
    page.get_by_role("link", name="Margaret Hill").click()
    page.wait_for_selector("h1:has-text('Margaret Hill')")
    assert_accessible(page)
    page.get_by_role("button", name="Email her a sign-in code").click()
    page.get_by_text("We emailed a sign-in code to margaret@example.com").wait_for()
    assert_accessible(page)
    assert mailbox.wait_for(1)[0]["To"] == "margaret@example.com"

    page.get_by_role("link", name="All customers").click()
    assert_accessible(page)
    page.get_by_label("Email or name").fill("bea")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="bea@example.com")).to_be_visible()
    assert_accessible(page)
