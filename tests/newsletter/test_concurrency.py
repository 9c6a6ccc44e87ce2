"""Two senders started together never send one message twice (SQLite and PostgreSQL)."""

import threading
from collections import Counter

import sqlalchemy as sa

from blueprints.newsletter.models import DeliveryStatus, NewsletterDelivery, NewsletterIssue
from blueprints.newsletter.services import send_weekly
from extensions import db
from tests.conftest import is_postgres
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
