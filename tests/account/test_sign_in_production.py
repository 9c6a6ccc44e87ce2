"""The customer's sign-in with production settings: codes and links never reach the log
(even with no mail server, when mail is logged instead of sent), and the session cookie
is the ``__Host-`` one, Secure, for the whole site and no other host."""

import logging
import re

import pytest
from sqlalchemy import select

from blueprints.account import emails as account_emails
from blueprints.core.models import OutboxMessage
from blueprints.core.outbox import queue_email
from extensions import db

SITE = "https://localhost"


@pytest.fixture
def app_config():
    return {
        "ENV_NAME": "production",
        "SITE_URL": SITE,
        "MAIL_SERVER": None,
        "DATA_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    }


class _Browser:
    """A client on https://localhost, sending the Referer a browser sends (Flask-WTF
    checks it on https)."""

    def __init__(self, client):
        self.client = client

    def post(self, path, data):
        headers = {"Referer": SITE + "/account/sign-in"}
        return self.client.post(path, data=data, base_url=SITE, headers=headers)


@pytest.fixture
def browser(app, monkeypatch):
    """The browser, and the text of each sign-in email as it is written: with no mail
    server the email is only logged (without its text), and the outbox forgets the text
    once it has gone, so the test reads it on its way into the outbox."""
    written = []

    def queue_and_keep(*args, **kwargs):
        message = queue_email(*args, **kwargs)
        written.append(message.body_text)
        return message

    monkeypatch.setattr(account_emails, "queue_email", queue_and_keep)
    browser = _Browser(app.test_client())
    browser.written = written
    return browser


def _queued_code_and_link(browser):
    body = browser.written[-1]
    code = re.search(r"^\s+([0-9]{6})\s*$", body, re.M).group(1)
    token = re.search(r"/account/sign-in/link/(\S+)", body).group(1)
    return code, token


def test_codes_and_links_never_reach_the_log_in_production(app, browser, caplog):
    caplog.set_level(logging.DEBUG)
    asked = browser.post("/account/sign-in", data={"email": "ann@example.com"})
    assert asked.status_code == 303
    code, token = _queued_code_and_link(browser)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    browser.post("/account/sign-in/code", data={"code": wrong})
    signed_in = browser.post("/account/sign-in/code", data={"code": code})
    assert signed_in.status_code == 303
    # Not sent (no mail server): one line in the log, without the body.
    assert "not sent (no MAIL_SERVER set): Your Better Bones sign-in code" in caplog.text
    assert code not in caplog.text and wrong not in caplog.text
    assert token not in caplog.text
    # Nor in the database: the outbox's copy lost its text once it was "sent".
    bodies = db.session.scalars(select(OutboxMessage.body_text)).all()
    assert bodies == [""]


def test_the_session_cookie_is_the_host_only_secure_one(app, browser):
    browser.post("/account/sign-in", data={"email": "ann@example.com"})
    code, _ = _queued_code_and_link(browser)
    response = browser.post("/account/sign-in/code", data={"code": code, "keep": "y"})
    assert response.status_code == 303
    cookies = response.headers.getlist("Set-Cookie")
    [session_cookie] = [c for c in cookies if c.startswith("__Host-session=")]
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie
    assert "Path=/;" in session_cookie + ";" and "Domain=" not in session_cookie
    assert "Expires=" in session_cookie  # kept 30 days, as she asked
    [header_cookie] = [c for c in cookies if c.startswith("bb_account=")]
    assert "Secure" in header_cookie and "HttpOnly" not in header_cookie
    assert not [c for c in cookies if c.startswith("session=")]
