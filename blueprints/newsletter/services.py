"""Newsletter work: signing up, confirming, leaving, and sending the weekly issue.

Services flush, never commit, except the weekly sender: a bulk send commits each claim
and each message's outcome as it goes (see ``_Recorder``), on purpose, so a sender
killed at any moment leaves the database saying who has the issue already.
"""

import hashlib
import logging
import os
import secrets
import smtplib
import socket
import threading
from dataclasses import dataclass
from datetime import timedelta
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import escape
from werkzeug.routing import BuildError

from blueprints.blog.models import Post, PostStatus
from blueprints.core.types import utcnow
from blueprints.newsletter.models import (
    DeliveryStatus,
    IssueStatus,
    NewsletterDelivery,
    NewsletterIssue,
    Subscriber,
    SubscriberStatus,
)
from extensions import db, mail

log = logging.getLogger(__name__)

CONFIRM_TOKEN_LIFETIME = timedelta(hours=48)
CONFIRM_EMAIL_INTERVAL = timedelta(hours=24)
PAUSE_LENGTH = timedelta(weeks=4)
UNSUBSCRIBE_SALT = "newsletter-unsubscribe"
MAX_EMAIL_LENGTH = 254

# Placeholders in a frozen issue body, replaced per recipient.
UNSUBSCRIBE_MARK = "%%UNSUBSCRIBE_URL%%"
GREETING_MARK = "%%GREETING%%"
GREETING_HTML_MARK = "%%GREETING_HTML%%"


class InvalidAddress(ValueError):
    """The address cannot be used; the message is safe to show the person."""


# --- addresses and tokens ---------------------------------------------------------------


