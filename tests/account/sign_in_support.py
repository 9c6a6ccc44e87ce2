"""What the sign-in tests share: reading the code and link from the real SMTP server,
signing in through the pages, and a page that says who is signed in."""

import re

import pytest
from flask import g

from blueprints.account.customers import current_customer
from tests.conftest import text_part

WHOAMI = "/whoami-customer-for-test"


@pytest.fixture
def whoami(app):
    """A page that says which customer is signed in ("nobody" when none)."""

    @app.url_value_preprocessor
    def _fresh_g(endpoint, values):
        # Every request of a test shares the test's app context (and its ``g``); a real
        # request starts with an empty one.
        for name in ("_customer", "customer_code_failed", "csrf_token"):
            g.pop(name, None)

    @app.get(WHOAMI)
    def whoami_view():
        customer = current_customer()
        return customer.email if customer else "nobody"

    return WHOAMI


def sign_in_email(mailbox, email, count=None):
    """The newest sign-in email to ``email``: (code, link path, message)."""
    if count is not None:
        mailbox.wait_for(count)
    messages = mailbox.to(email)
    assert messages, f"no email to {email}"
    message = messages[-1]
    text = text_part(message)
    code = re.search(r"^\s+([0-9]{6})\s*$", text, re.M).group(1)
    link = re.search(r"https?://[^/\s]+(/account/sign-in/link/\S+)", text).group(1)
    return code, link, message


def ask_code(client, email, **extra):
    return client.post("/account/sign-in", data={"email": email, **extra})


def sign_in_with_code(client, mailbox, email, keep=False, count=None):
    """Sign ``client`` in as ``email`` through the pages; the code POST's response."""
    before = len(mailbox.messages)
    assert ask_code(client, email).status_code == 303
    to = email.strip().lower()
    code, _link, _message = sign_in_email(mailbox, to, count=count or before + 1)
    data = {"code": code}
    if keep:
        data["keep"] = "y"
    return client.post("/account/sign-in/code", data=data)


def wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"
