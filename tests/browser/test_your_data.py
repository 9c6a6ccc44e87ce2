"""Chromium: a signed-in customer asks for a code, reads it from the real SMTP server,
types it, and downloads her data (her intake answers in the clear); axe finds nothing on
either state of the page."""

import json
import re
from datetime import timedelta

from blueprints.account.customers import SESSION_KEY, customer_for_email
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import make_confirmed
from tests.booking.conftest import types as types  # noqa: F401  (fixture)
from tests.browser.conftest import assert_accessible
from tests.conftest import text_part

HER = "margaret@example.com"


def signed_in(page, app, live_server, email):
    """The browser holds her customer session (as the code sign-in leaves it)."""
    customer = customer_for_email(email)
    db.session.commit()
    cookie = app.session_interface.get_signing_serializer(app).dumps(
        {SESSION_KEY: f"{customer.id}:{customer.session_token}"}
    )
    page.context.add_cookies(
        [{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server.url}]
    )


def test_she_confirms_with_the_emailed_code_and_downloads_her_data(
    page, app, live_server, mailbox, types, tmp_path
):
    start = (utcnow() + timedelta(days=20)).replace(hour=15, minute=0, second=0, microsecond=0)
    booking = make_confirmed(types["initial"], start + timedelta(days=(2 - start.weekday()) % 7))
    booking.email = HER
    booking.goals = "Walk the coast path again"
    db.session.commit()
    db.session.close()  # the live server's threads use their own sessions
    signed_in(page, app, live_server, HER)

    page.goto("/account/data")
    assert_accessible(page)
    page.get_by_role("button", name="Email me a code").click()
    page.get_by_label("The 6-digit code from the email").wait_for()
    message = mailbox.wait_for(1)[-1]
    code = re.search(r"Your code is: (\d{6})", text_part(message)).group(1)
    page.get_by_label("The 6-digit code from the email").fill(code)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="Delete my account").wait_for()
    assert_accessible(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download my data").click()
    download = download_info.value
    assert download.suggested_filename.startswith("better-bones-my-data-")
    path = tmp_path / "mine.json"
    download.save_as(path)
    data = json.loads(path.read_text())
    assert data["email"] == HER
    assert data["consultations"][0]["intake_answers"]["goals"] == "Walk the coast path again"
