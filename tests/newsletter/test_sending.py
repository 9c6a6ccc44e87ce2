"""The weekly issue: content, recipients, state, failures and reruns."""

import re
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from blueprints.blog.models import PostStatus
from blueprints.core.types import utcnow
from blueprints.newsletter.issues import start_issue
from blueprints.newsletter.models import (
    DeliveryStatus,
    IssueStatus,
    NewsletterDelivery,
    NewsletterIssue,
    Subscriber,
    SubscriberStatus,
)
from blueprints.newsletter.sending import send_issue, send_weekly
from extensions import db
from tests.conftest import html_part, text_part
from tests.factories import make_subscriber
from tests.newsletter.conftest import make_post, make_subscribers


def _issues():
    db.session.expire_all()
    return db.session.scalars(sa.select(NewsletterIssue).order_by(NewsletterIssue.id)).all()


def _delivery_statuses(issue_id):
    return Counter(
        db.session.scalars(
            sa.select(NewsletterDelivery.status).where(NewsletterDelivery.issue_id == issue_id)
        ).all()
    )


def test_send_weekly_without_new_posts_sends_nothing_and_says_so(runner, smtp):
    make_subscriber("reader@example.com")
    make_post("Old news", published_at=utcnow() - timedelta(days=20))
    result = runner.invoke(args=["newsletter", "send-weekly"])
    assert result.exit_code == 0
    assert "No new posts since" in result.output
    assert "nothing sent" in result.output
    assert _issues() == []
    assert smtp.messages == []


def test_since_in_the_future_sends_nothing(runner, smtp):
    make_subscriber("reader@example.com")
    make_post("News")
    result = runner.invoke(args=["newsletter", "send-weekly", "--since", "2999-01-01"])
    assert result.exit_code == 0
    assert "nothing sent" in result.output
    assert _issues() == [] and smtp.messages == []


def test_send_weekly_refuses_a_plain_http_site_in_production(app, runner, smtp):
    app.config.update(ENV_NAME="production", SITE_URL="http://betterbones.example")
    make_subscriber("reader@example.com")
    make_post("News")
    result = runner.invoke(args=["newsletter", "send-weekly"])
    assert result.exit_code != 0
    assert "https://" in result.output
    assert _issues() == [] and smtp.messages == []