def normalize_address(raw):
    """Check an address typed by a person; return ``(address, normalized)``.

    Refuses line breaks (header injection), over-long and malformed addresses with a
    message that can be shown as it is.
    """
    if raw is None or not raw.strip():
        raise InvalidAddress("Please enter your email address.")
    if any(ch in raw for ch in "\r\n\0"):
        raise InvalidAddress("An email address cannot contain line breaks.")
    raw = raw.strip()
    if len(raw) > MAX_EMAIL_LENGTH:
        raise InvalidAddress("That email address is too long (254 characters at most).")
    try:
        # No SMTPUTF8 (a non-ASCII name before the @): not every mail server takes it.
        result = validate_email(raw, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidAddress("Please enter a full email address, like name@example.com.") from exc
    address = result.ascii_email or result.normalized
    if len(address) > MAX_EMAIL_LENGTH:
        raise InvalidAddress("That email address is too long (254 characters at most).")
    return address, address.lower()


def _hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(subscriber_id):
    """A signed, never-expiring token naming one subscriber (old emails keep working)."""
    return _serializer().dumps(subscriber_id)


def subscriber_for_unsubscribe_token(token):
    """The subscriber a valid token names, or None for an altered or unknown token."""
    try:
        subscriber_id = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(subscriber_id, int):
        return None
    return db.session.get(Subscriber, subscriber_id)


def site_url(endpoint, **values):
    """An absolute URL on the public site, built the same way in a request and in cron.

    SITE_URL gives scheme and host: emails must never carry the host of whatever
    request happened to cause them.
    """
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["SITE_URL"].rstrip("/") + path


def unsubscribe_url(subscriber_id):
    return site_url("newsletter.unsubscribe", token=unsubscribe_token(subscriber_id))


def post_url(post):
    """The public link to a post; ``blog.post`` may not exist on every branch."""
    try:
        return site_url("blog.post", slug=post.slug)
    except BuildError:
        return current_app.config["SITE_URL"].rstrip("/") + "/blog/" + post.slug


# --- signing up and confirming ---------------------------------------------------------


def _issue_confirm_token(subscriber, now):
    token = secrets.token_urlsafe(32)  # 256 bits
    subscriber.confirm_token_hash = _hash_token(token)
    subscriber.confirm_token_expires_at = now + CONFIRM_TOKEN_LIFETIME
    subscriber.confirm_sent_at = now
    return token


def _queue_confirmation(subscriber, token):
    from blueprints.newsletter.emails import queue_confirmation_email

    queue_confirmation_email(subscriber, token)


def request_subscription(raw_email, first_name=""):
    """Record a signup and queue one confirmation email when one is due.

    The caller shows the same page whatever happens here, so nobody can learn who is
    on the list. A confirmed subscriber is left untouched. At most one confirmation
    email goes to an address per 24 hours. Returns the subscriber row.
    """
    address, normalized = normalize_address(raw_email)
    first_name = " ".join((first_name or "").split())[:80]
    now = utcnow()
    subscriber = db.session.scalar(
        sa.select(Subscriber).where(Subscriber.email_normalized == normalized)
    )
    if subscriber is None:
        subscriber = Subscriber(
            email=address,
            email_normalized=normalized,
            first_name=first_name,
            status=SubscriberStatus.PENDING,
            created_at=now,
        )
        db.session.add(subscriber)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except sa.exc.IntegrityError:
            # The same address signed up in a parallel request: treat it as known.
            subscriber = db.session.scalar(
                sa.select(Subscriber).where(Subscriber.email_normalized == normalized)
            )
            return subscriber
        _queue_confirmation(subscriber, _issue_confirm_token(subscriber, now))
        return subscriber
    if subscriber.status == SubscriberStatus.CONFIRMED:
        return subscriber
    if subscriber.confirm_sent_at and subscriber.confirm_sent_at > now - CONFIRM_EMAIL_INTERVAL:
        return subscriber
    _queue_confirmation(subscriber, _issue_confirm_token(subscriber, now))
    db.session.flush()
    return subscriber


@dataclass
class TokenCheck:
    subscriber: Subscriber | None
    expired: bool = False

    @property
    def valid(self):
        return self.subscriber is not None and not self.expired


def check_confirm_token(token):
    """Find the subscriber a confirmation token belongs to, and whether it expired."""
    if not token or len(token) > 200:
        return TokenCheck(None)
    subscriber = db.session.scalar(
        sa.select(Subscriber).where(Subscriber.confirm_token_hash == _hash_token(token))
    )
    if subscriber is None:
        return TokenCheck(None)
    expired = subscriber.confirm_token_expires_at <= utcnow()
    return TokenCheck(subscriber, expired=expired)


def confirm_subscription(token):
    """Confirm the subscriber whose valid token this is; the token is used up.

    Returns the subscriber, or None when the token is unknown, used or expired (and
    then nothing changes).
    """
    check = check_confirm_token(token)
    if not check.valid:
        return None
    subscriber = check.subscriber
    now = utcnow()
    subscriber.status = SubscriberStatus.CONFIRMED
    subscriber.confirmed_at = now
    subscriber.unsubscribed_at = None
    subscriber.bounced_at = None
    subscriber.paused_until = None
    subscriber.confirm_token_hash = None
    subscriber.confirm_token_expires_at = None
    db.session.flush()
    return subscriber


def resend_confirmation(token):
    """Send a fresh link in place of an expired one (at most one per 24 hours).

    Returns True when the expired token was recognised.
    """
    check = check_confirm_token(token)
    if check.subscriber is None or not check.expired:
        return False
    subscriber = check.subscriber
    now = utcnow()
    if subscriber.confirm_sent_at and subscriber.confirm_sent_at > now - CONFIRM_EMAIL_INTERVAL:
        return True
    _queue_confirmation(subscriber, _issue_confirm_token(subscriber, now))
    db.session.flush()
    return True


def unsubscribe(subscriber):
    """Take the subscriber off the list; safe to call again (nothing more changes)."""
    if subscriber.status != SubscriberStatus.UNSUBSCRIBED:
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
        subscriber.unsubscribed_at = utcnow()
        subscriber.paused_until = None
        subscriber.confirm_token_hash = None
        subscriber.confirm_token_expires_at = None
        db.session.flush()
    return subscriber


def pause_subscription(subscriber):
    """Skip the next four weeks of issues; the subscription then carries on by itself."""
    subscriber.paused_until = utcnow() + PAUSE_LENGTH
    db.session.flush()
    return subscriber


# --- the weekly issue: content ----------------------------------------------------------


@dataclass
class IssueContent:
    subject: str
    body_text: str
    body_html: str
    posts: list
    since_at: object
    until_at: object


def posts_between(since_at, until_at):
    return db.session.scalars(
        sa.select(Post)
        .where(
            Post.status == PostStatus.PUBLISHED,
            Post.published_at > since_at,
            Post.published_at <= until_at,
        )
        .order_by(Post.published_at, Post.id)
    ).all()


def default_since():
    """Where the next issue starts: the end of the last one, else a week ago."""
    last_until = db.session.scalar(sa.select(sa.func.max(NewsletterIssue.until_at)))
    return last_until or utcnow() - timedelta(days=7)


def build_issue_content(since_at, until_at):
    """Render the next issue (with per-recipient placeholders), or None with no posts."""
    posts = posts_between(since_at, until_at)
    if not posts:
        return None
    items = [{"title": p.title, "summary": p.summary, "url": post_url(p)} for p in posts]
    site_name = current_app.config["SITE_NAME"]
    subject = f"{site_name} weekly: {posts[0].title}"
    if len(posts) > 1:
        subject += f" (and {len(posts) - 1} more)"
    context = {
        "subject": subject,
        "posts": items,
        "site_name": site_name,
        "site_url": current_app.config["SITE_URL"].rstrip("/"),
        "unsubscribe_mark": UNSUBSCRIBE_MARK,
    }
    return IssueContent(
        subject=subject[:300],
        body_text=render_template(
            "email/newsletter_issue.txt", greeting_mark=GREETING_MARK, **context
        ),
        body_html=render_template(
            "email/newsletter_issue.html", greeting_mark=GREETING_HTML_MARK, **context
        ),
        posts=items,
        since_at=since_at,
        until_at=until_at,
    )


# Stand-ins in the frozen message, swapped per recipient. They are valid where they
# stand (an address, a Message-ID, a URL), so the email package formats them normally.
_TO = b"recipient@placeholder.invalid"
_MESSAGE_ID = b"<message-id@placeholder.invalid>"
_LINK = b"https://placeholder.invalid/unsubscribe"
_GREETING_TEXT = GREETING_MARK.encode()
_GREETING_HTML = GREETING_HTML_MARK.encode()


def freeze_message(subject, body_text, body_html, date):
    """The issue as one MIME message with stand-ins for each reader's details.

    Built once per run with the standard ``email`` package; each recipient's copy is
    then a few byte replacements, which is what lets one process send hundreds of
    messages a second. Both parts are UTF-8 with 8-bit transfer encoding, so the
    stand-ins survive encoding unchanged.
    """
    domain = _mail_domain()
    msg = EmailMessage(policy=email_policy.SMTP)
    msg["Subject"] = subject
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = _TO.decode()
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = _MESSAGE_ID.decode()
    msg["List-Id"] = f"{current_app.config['SITE_NAME']} weekly <weekly.{domain}>"
    msg["List-Unsubscribe"] = f"<{_LINK.decode()}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text = body_text.replace(UNSUBSCRIBE_MARK, _LINK.decode())
    html = body_html.replace(UNSUBSCRIBE_MARK, _LINK.decode())
    msg.set_content(text, subtype="plain", charset="utf-8", cte="8bit")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="8bit")
    return msg.as_bytes()


