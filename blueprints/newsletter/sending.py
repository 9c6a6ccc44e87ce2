"""Sending the weekly issue: claiming rows in batches, SMTP connections, outcomes.

Unlike the other services, the sender commits as it goes, on purpose: each claim and
each message's outcome is committed at once (see ``_Recorder``), so a sender killed at
any moment leaves the database saying who has the issue already. Two senders, or two
connections of one, never take the same row: each batch is claimed by one conditional
UPDATE.
"""

import logging
import os
import secrets
import smtplib
import socket
import threading
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes
from email import policy as email_policy

import sqlalchemy as sa
from flask import current_app

from blueprints.core.addresses import sender_address
from blueprints.core.mail import echo_to_console
from blueprints.core.states import claim_status
from blueprints.core.types import utcnow
from blueprints.newsletter.issues import (
    default_since,
    freeze_message,
    open_issue,
    personalise,
    start_issue,
)
from blueprints.newsletter.models import (
    SUBSCRIBER_TRANSITIONS,
    DeliveryStatus,
    IssueStatus,
    NewsletterDelivery,
    NewsletterIssue,
    Subscriber,
    SubscriberStatus,
)
from blueprints.newsletter.subscriptions import eligible_subscribers_clause
from extensions import db, mail

log = logging.getLogger(__name__)


@dataclass
class SendReport:
    issue_id: int | None = None
    started: bool = False
    no_posts: bool = False
    since_at: object = None
    sent: int = 0
    failed: int = 0
    bounced: int = 0
    deferred: int = 0
    skipped: int = 0
    interrupted: str | None = None
    finished: bool = False


def _owner_prefix():
    return f"{socket.gethostname()[:60]}|{os.getpid()}|"


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_dead_claims(issue_id):
    """Free rows held by a sender on this host whose process no longer exists.

    Rows of a live process, or of another host, wait for the lease instead.
    """
    host = socket.gethostname()[:60]
    tokens = db.session.scalars(
        sa.select(NewsletterDelivery.claim_token)
        .where(
            NewsletterDelivery.issue_id == issue_id,
            NewsletterDelivery.status == DeliveryStatus.PENDING,
            NewsletterDelivery.claim_token.like(host + "|%"),
        )
        .distinct()
    ).all()
    released = 0
    for token in tokens:
        parts = token.split("|")
        if len(parts) == 3 and parts[1].isdigit() and not _process_alive(int(parts[1])):
            released += db.session.execute(
                sa.update(NewsletterDelivery)
                .where(
                    NewsletterDelivery.claim_token == token,
                    NewsletterDelivery.status == DeliveryStatus.PENDING,
                )
                .values(claim_token=None, claimed_at=None)
            ).rowcount
    db.session.commit()
    return released


def _claimable(issue_id, run_id, now):
    lease = timedelta(seconds=current_app.config["NEWSLETTER_CLAIM_LEASE_SECONDS"])
    return sa.and_(
        NewsletterDelivery.issue_id == issue_id,
        NewsletterDelivery.status == DeliveryStatus.PENDING,
        sa.or_(
            NewsletterDelivery.claim_token.is_(None),
            NewsletterDelivery.claimed_at < now - lease,
            # Deferred by another run after a temporary failure: ours may retry it.
            sa.and_(
                NewsletterDelivery.claim_token.like("deferred|%"),
                NewsletterDelivery.claim_token != f"deferred|{run_id}",
            ),
        ),
    )


