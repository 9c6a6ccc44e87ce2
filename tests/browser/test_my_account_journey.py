"""Issue #18 end to end in Chromium: she signs in with the code read from the real SMTP
server, finds the program she bought before, marks a lesson done, moves her consultation
through her account, and downloads her data with a fresh code; axe finds nothing on any
page on the way."""

import json
import re
from datetime import time, timedelta

from playwright.sync_api import expect

from blueprints.booking.models import Booking, WeeklyHours
from extensions import db
from tests import factories
from tests.account import rows
from tests.browser.conftest import assert_accessible
from tests.conftest import text_part

HER = "margaret@example.com"


def _code(mailbox, count):
    """The 6-digit code of the ``count``-th email to arrive."""
    text = text_part(mailbox.wait_for(count)[count - 1])
    return re.search(r"\b(\d{6})\b", text).group(1)


def test_sign_in_with_the_emailed_code_then_program_consultation_and_data(
    app, page, live_server, mailbox, tmp_path
):
    course = rows.program("back-program", lessons=4, name="Back Program")
    rows.paid_order(HER, course)
    ctype = factories.make_consultation_type()
    for weekday in range(7):
        db.session.add(WeeklyHours(weekday=weekday, start_time=time(9), end_time=time(17)))
    booking = rows.booking(ctype, HER, timedelta(days=9))
    booking.goals = "Walk the coast path again"
    booked_at, booking_id = booking.starts_at, booking.id
    db.session.commit()
    db.session.close()  # the live server's threads use their own sessions

    # Sign in: the code comes from the real SMTP server.
    page.goto("/account/sign-in")
    page.locator("main").get_by_label("Email address").fill(HER)
    page.get_by_role("button", name="Email me a sign-in code").click()
    page.get_by_label("The 6-digit code from the email").fill(_code(mailbox, 1))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My account")
    expect(page.locator("header [data-account-link]")).to_have_text("My account")
    assert_accessible(page)

    # The program bought before she had an account is hers; a lesson marked done counts.
    expect(page.get_by_text("0 of 4 lessons done")).to_be_visible()
    page.get_by_role("link", name="Start with Week 1").click()
    page.get_by_role("button", name="Mark this lesson done").click()
    expect(page.get_by_text("You have marked this lesson done.")).to_be_visible()
    assert_accessible(page)
    page.goto("/account/")
    expect(page.get_by_text("1 of 4 lessons done")).to_be_visible()

    # Her consultation moves through the manage page's own move.
    page.get_by_role("link", name=re.compile(r"^Choose another time")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Move your")
    assert_accessible(page)
    # Not the first time: it can fall inside the 24 hours' notice while the test runs
    # (see test_booking.py); the last of the day shown. She is asked before it moves,
    # and the move is confirmed by its message: the heading is also on the page she
    # leaves.
    page.locator("a.slot-link").last.click()
    expect(page.locator("#confirm-title")).to_contain_text("Move your consultation to")
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Your consultation has moved")
    db.session.expire_all()
    assert db.session.get(Booking, booking_id).starts_at != booked_at

    # Her data: a fresh code, then the download.
    page.goto("/account/data")
    page.get_by_role("button", name="Email me a code").click()
    page.get_by_label("The 6-digit code from the email").fill(_code(mailbox, 3))
    page.get_by_role("button", name="Confirm").click()
    assert_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download my data").click()
    path = tmp_path / "mine.json"
    download_info.value.save_as(path)
    data = json.loads(path.read_text())
    assert data["email"] == HER
    assert [row["lesson"] for row in data["lessons_done"]] == [1]
    assert data["consultations"][0]["intake_answers"]["goals"] == "Walk the coast path again"
    assert data["orders"] and data["orders"][0]["items"]