def personalise(frozen, *, issue_id, delivery_id, email, first_name, subscriber_id):
    """One reader's copy of a frozen message: address, Message-ID, greeting, link."""
    greeting = f"Dear {first_name}," if first_name else "Hello,"
    # Stable per delivery, so a receiver can drop a copy sent twice after a crash.
    message_id = f"<newsletter-{issue_id}-{delivery_id}@{_mail_domain()}>"
    return (
        frozen.replace(_TO, email.encode("ascii"))
        .replace(_MESSAGE_ID, message_id.encode())
        .replace(_LINK, unsubscribe_url(subscriber_id).encode())
        .replace(_GREETING_TEXT, greeting.encode())
        .replace(_GREETING_HTML, str(escape(greeting)).encode())
    )


def _mail_domain():
    return current_app.config["MAIL_DEFAULT_SENDER"].rsplit("@", 1)[-1].strip(">").strip()


def envelope_sender():
    return parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]


# --- the weekly issue: starting -----------------------------------------------------------


def transition_issue(issue, status):
    """Move an issue to ``status``, refusing any move the state machine does not allow."""
    if not issue.can_become(status):
        raise ValueError(f"issue {issue.id} cannot go from {issue.status} to {status}")
    issue.status = status
    issue.in_progress = None if status == IssueStatus.SENT else True
    if status == IssueStatus.SENT:
        issue.finished_at = utcnow()