def claim_batch(issue_id, run_id, size):
    """Atomically take up to ``size`` rows for this run; returns them to send.

    PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` inside the UPDATE, so two
    senders take disjoint rows without waiting. SQLite: the UPDATE takes the database
    write lock before it reads, so the condition and the write are one atomic step;
    the rows are then read back by their new claim token. Subscribers who left or
    paused since the issue started are marked skipped here and never claimed.
    """
    now = utcnow()
    token = _owner_prefix() + secrets.token_hex(8)
    leaver_ids = sa.select(Subscriber.id).where(sa.not_(eligible_subscribers_clause(now)))
    db.session.execute(
        sa.update(NewsletterDelivery)
        .where(
            _claimable(issue_id, run_id, now),
            NewsletterDelivery.subscriber_id.in_(leaver_ids),
        )
        .values(status=DeliveryStatus.SKIPPED, claim_token=None)
        .execution_options(synchronize_session=False)
    )
    candidates = (
        sa.select(NewsletterDelivery.id)
        .where(_claimable(issue_id, run_id, now))
        .order_by(NewsletterDelivery.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    )
    db.session.execute(
        sa.update(NewsletterDelivery)
        .where(NewsletterDelivery.id.in_(candidates))
        .values(claim_token=token, claimed_at=now, attempts=NewsletterDelivery.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    rows = db.session.execute(
        sa.select(
            NewsletterDelivery.id,
            NewsletterDelivery.email,
            NewsletterDelivery.subscriber_id,
            NewsletterDelivery.attempts,
            Subscriber.first_name,
        )
        .join(Subscriber, Subscriber.id == NewsletterDelivery.subscriber_id)
        .where(NewsletterDelivery.claim_token == token)
        .order_by(NewsletterDelivery.id)
    ).all()
    db.session.commit()
    return token, rows


# A bounce is written with the delivery's outcome, in the same group and commit, so it
# stays a statement here rather than a ``claim_status`` call (which runs at once and
# needs the row loaded); it is the same compare-and-set, from the declared transitions.
_MAY_BOUNCE = SUBSCRIBER_TRANSITIONS.sources(SubscriberStatus.BOUNCED)


class _Recorder:
    """Writes each row's outcome as soon as its message is handed over.

    On PostgreSQL every outcome is committed at once, with ``synchronous_commit`` off
    for these small transactions: a killed sender loses nothing it committed (only a
    crash of the database server itself could lose the last fraction of a second).
    SQLite commits every outcome too by default (measured: still over 450 messages a
    second on two cores); NEWSLETTER_SQLITE_COMMIT_EVERY can group them for speed, at
    the price that a sender killed mid-group may resend that many.
    """

    def __init__(self, token, run_id):
        self.token = token
        self.deferred_token = f"deferred|{run_id}"
        self.postgres = db.session.get_bind().dialect.name == "postgresql"
        self.every = 1 if self.postgres else current_app.config["NEWSLETTER_SQLITE_COMMIT_EVERY"]
        self.buffer = []
        self.outcomes = 0

    def _write(self, statement):
        # Held in memory until the group is written: SQLite's one write lock is then
        # taken for a moment, never across a conversation with the mail server.
        self.buffer.append(statement.execution_options(synchronize_session=False))

    def _done(self):
        self.outcomes += 1
        if self.outcomes >= self.every:
            self.flush()

    def flush(self):
        if not self.buffer:
            return
        if self.postgres:
            db.session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
        for statement in self.buffer:
            db.session.execute(statement)
        db.session.commit()
        self.buffer.clear()
        self.outcomes = 0

    def _row(self, delivery_id, **values):
        # Only while this sender still holds the row (its claim token is on it).
        return (
            sa.update(NewsletterDelivery)
            .where(
                NewsletterDelivery.id == delivery_id, NewsletterDelivery.claim_token == self.token
            )
            .values(**values)
        )

    def sent(self, row):
        self._write(
            self._row(row.id, status=DeliveryStatus.SENT, sent_at=utcnow(), claim_token=None)
        )
        self._done()

    def failed(self, row, error):
        self._write(
            self._row(row.id, status=DeliveryStatus.FAILED, last_error=error, claim_token=None)
        )
        self._done()

    def deferred(self, row, error):
        """Back to the queue for the next run (this run will not take it again)."""
        self._write(
            self._row(
                row.id, claim_token=self.deferred_token, claimed_at=utcnow(), last_error=error
            )
        )
        self._done()

    def bounced(self, row, error):
        self._write(
            sa.update(Subscriber)
            .where(Subscriber.id == row.subscriber_id, Subscriber.status.in_(_MAY_BOUNCE))
            .values(status=SubscriberStatus.BOUNCED, bounced_at=utcnow())
        )
        self._write(
            self._row(row.id, status=DeliveryStatus.BOUNCED, last_error=error, claim_token=None)
        )
        self._done()


def _not_sent(to_address, subject, data):
    """No mail server (the demo): print the issue to the console when asked to, else
    log that it was not sent (never its body)."""
    if current_app.config.get("MAIL_TO_CONSOLE"):
        parsed = message_from_bytes(data, policy=email_policy.default)
        text = parsed.get_body(("plain",))
        echo_to_console(to_address, subject, {}, text.get_content() if text else "")
    else:
        log.info("Newsletter to %s not sent (no MAIL_SERVER set): %s", to_address, subject)


def _refusal_code(exc):
    """The SMTP code a recipient was refused with, or None."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        return max(code for code, _ in exc.recipients.values())
    return None


class _ConnectionLost(Exception):
    pass


def _send_batch(issue, token, run_id, rows, report):
    """Send claimed rows over one SMTP connection, recording each outcome."""
    max_attempts = current_app.config["NEWSLETTER_MAX_ATTEMPTS"]
    log_only = not current_app.config["MAIL_SERVER"]
    record = _Recorder(token, run_id)
    sender = sender_address()
    pending = list(rows)
    connection = mail.connect()
    try:
        if not log_only:
            connection.__enter__()  # opens the one SMTP connection for this batch
        while pending:
            row = pending[0]
            data = personalise(
                issue.message,
                issue_id=issue.id,
                delivery_id=row.id,
                email=row.email,
                first_name=row.first_name,
                subscriber_id=row.subscriber_id,
            )
            try:
                if log_only:
                    _not_sent(row.email, issue.subject, data)
                else:
                    connection.host.sendmail(sender, [row.email], data)
            except smtplib.SMTPRecipientsRefused as exc:
                code = _refusal_code(exc)
                error = f"{code} {exc.recipients}"[:500]
                if code and code >= 500:
                    record.bounced(row, error)
                    report.bounced += 1
                elif row.attempts >= max_attempts:
                    record.failed(row, error)
                    report.failed += 1
                else:
                    record.deferred(row, error)
                    report.deferred += 1
            except (
                smtplib.SMTPServerDisconnected,
                smtplib.SMTPConnectError,
                smtplib.SMTPSenderRefused,  # our own address refused: stop, change nothing
                OSError,
            ) as exc:
                raise _ConnectionLost(f"{type(exc).__name__}: {exc}") from exc
            except smtplib.SMTPResponseException as exc:
                code = getattr(exc, "smtp_code", 0)
                error = f"{type(exc).__name__}: {exc}"[:500]
                if code and 400 <= code < 500 and row.attempts < max_attempts:
                    record.deferred(row, error)
                    report.deferred += 1
                else:
                    record.failed(row, error)
                    report.failed += 1
            else:
                record.sent(row)
                report.sent += 1
            pending.pop(0)
    except (_ConnectionLost, smtplib.SMTPException, OSError) as exc:
        # Whatever this batch did not send goes back for the next run.
        reason = str(exc) if isinstance(exc, _ConnectionLost) else f"{type(exc).__name__}: {exc}"
        for row in pending:
            record.deferred(row, reason[:500])
        report.deferred += len(pending)
        report.interrupted = reason
    finally:
        record.flush()
        if not log_only and connection.host is not None:
            try:
                connection.host.quit()
            except (smtplib.SMTPException, OSError):
                connection.host.close()


def _finish_if_done(issue_id):
    """Mark the issue sent once no row is left pending (safe when two senders race)."""
    still_pending = db.session.scalar(
        sa.select(
            sa.exists().where(
                NewsletterDelivery.issue_id == issue_id,
                NewsletterDelivery.status == DeliveryStatus.PENDING,
            )
        )
    )
    # No row of a sending issue ever becomes pending again, so "none pending" cannot turn
    # false before the claim; the claim (SENDING -> SENT) lets one of two senders finishing
    # together mark the issue, and tells the other it did not.
    done = not still_pending and claim_status(
        db.session.get(NewsletterIssue, issue_id),
        IssueStatus.SENT,
        in_progress=None,
        finished_at=utcnow(),
    )
    db.session.commit()
    return done


def send_issue(issue_id, report=None):
    """Send every claimable row of an issue in batches; safe to run twice at once."""
    report = report or SendReport(issue_id=issue_id)
    report.issue_id = issue_id
    issue = db.session.get(NewsletterIssue, issue_id)
    # Plain values, so the loop never reloads the issue row.
    frozen = _Frozen(
        issue.id,
        issue.subject,
        freeze_message(issue.subject, issue.body_text, issue.body_html, issue.created_at),
    )
    report.since_at = issue.since_at
    release_dead_claims(issue_id)
    run_id = secrets.token_hex(8)
    connections = max(1, current_app.config["NEWSLETTER_SMTP_CONNECTIONS"])
    if connections == 1:
        _send_loop(frozen, run_id, report)
    else:
        _send_in_parallel(frozen, run_id, report, connections)
    report.skipped = db.session.scalar(
        sa.select(sa.func.count()).where(
            NewsletterDelivery.issue_id == issue_id,
            NewsletterDelivery.status == DeliveryStatus.SKIPPED,
        )
    )
    report.finished = _finish_if_done(issue_id)
    return report


def _send_loop(frozen, run_id, report):
    """Claim a batch, send it over one connection, repeat until nothing is left."""
    size = current_app.config["NEWSLETTER_BATCH_SIZE"]
    while not report.interrupted:
        token, rows = claim_batch(frozen.id, run_id, size)
        if not rows:
            break
        _send_batch(frozen, token, run_id, rows, report)


def _send_in_parallel(frozen, run_id, report, connections):
    """Several claim-and-send loops at once, each on its own database connection and
    SMTP connection: the relay's round trips, not our CPU, set the pace of one loop.
    The claims keep them apart exactly as they keep two separate runs apart."""
    app = current_app._get_current_object()
    parts = [SendReport(issue_id=frozen.id) for _ in range(connections)]
    errors = []

    def worker(part):
        with app.app_context():
            try:
                _send_loop(frozen, run_id, part)
            except BaseException as exc:  # re-raised in the calling thread below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(p,), daemon=True) for p in parts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for part in parts:
        for name in ("sent", "failed", "bounced", "deferred"):
            setattr(report, name, getattr(report, name) + getattr(part, name))
        report.interrupted = report.interrupted or part.interrupted
    if errors:
        raise errors[0]


@dataclass
class _Frozen:
    id: int
    subject: str
    message: bytes


def send_weekly(since_at=None):
    """The cron job: finish an unfinished issue, else start and send the next one."""
    report = SendReport()
    issue = open_issue()
    if issue is None:
        report.since_at = since_at or default_since()
        if report.since_at >= utcnow():  # a start date in the future has no posts yet
            report.no_posts = True
            return report
        try:
            issue = start_issue(since_at=report.since_at)
            db.session.commit()
        except sa.exc.IntegrityError:
            # Another sender started the issue at the same moment: help it finish.
            db.session.rollback()
            issue = open_issue()
            if issue is None:
                raise
        else:
            if issue is None:
                report.no_posts = True
                return report
            report.started = True
    return send_issue(issue.id, report)
