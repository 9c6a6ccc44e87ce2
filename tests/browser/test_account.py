"""My account in Chromium: her programs, orders, consultations, newsletter and comments
on one page, a lesson marked done with the button, and the printable receipt; axe finds
nothing on any of them. (Signing in with the emailed code has tests of its own: here the
browser carries her session cookie as the sign-in leaves it.)"""

import re
from datetime import timedelta

from playwright.sync_api import expect

from blueprints.account.customers import SESSION_KEY, customer_for_email
from blueprints.blog.models import CommentStatus
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
