"""Two senders started together never send one message twice; two confirms of one signup
confirm it once; signups racing on one address make one row and one email (SQLite and
PostgreSQL)."""

import hashlib
import secrets
import threading
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from blueprints.core.models import OutboxMessage, OutboxStatus
from blueprints.core.types import utcnow
from blueprints.newsletter import subscriptions
from blueprints.newsletter.models import (
    DeliveryStatus,
    NewsletterDelivery,
    NewsletterIssue,
    Subscriber,
    SubscriberStatus,
)
from blueprints.newsletter.sending import send_weekly
from blueprints.newsletter.subscriptions import check_confirm_token
from extensions import db
from tests.conftest import is_postgres
from tests.factories import make_subscriber
from tests.newsletter.conftest import make_post, make_subscribers


def _run_together(app, count, target):
    """Start ``count`` senders at the same moment, each with its own app context and
    so its own database connection; return their reports."""
    barrier = threading.Barrier(count)
    reports, errors = [None] * count, []

    def sender(index):
        with app.app_context():
            try:
                barrier.wait()
                reports[index] = target()
            except Exception as exc:  # surfaced in the assertion below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return reports


def test_two_senders_started_together_deliver_each_message_exactly_once(app, smtp):
    app.config["NEWSLETTER_BATCH_SIZE"] = 5
    smtp.delay = 0.002  # a relay with some latency, so the two runs interleave
    n = 80
    addresses = make_subscribers(n)
    make_post("News")
    db.session.remove()

    reports = _run_together(app, 2, send_weekly)

    assert sum(r.sent for r in reports) == n
    assert Counter(smtp.recipients()) == Counter({a: 1 for a in addresses})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NewsletterIssue)) == 1
    statuses = db.session.scalars(sa.select(NewsletterDelivery.status)).all()
    assert Counter(statuses) == {DeliveryStatus.SENT: n}
    issue = db.session.scalar(sa.select(NewsletterIssue))
    assert issue.status.value == "sent"
    # Which database this ran on, for the record (the suite runs on both).
    assert db.engine.dialect.name == ("postgresql" if is_postgres() else "sqlite")


def test_two_senders_resuming_an_interrupted_issue_deliver_the_rest_once(app, smtp):
    app.config["NEWSLETTER_BATCH_SIZE"] = 4
    n, k = 50, 13
    addresses = make_subscribers(n)
    make_post("News")
    smtp.drop_after = k
    first = send_weekly()
    assert first.interrupted and first.sent == k
    smtp.drop_after = None
    smtp.delay = 0.002
    db.session.remove()

    reports = _run_together(app, 2, send_weekly)

    assert sum(r.sent for r in reports) == n - k
    assert all(r.issue_id == first.issue_id for r in reports)
    assert Counter(smtp.recipients()) == Counter({a: 1 for a in addresses})


def test_two_confirms_of_one_signup_at_once_confirm_it_once(app, monkeypatch):
    """A double click on "Confirm my signup" arriving as two requests at once: both read
    the pending subscriber before either writes; one confirms, the other gets the 409
    page, and the subscriber row is written once."""
    token = secrets.token_urlsafe(32)
    subscriber = make_subscriber(
        "reader@example.com",
        status=SubscriberStatus.PENDING,
        confirm_token_hash=hashlib.sha256(token.encode()).hexdigest(),
        confirm_token_expires_at=utcnow() + timedelta(hours=1),
    )
    subscriber_id = subscriber.id
    db.session.remove()
    both_read = threading.Barrier(2, timeout=10)

    def check_then_wait(token):
        check = check_confirm_token(token)
        both_read.wait()  # neither writes before both have seen "pending"
        return check

    monkeypatch.setattr(subscriptions, "check_confirm_token", check_then_wait)
    writes = []

    def count_subscriber_writes(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE SUBSCRIBER") and cursor.rowcount:
            writes.append(cursor.rowcount)

    sa.event.listen(db.engine, "after_cursor_execute", count_subscriber_writes)
    try:
        results = _run_together(
            app, 2, lambda: app.test_client().post(f"/newsletter/confirm/{token}", data={})
        )
    finally:
        sa.event.remove(db.engine, "after_cursor_execute", count_subscriber_writes)

    assert sorted(r.status_code for r in results) == [303, 409]
    refused = next(r for r in results if r.status_code == 409).get_data(as_text=True)
    assert "This signup was already confirmed" in refused
    assert writes == [1]
    db.session.expire_all()
    confirmed = db.session.get(Subscriber, subscriber_id)
    assert confirmed.status == SubscriberStatus.CONFIRMED
    assert confirmed.confirmed_at is not None and confirmed.confirm_token_expires_at is None


def test_five_signups_of_one_new_address_at_once_make_one_row_and_send_one_email(app, mailbox):
    """The signup is one INSERT ... ON CONFLICT DO UPDATE: requests racing on a new
    address all answer the same, the row is made once, and one email goes out (the
    others are written withheld)."""

    def sign_up():
        return app.test_client().post("/newsletter/", data={"email": "race@example.com"})

    results = _run_together(app, 5, sign_up)

    assert [r.status_code for r in results] == [303] * 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscriber)) == 1
    statuses = db.session.scalars(sa.select(OutboxMessage.status)).all()
    assert len(statuses) == 5
    assert Counter(statuses)[OutboxStatus.FAILED] == 4  # withheld: one a day at most
    assert [str(m["To"]) for m in mailbox.wait_for(1)] == ["race@example.com"]
