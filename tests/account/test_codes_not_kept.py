"""Codes and sign-in links live only in the email: once the outbox has handed the message
to the mail server (or given up on it), its stored copy keeps who, what subject and what
happened, and no longer the text with the code or the link."""

import re
import time

from sqlalchemy import select, update

from blueprints.core.models import OutboxMessage, OutboxStatus
from blueprints.core.outbox import queue_email, send_committed, send_due
from blueprints.core.types import utcnow
from extensions import db
from tests.account.sign_in_support import ask_code, sign_in_email
from tests.conftest import text_part

HER = "ann@example.com"


def _rows():
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def _settled(row_count=1, timeout=10.0):
    """The outbox rows once ``row_count`` of them are sent or failed (delivery runs when
    the response closes, beside the test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = _rows()
        done = [r for r in rows if r.status in (OutboxStatus.SENT, OutboxStatus.FAILED)]
        if len(done) >= row_count:
            return rows
        time.sleep(0.05)
    raise AssertionError(f"outbox not settled: {[(r.id, r.status) for r in _rows()]}")


def _held_anywhere(*secrets):
    """The secrets found in any stored copy of any email."""
    found = set()
    for row in _rows():
        for stored in (row.body_text, row.body_html or "", row.extra_json or "", row.subject):
            found |= {secret for secret in secrets if secret in stored}
    return found


def test_no_stored_email_holds_the_sign_in_code_or_link_once_it_is_sent(client, mailbox):
    assert ask_code(client, HER).status_code == 303
    code, link, message = sign_in_email(mailbox, HER, count=1)
    [row] = _settled()

    assert row.status == OutboxStatus.SENT and row.sent_at is not None
    assert _held_anywhere(code, link, link.rsplit("/", 1)[-1]) == set()
    # What happened to it is kept: to whom, what, when.
    assert row.to_address == HER and row.subject == message["Subject"]
    assert row.message_id == message["Message-ID"]


def test_a_sign_in_email_refused_for_now_keeps_its_text_until_a_retry_sends_it(client, mailbox):
    mailbox.refuse_with = "451 4.3.0 try again later"
    assert ask_code(client, HER).status_code == 303
    deadline = time.monotonic() + 10
    while _rows()[0].attempts == 0 or _rows()[0].status != OutboxStatus.QUEUED:
        assert time.monotonic() < deadline, "the first try never ended"
        time.sleep(0.05)
    [row] = _rows()
    assert row.last_error and "451" in row.last_error
    assert re.search(r"^\s+[0-9]{6}\s*$", row.body_text, re.M), "needed for the retry"

    mailbox.refuse_with = None
    db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    db.session.commit()
    assert send_due().sent == 1

    code, link, _message = sign_in_email(mailbox, HER, count=1)
    [row] = _rows()
    assert row.status == OutboxStatus.SENT and row.attempts == 2
    assert _held_anywhere(code, link) == set()


def test_a_sign_in_email_refused_for_good_keeps_no_code_either(client, mailbox):
    mailbox.refuse_with = "550 5.1.1 no such mailbox here"
    assert ask_code(client, HER).status_code == 303
    [row] = _settled()
    assert row.status == OutboxStatus.FAILED and "550" in row.last_error
    assert row.body_text == "" and row.body_html is None
    assert row.to_address == HER and row.subject


def test_the_fresh_code_for_her_data_is_not_kept_once_sent(customer_client, customer, mailbox):
    assert customer_client.post("/account/data/code", data={}).status_code == 303
    [message] = mailbox.wait_for(1)
    code = re.search(r"Your code is: (\d{6})", text_part(message)).group(1)
    [row] = _settled()
    assert row.status == OutboxStatus.SENT and row.to_address == customer.email
    assert _held_anywhere(code) == set()


def test_other_email_keeps_its_text_after_sending(app, mailbox):
    with app.test_request_context():
        queue_email(HER, "test_message", "Hello", greeting="Hi there")
        db.session.commit()
        send_committed()
    mailbox.wait_for(1)
    [row] = _rows()
    assert row.status == OutboxStatus.SENT and "Hi there" in row.body_text
