"""The outbox: every single email is written in the transaction that causes it and
sent only after that transaction commits.

A view calls :func:`queue_email` (which flushes, never commits). When the request's
transaction commits, the queued ids are remembered; after the response is built they
are claimed and sent. A send that fails stays queued with a back-off, and
``flask --app app outbox send`` (cron, every minute) retries it. Claiming is one
conditional UPDATE, so two senders never send the same row.
"""

import json
import logging
import smtplib
from datetime import timedelta
from email.utils import make_msgid

from flask import current_app, render_template
from flask_mail import Message
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from blueprints.core.addresses import sender_domain
from blueprints.core.models import OutboxMessage, OutboxStatus
from blueprints.core.types import utcnow
from extensions import db, mail

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
# A row stuck in "sending" this long belongs to a sender that died; it is retried.
SENDING_LEASE = timedelta(minutes=10)
_PENDING_KEY = "outbox_pending_ids"
_COMMITTED_KEY = "outbox_committed_ids"


def queue_email(to, template, subject, *, headers=None, attachments=None, withheld=None, **context):
    """Render ``templates/email/<template>.txt`` and ``.html`` and queue the message.

    ``attachments`` is a list of ``(filename, content_type, text)`` tuples.
    ``withheld`` (a reason) writes the message as failed with that reason, never sent:
    for a caller whose request must do the same work whether it sends or not.
    Returns the flushed :class:`OutboxMessage`.
    """
    context.setdefault("subject", subject)
    text = render_template(f"email/{template}.txt", **context)
    html = render_template(f"email/{template}.html", **context)
    extra = {}
    if headers:
        extra["headers"] = headers
    if attachments:
        extra["attachments"] = [list(a) for a in attachments]
    message = OutboxMessage(
        message_id=make_msgid(domain=sender_domain()),
        to_address=to,
        subject=subject,
        body_text=text,
        body_html=html,
        extra_json=json.dumps(extra) if extra else None,
        status=OutboxStatus.FAILED if withheld else OutboxStatus.QUEUED,
        last_error=withheld,
    )
    db.session.add(message)
    db.session.flush()
    if not withheld:
        db.session.info.setdefault(_PENDING_KEY, []).append(message.id)
    return message


def deliver(message: OutboxMessage):
    """Hand one message to SMTP, or to the log when no mail server is configured."""
    extra = json.loads(message.extra_json) if message.extra_json else {}
    headers = extra.get("headers", {})
    if not current_app.config.get("MAIL_SERVER"):
        log.info(
            "Mail (no MAIL_SERVER set, logged only)\nTo: %s\nSubject: %s\n%s\n\n%s",
            message.to_address,
            message.subject,
            "\n".join(
                f"{k}: {v}" for k, v in {"Message-ID": message.message_id, **headers}.items()
            ),
            message.body_text,
        )
        return
    msg = Message(
        subject=message.subject,
        recipients=[message.to_address],
        body=message.body_text,
        html=message.body_html,
        extra_headers=headers,
    )
    msg.msgId = message.message_id  # stable across retries, so receivers can deduplicate
    for filename, content_type, data in extra.get("attachments", []):
        msg.attach(filename, content_type, data.encode())
    mail.send(msg)


def _claim(message_id):
    """Take one message for sending; True when this caller owns it now."""
    now = utcnow()
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            or_(
                (OutboxMessage.status == OutboxStatus.QUEUED)
                & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == OutboxStatus.SENDING)
                & (OutboxMessage.claimed_at < now - SENDING_LEASE),
            ),
        )
        .values(status=OutboxStatus.SENDING, claimed_at=now, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _send_claimed(message_id):
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    try:
        deliver(message)
    except (smtplib.SMTPException, OSError) as exc:
        permanent = _is_permanent(exc)
        if permanent or message.attempts >= MAX_ATTEMPTS:
            message.status = OutboxStatus.FAILED
        else:
            message.status = OutboxStatus.QUEUED
            message.next_attempt_at = utcnow() + timedelta(minutes=2 ** min(message.attempts, 8))
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        db.session.commit()
        log.warning("Mail %s to %s not sent: %s", message.id, message.to_address, exc)
        return False
    message.status = OutboxStatus.SENT
    message.sent_at = utcnow()
    db.session.commit()
    return True


def _is_permanent(exc):
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def send_messages(ids):
    """Claim and send the given messages; returns how many went out."""
    sent = 0
    for message_id in ids:
        if _claim(message_id):
            sent += _send_claimed(message_id)
    return sent


def send_due(limit=500):
    """Send every message that is due, oldest first (the cron command)."""
    now = utcnow()
    ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(
            or_(
                (OutboxMessage.status == OutboxStatus.QUEUED)
                & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == OutboxStatus.SENDING)
                & (OutboxMessage.claimed_at < now - SENDING_LEASE),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    return send_messages(ids)


def send_committed():
    """Send what the current session has queued and committed (after a request)."""
    if not db.session.registry.has():
        return  # this request never used the database (a cached page): nothing to send
    ids = db.session.info.pop(_COMMITTED_KEY, [])
    if ids:
        send_messages(ids)


@event.listens_for(Session, "after_commit")
def _remember_committed(session):
    pending = session.info.pop(_PENDING_KEY, [])
    if pending:
        session.info.setdefault(_COMMITTED_KEY, []).extend(pending)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session):
    session.info.pop(_PENDING_KEY, None)


def init_outbox(app):
    """Send what each request queued, once its transaction has committed."""

    @app.after_request
    def _send_after_commit(response):
        try:
            send_committed()
        except Exception:  # a saved change must never become an error page over mail
            log.exception("Sending queued mail after the request failed; cron will retry")
            db.session.rollback()
        return response