def open_issue():
    """The unfinished issue, if a previous run left one."""
    return db.session.scalar(
        sa.select(NewsletterIssue).where(NewsletterIssue.in_progress.is_not(None))
    )


def eligible_subscribers_clause(now):
    """Who may receive an issue right now (SQL, evaluated by the database)."""
    return sa.and_(
        Subscriber.status == SubscriberStatus.CONFIRMED,
        sa.or_(Subscriber.paused_until.is_(None), Subscriber.paused_until <= now),
    )


def start_issue(since_at=None, now=None):
    """Freeze the next issue and record its recipients; returns the issue or None.

    None means there was no new post. Recipients are copied by one INSERT ... SELECT,
    so the list never passes through Python. Flushes; the caller commits.
    """
    now = now or utcnow()
    since_at = since_at or default_since()
    content = build_issue_content(since_at, now)
    if content is None:
        return None
    issue = NewsletterIssue(
        status=IssueStatus.DRAFT,
        in_progress=True,
        subject=content.subject,
        body_text=content.body_text,
        body_html=content.body_html,
        post_count=len(content.posts),
        since_at=since_at,
        until_at=now,
        created_at=now,
    )
    db.session.add(issue)
    db.session.flush()  # the unique in_progress refuses a second open issue here
    # One row per normalised address (already unique, and deduplicated here again).
    first_per_address = (
        sa.select(sa.func.min(Subscriber.id))
        .where(eligible_subscribers_clause(now))
        .group_by(Subscriber.email_normalized)
    )
    recipients = sa.select(
        sa.literal(issue.id),
        Subscriber.id,
        Subscriber.email,
        sa.literal(DeliveryStatus.PENDING.value),
        sa.literal(0),
    ).where(Subscriber.id.in_(first_per_address))
    db.session.execute(
        sa.insert(NewsletterDelivery).from_select(
            ["issue_id", "subscriber_id", "email", "status", "attempts"], recipients
        )
    )
    # Counted, not taken from rowcount: drivers differ on INSERT ... SELECT.
    issue.recipient_count = db.session.scalar(
        sa.select(sa.func.count()).where(NewsletterDelivery.issue_id == issue.id)
    )
    transition_issue(issue, IssueStatus.SENDING)
    db.session.flush()
    return issue


# --- the weekly issue: sending ---------------------------------------------------------


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
            .where(
                Subscriber.id == row.subscriber_id,
                Subscriber.status == SubscriberStatus.CONFIRMED,
            )
            .values(status=SubscriberStatus.BOUNCED, bounced_at=utcnow())
        )
        self._write(
            self._row(row.id, status=DeliveryStatus.BOUNCED, last_error=error, claim_token=None)
        )
        self._done()


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
    log_only = not current_app.config.get("MAIL_SERVER")
    record = _Recorder(token, run_id)
    sender = envelope_sender()
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
                    log.info(
                        "Newsletter (no MAIL_SERVER, logged only) to %s: %s",
                        row.email,
                        issue.subject,
                    )
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
    still_pending = sa.exists().where(
        NewsletterDelivery.issue_id == issue_id,
        NewsletterDelivery.status == DeliveryStatus.PENDING,
    )
    # SENDING -> SENT as one conditional UPDATE, so two senders finishing together agree.
    done = db.session.execute(
        sa.update(NewsletterIssue)
        .where(
            NewsletterIssue.id == issue_id,
            NewsletterIssue.status == IssueStatus.SENDING,
            ~still_pending,
        )
        .values(status=IssueStatus.SENT, in_progress=None, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(done)


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