def test_issue_lists_posts_since_the_start_date_with_title_summary_and_link(runner, smtp):
    make_subscriber("reader@example.com", first_name="Ruth")
    make_post("Calcium myths", published_at=datetime(2026, 11, 20, 12, tzinfo=UTC))
    make_post("Walking for bones", published_at=utcnow() - timedelta(hours=2))
    make_post("Old post", published_at=datetime(2026, 11, 1, tzinfo=UTC))
    make_post("Unfinished draft", published_at=utcnow(), status=PostStatus.DRAFT)

    result = runner.invoke(args=["newsletter", "send-weekly", "--since", "2026-11-15"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output and "complete" in result.output

    message = smtp.wait_for(1)[0]
    assert message["Subject"] == "Better Bones weekly: Calcium myths (and 1 more)"
    text, html = text_part(message), html_part(message)
    for part in (text, html):
        assert "Calcium myths" in part and "Walking for bones" in part
        assert "What to know about calcium myths." in part
        assert "http://localhost/blog/calcium-myths" in part
        assert "Old post" not in part and "Unfinished draft" not in part
        assert "Dear Ruth," in part
    assert message["Message-ID"].startswith("<newsletter-")
    issue = _issues()[0]
    assert issue.status == IssueStatus.SENT and issue.post_count == 2
    assert issue.since_at == datetime(2026, 11, 15, tzinfo=UTC)


def test_next_issue_starts_where_the_last_one_ended(app, smtp):
    make_subscriber("reader@example.com")
    make_post("First week", published_at=utcnow() - timedelta(days=2))
    assert send_weekly().finished
    assert send_weekly().no_posts  # nothing new since
    make_post("Second week", published_at=utcnow())
    report = send_weekly()
    assert report.sent == 1
    assert "Second week" in smtp.messages[-1]["Subject"]
    assert "First week" not in text_part(smtp.messages[-1])


def test_recipients_are_confirmed_unpaused_unbounced_readers_each_once(app, smtp):
    make_subscriber("yes@example.com")
    make_subscriber("Also@Example.com")
    make_subscriber("pending@example.com", status=SubscriberStatus.PENDING)
    make_subscriber(
        "gone@example.com", status=SubscriberStatus.UNSUBSCRIBED, unsubscribed_at=utcnow()
    )
    make_subscriber("bounced@example.com", status=SubscriberStatus.BOUNCED)
    make_subscriber("resting@example.com", paused_until=utcnow() + timedelta(days=10))
    make_subscriber("back@example.com", paused_until=utcnow() - timedelta(days=1))
    make_post("News")

    report = send_weekly()
    assert report.sent == 3
    assert sorted(smtp.recipients()) == ["Also@Example.com", "back@example.com", "yes@example.com"]
    issue = _issues()[0]
    assert issue.recipient_count == 3
    assert _delivery_statuses(issue.id) == {DeliveryStatus.SENT: 3}


def test_each_email_has_both_parts_its_own_unsubscribe_link_and_headers(app, smtp, client):
    a = make_subscriber("a@example.com")
    b = make_subscriber("b@example.com")
    make_post("News")
    send_weekly()
    links = {}
    for sub in (a, b):
        message = smtp.to(sub.email)[0]
        header = str(message["List-Unsubscribe"]).strip()  # may be folded
        assert header.startswith("<http://localhost/newsletter/unsubscribe/") and header.endswith(
            ">"
        )
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = header[1:-1]
        assert url in text_part(message)
        assert url.replace("&", "&amp;") in html_part(message)
        links[sub.email] = url
    assert links["a@example.com"] != links["b@example.com"]
    assert smtp.to("a@example.com")[0]["Message-ID"] != smtp.to("b@example.com")[0]["Message-ID"]


def test_rerun_finishes_the_unfinished_issue_with_its_frozen_content(app, smtp):
    make_subscribers(4)
    post = make_post("Frozen title")
    issue = start_issue()
    db.session.commit()
    issue_id = issue.id
    post.title = "Edited later"
    db.session.commit()
    make_post("Published after the start")

    report = send_weekly()
    assert report.issue_id == issue_id and not report.started
    assert report.sent == 4 and report.finished
    assert len(_issues()) == 1
    for message in smtp.wait_for(4):
        assert message["Subject"] == "Better Bones weekly: Frozen title"
        assert "Edited later" not in text_part(message)
        assert "Published after the start" not in text_part(message)


def test_reader_who_unsubscribes_during_a_send_gets_nothing_after(app, smtp):
    make_subscribers(3)
    leaver = make_subscriber("leaver@example.com")
    make_post("News")
    issue = start_issue()
    db.session.commit()
    leaver.status = SubscriberStatus.UNSUBSCRIBED
    leaver.unsubscribed_at = utcnow()
    db.session.commit()

    report = send_issue(issue.id)
    assert report.sent == 3 and report.skipped == 1 and report.finished
    assert smtp.to("leaver@example.com") == []
    assert _delivery_statuses(issue.id) == {DeliveryStatus.SENT: 3, DeliveryStatus.SKIPPED: 1}


def test_permanent_failure_bounces_the_subscriber_who_is_skipped_afterwards(app, smtp):
    make_subscriber("good@example.com")
    bad = make_subscriber("nobody@example.com")
    smtp.refuse["nobody@example.com"] = "550 5.1.1 No such user"
    make_post("Week one", published_at=utcnow() - timedelta(days=1))

    report = send_weekly()
    assert (report.sent, report.bounced, report.finished) == (1, 1, True)
    db.session.expire_all()
    assert db.session.get(Subscriber, bad.id).status == SubscriberStatus.BOUNCED
    assert _delivery_statuses(_issues()[0].id) == {
        DeliveryStatus.SENT: 1,
        DeliveryStatus.BOUNCED: 1,
    }

    make_post("Week two", published_at=utcnow())
    report = send_weekly()
    assert report.sent == 1
    assert _issues()[1].recipient_count == 1


def test_temporary_failure_is_left_for_the_next_run(app, smtp):
    make_subscriber("good@example.com")
    make_subscriber("busy@example.com")
    smtp.refuse["busy@example.com"] = "451 4.7.1 Try again later"
    make_post("News")

    first = send_weekly()
    assert (first.sent, first.deferred, first.finished) == (1, 1, False)
    issue = _issues()[0]
    assert issue.status == IssueStatus.SENDING
    assert send_issue(issue.id).sent == 0  # the same run's deferral is not retried at once...

    del smtp.refuse["busy@example.com"]
    second = send_weekly()  # ...but the next run (cron) retries it
    assert second.issue_id == issue.id and second.sent == 1 and second.finished
    assert len(smtp.to("busy@example.com")) == 1
    assert len(smtp.to("good@example.com")) == 1
    assert _issues()[0].status == IssueStatus.SENT


def test_temporary_failures_give_up_after_the_attempt_limit(app, smtp):
    app.config["NEWSLETTER_MAX_ATTEMPTS"] = 2
    make_subscriber("busy@example.com")
    smtp.refuse["busy@example.com"] = "452 mailbox full"
    make_post("News")
    assert send_weekly().deferred == 1
    report = send_weekly()
    assert report.failed == 1 and report.finished
    assert _delivery_statuses(_issues()[0].id) == {DeliveryStatus.FAILED: 1}


def test_cli_reports_an_interrupted_run_and_the_rerun_completes(app, runner, smtp):
    addresses = make_subscribers(5)
    make_post("News")
    smtp.drop_after = 2
    result = runner.invoke(args=["newsletter", "send-weekly"])
    assert result.exit_code == 1
    assert "not finished" in result.output
    smtp.drop_after = None
    result = runner.invoke(args=["newsletter", "send-weekly"])
    assert result.exit_code == 0, result.output
    assert "Resumed issue" in result.output and "complete" in result.output
    assert sorted(smtp.recipients()) == sorted(addresses)


def test_kill_and_rerun_delivers_to_each_subscriber_exactly_once(app, smtp):
    app.config["NEWSLETTER_BATCH_SIZE"] = 7
    n, k = 40, 17
    addresses = make_subscribers(n)
    make_post("News")
    smtp.drop_after = k  # the relay dies after accepting k messages

    first = send_weekly()
    assert first.interrupted and not first.finished
    assert first.sent == k
    issue_id = first.issue_id
    assert _delivery_statuses(issue_id) == {DeliveryStatus.SENT: k, DeliveryStatus.PENDING: n - k}

    smtp.drop_after = None
    second = send_weekly()
    assert second.issue_id == issue_id and second.sent == n - k and second.finished
    assert Counter(smtp.recipients()) == Counter({a: 1 for a in addresses})
    assert _delivery_statuses(issue_id) == {DeliveryStatus.SENT: n}


def _claim_as(issue_id, token, claimed_at, count=None, ids=None):
    """Make rows look held by another sender; returns (ids, addresses)."""
    if ids is None:
        ids = db.session.scalars(
            sa.select(NewsletterDelivery.id)
            .where(NewsletterDelivery.issue_id == issue_id)
            .order_by(NewsletterDelivery.id)
            .limit(count)
        ).all()
    db.session.execute(
        sa.update(NewsletterDelivery)
        .where(NewsletterDelivery.id.in_(ids))
        .values(claim_token=token, claimed_at=claimed_at, attempts=1)
    )
    db.session.commit()
    emails = db.session.scalars(
        sa.select(NewsletterDelivery.email).where(NewsletterDelivery.id.in_(ids))
    ).all()
    return ids, emails


def test_rows_held_by_a_dead_sender_on_this_host_are_taken_over_at_once(app, smtp):
    import socket

    addresses = make_subscribers(10)
    make_post("News")
    issue = start_issue()
    db.session.commit()
    dead = subprocess.Popen(["true"])
    dead.wait()  # a process that was killed mid-batch: its pid no longer exists
    _claim_as(issue.id, f"{socket.gethostname()}|{dead.pid}|abc", utcnow(), 4)

    report = send_weekly()
    assert report.sent == 10 and report.finished
    assert Counter(smtp.recipients()) == Counter({a: 1 for a in addresses})


def test_rows_held_by_a_live_sender_wait_for_the_lease(app, smtp):
    addresses = make_subscribers(6)
    make_post("News")
    issue = start_issue()
    db.session.commit()
    held, held_addresses = _claim_as(issue.id, "other-host|123|abc", utcnow(), 2)

    first = send_weekly()
    assert first.sent == 4 and not first.finished
    assert sorted(smtp.recipients()) == sorted(set(addresses) - set(held_addresses))

    _claim_as(issue.id, "other-host|123|abc", utcnow() - timedelta(minutes=11), ids=held)
    second = send_weekly()
    assert second.sent == 2 and second.finished
    assert Counter(smtp.recipients()) == Counter({a: 1 for a in addresses})


def test_one_unfinished_issue_at_most_is_enforced_by_the_database(app):
    import pytest

    make_post("News")
    start_issue()
    db.session.commit()
    make_post("More news")
    with pytest.raises(sa.exc.IntegrityError):
        start_issue(since_at=utcnow() - timedelta(days=1))
    db.session.rollback()
    assert len(_issues()) == 1


def test_issue_state_machine_refuses_going_back(app):
    import pytest

    from blueprints.core.states import InvalidTransition, StatusRefused, change_status

    make_subscriber("reader@example.com")
    make_post("News")
    send_weekly()
    issue = db.session.scalar(sa.select(NewsletterIssue))
    assert issue.status == IssueStatus.SENT
    # Not declared: asking for it is a programming error.
    with pytest.raises(InvalidTransition):
        change_status(issue, IssueStatus.SENDING, allowed={IssueStatus.SENT})
    # Declared only from a draft: a sent issue is refused, and stays sent.
    with pytest.raises(StatusRefused):
        change_status(issue, IssueStatus.SENDING)
    db.session.rollback()
    db.session.expire_all()
    issue = db.session.scalar(sa.select(NewsletterIssue))
    assert issue.status == IssueStatus.SENT and issue.in_progress is None


def test_message_ids_are_stable_per_delivery(app, smtp):
    make_subscriber("reader@example.com")
    make_post("News")
    report = send_weekly()
    delivery_id = db.session.scalar(sa.select(NewsletterDelivery.id))
    assert smtp.messages[0]["Message-ID"] == (
        f"<newsletter-{report.issue_id}-{delivery_id}@betterbones.example>"
    )
    assert re.match(r"<newsletter-\d+-\d+@", smtp.messages[0]["Message-ID"])
