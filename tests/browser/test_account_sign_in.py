"""A customer's sign-in in a real browser: the header's link says "Sign in", then "My
account" once she is in (the page's script reads a cookie; the pages stay shared); the code
from the real SMTP server signs her in; the emailed link's one button does too, on another
device. axe finds nothing on any sign-in page, error states included."""

import re

from tests.browser.conftest import assert_accessible
from tests.conftest import text_part


def _newest_email(mailbox, count):
    text = text_part(mailbox.wait_for(count)[count - 1])
    code = re.search(r"^\s+([0-9]{6})\s*$", text, re.M).group(1)
    link = re.search(r"(http://127\.0\.0\.1:\d+/account/sign-in/link/\S+)", text).group(1)
    return code, link


def test_sign_in_with_the_emailed_code_and_the_header_follows(page, live_server, mailbox):
    page.goto("/blog/")
    header_link = page.locator("header [data-account-link]")
    assert header_link.inner_text() == "Sign in"
    page.goto("/account/sign-in?next=/blog/")
    assert_accessible(page)

    page.get_by_role("button", name="Email me a sign-in code").click()
    page.locator(".form-errors").wait_for()
    assert_accessible(page)  # the error state
    page.locator("main").get_by_label("Email address").fill("joan@example.com")
    page.get_by_role("button", name="Email me a sign-in code").click()
    page.get_by_role("heading", level=1, name="Check your email").wait_for()
    assert "joan@example.com" not in page.url
    assert_accessible(page)

    code, _link = _newest_email(mailbox, 1)
    page.get_by_label("The 6-digit code from the email").fill(
        "000000" if code != "000000" else "111111"
    )
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("That code is not right").wait_for()
    assert_accessible(page)

    page.get_by_label("The 6-digit code from the email").fill(code[:3] + " " + code[3:])
    page.get_by_label("Keep me signed in on this device for 30 days").check()
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/blog/")
    assert page.locator("header [data-account-link]").inner_text() == "My account"


def test_the_emailed_link_signs_in_on_another_device_with_one_button(
    page, browser, live_server, mailbox
):
    page.goto("/account/sign-in")
    page.locator("main").get_by_label("Email address").fill("joan@example.com")
    page.get_by_role("button", name="Email me a sign-in code").click()
    page.get_by_role("heading", level=1, name="Check your email").wait_for()
    _code, link = _newest_email(mailbox, 1)

    phone = browser.new_context(base_url=live_server.url).new_page()
    phone.goto(link)
    phone.get_by_role("heading", level=1, name="Sign in to My account").wait_for()
    assert phone.locator("main button").count() == 1
    assert_accessible(phone)
    phone.get_by_role("button", name="Sign me in").click()
    phone.wait_for_url("**/account/")
    phone.goto("/blog/")
    assert phone.locator("header [data-account-link]").inner_text() == "My account"

    phone.goto(link)  # used
    phone.get_by_role("heading", level=1, name="This link no longer works").wait_for()
    assert_accessible(phone)
    phone.context.close()
