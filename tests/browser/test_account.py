"""My account in Chromium: her programs, orders, consultations, newsletter and comments
on one page, a lesson marked done with the button, and the printable receipt; axe finds
nothing on any of them. (Signing in with the emailed code has tests of its own: here the
browser carries her session cookie as the sign-in leaves it.)"""

import re
from datetime import timedelta

from playwright.sync_api import expect

from blueprints.account.customers import SESSION_KEY, customer_for_email
from blueprints.blog.models import CommentStatus
from blueprints.shop.models import OrderStatus
from extensions import db
from tests import factories
from tests.account import rows
from tests.browser.conftest import assert_accessible
from tests.factories import make_subscriber
from tests.shop.conftest import make_vest

EMAIL = "reader@example.com"


def _signed_in(app, page, live_server):
    customer = customer_for_email(EMAIL)
    db.session.commit()
    with app.test_request_context():
        value = app.session_interface.get_signing_serializer(app).dumps(
            {SESSION_KEY: f"{customer.id}:{customer.session_token}"}
        )
    page.context.add_cookies(
        [{"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": live_server.url}]
    )
    return customer


def test_my_account_shows_her_things_marks_a_lesson_done_and_prints_a_receipt(
    app, page, live_server
):
    _signed_in(app, page, live_server)
    rows.paid_order(EMAIL, rows.program("back-program", lessons=12, name="Back Program"))
    vest_order = rows.paid_order(EMAIL, make_vest())
    ctype = factories.make_consultation_type()
    rows.booking(ctype, EMAIL, timedelta(days=9))
    rows.booking(ctype, EMAIL, timedelta(days=-40))
    post = factories.make_post("Walking for bones")
    factories.make_comment(post, "Thank you!", email=EMAIL)
    factories.make_comment(post, "One more.", email=EMAIL, status=CommentStatus.PENDING)
    make_subscriber(EMAIL)

    page.goto("/account/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My account")
    expect(page.get_by_text("0 of 12 lessons done")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Start with Week 1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Week 1")
    assert_accessible(page)
    page.get_by_role("button", name="Mark this lesson done").click()
    expect(page.get_by_text("You have marked this lesson done.")).to_be_visible()

    page.goto("/account/")
    expect(page.get_by_text("1 of 12 lessons done")).to_be_visible()
    expect(page.get_by_role("link", name="Continue where you left off: Week 2")).to_be_visible()

    page.get_by_role("link", name=re.compile(rf"^{vest_order.reference}")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Receipt for order {vest_order.reference}"
    )
    expect(page.get_by_role("button", name="Print this receipt")).to_be_visible()
    assert_accessible(page)

    page.goto("/account/my-programs/back-program")
    assert_accessible(page)


PHONE = {"width": 390, "height": 844}


def test_her_orders_fit_a_phone_with_the_state_in_view_and_numbers_whole(app, browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, timezone_id="America/New_York"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    _signed_in(app, page, live_server)
    course = rows.program("back-program", lessons=3, name="Back Program")
    vest = make_vest()
    for _ in range(3):
        rows.paid_order(EMAIL, course)
    rows.paid_order(EMAIL, vest, quantity=2)  # paid, waiting to ship
    shipped = rows.paid_order(
        EMAIL, vest, status=OrderStatus.SHIPPED, tracking_number="9400111899223197428490"
    )
    reference = shipped.reference
    db.session.close()  # the live server's threads use their own sessions

    page.goto("/account/")
    row = page.locator("#orders tbody tr").filter(has_text=reference)
    state = row.locator("td").last
    expect(state).to_contain_text("Shipped")
    measured = state.evaluate(
        """(cell) => {
          const box = cell.getBoundingClientRect();
          const link = cell.querySelector('a');
          const linkBox = link.getBoundingClientRect();
          const wrap = cell.closest('.table-wrap') || cell.closest('table');
          const number = cell.closest('tr').querySelector('th a');
          const text = document.createRange();
          text.selectNodeContents(number.firstChild);
          return {
            left: box.left, right: box.right, top: box.top, width: box.width,
            linkRight: linkBox.right,
            inner: window.innerWidth,
            pageWidth: document.documentElement.scrollWidth,
            wrapScroll: wrap.scrollWidth, wrapWidth: wrap.clientWidth,
            numberLines: text.getClientRects().length,
          };
        }"""
    )
    # The State cell (and its tracking link) is inside the window, not off to the right
    # of a box that scrolls sideways without a hint.
    assert measured["left"] >= 0 and measured["width"] > 0
    assert measured["right"] <= measured["inner"], measured
    assert measured["linkRight"] <= measured["inner"], measured
    assert measured["pageWidth"] <= measured["inner"], measured
    assert measured["wrapScroll"] <= measured["wrapWidth"], measured
    # "BB-00005" on one line, never "BB-" and "00005".
    assert measured["numberLines"] == 1, measured
    state.scroll_into_view_if_needed()
    expect(state.get_by_role("link")).to_be_in_viewport()
    assert_accessible(page)
    context.close()
