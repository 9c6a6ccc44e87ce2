"""The outbox: every single email is written in the transaction that causes it and
sent only after that transaction commits, and only after the response has gone out.

A view calls :func:`queue_email` (which flushes, never commits). When the request's
transaction commits, the queued ids are remembered; the request itself never talks to
the mail server. Claiming is one conditional UPDATE, so two senders never send the same
row. ``flask --app app outbox send`` (cron, every minute) sends whatever is due.

When delivery starts: in the response's ``close`` (``response.call_on_close``). A WSGI
server calls it once the last byte of the response has been written (gunicorn's sync
worker, werkzeug's server and the test client with ``buffered=True`` all do), so a
reader has the whole page before the first byte goes to the mail server, and no
thread outlives the request: a worker that is recycled or killed cannot lose mail
half-sent (a row left "sending" is taken again after :data:`SENDING_LEASE`). The cost
is that the worker stays busy until the mail is handed over, which the bounds below
keep short:

- every connect, read and write waits at most ``MAIL_TIMEOUT`` seconds, and one
  message's whole conversation at most ``MAIL_SEND_DEADLINE`` (below gunicorn's 30 s);
- after a timeout, the rest of the batch is left for the next cron run rather than
  waiting on the same silent server once per message, and this process's responses
  leave their mail to cron for ``MAIL_PAUSE_AFTER_TIMEOUT`` seconds: a silent server
  costs each worker one timeout now and then, not one per page that sends mail.

Failures: a message that can never be sent (a header that cannot be written, a 5xx
answer to its recipient or its content) is marked failed with the reason and the rest
go on; anything else (a timeout, a 4xx, a refused connection, a login or sender
problem) is retried with a growing back-off, and fails for good after
:data:`MAX_ATTEMPTS`. No failure leaves a row "sending".

Secrets: a message queued with ``forget_text`` (a sign-in code or link) keeps its text
only while an attempt may still need it; once sent or failed for good its stored bodies
are blanked in the same commit that records the outcome.
"""

import json
import logging
import re
import secrets
import smtplib
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from flask import render_template
from sqlalchemy import delete, event, func, or_, select, update
from sqlalchemy.orm import Session

from blueprints.core.addresses import sender_domain
from blueprints.core.mail import (
    UnsendableMessage,
    deliver,
    failure_reason,
    is_permanent,
    timed_out,
)
from blueprints.core.models import OutboxMessage, OutboxStatus
from blueprints.core.types import utcnow
from extensions import db

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
# A row stuck in "sending" this long belongs to a sender that died; it is retried.
SENDING_LEASE = timedelta(minutes=10)
_PENDING_KEY = "outbox_pending_ids"
# In ``extra_json``: blank the bodies once the message is sent or failed for good.
_FORGET_TEXT = "forget_text"
_COMMITTED_KEY = "outbox_committed_ids"
# Control characters (CR and LF above all) would end a header and start another one.
_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f]+")


def one_line(value):
    """``value`` fit for a mail header: control characters (a CR/LF typed into a name)
    become one space, so a name can never add a header or a recipient."""
    return _HEADER_BREAKS.sub(" ", str(value)).strip()


def new_message_id(domain):
    """A Message-ID from the ``secrets`` generator: ``make_msgid`` draws on ``random``,
    which anything may seed (Hypothesis does, per example), repeating an id the table
    keeps unique."""
    return f"<{secrets.token_hex(16)}@{domain}>"


def queue_email(
    to,
    template,
    subject,
    *,
    headers=None,
    attachments=None,
    withheld=None,
    forget_text=False,
    **context,
):
    """Render ``templates/email/<template>.txt`` and ``.html`` and queue the message.

    ``attachments`` is a list of ``(filename, content_type, text)`` tuples. The subject
    and header values are made single lines (:func:`one_line`).
    ``withheld`` (a reason) writes the message as failed with that reason, never sent:
    for a caller whose request must do the same work whether it sends or not.
    ``forget_text``: the text holds a secret meant for the mailbox only (a sign-in code
    or link); the stored copy loses its bodies once sent or given up on
    (:func:`_forget_text`), keeping who, what subject and what happened.
    Returns the flushed :class:`OutboxMessage`.
    """
    context.setdefault("subject", subject)
    text = render_template(f"email/{template}.txt", **context)
    html = render_template(f"email/{template}.html", **context)
    extra = {}
    if headers:
        extra["headers"] = {one_line(name): one_line(value) for name, value in headers.items()}
    if attachments:
        extra["attachments"] = [list(a) for a in attachments]
    if forget_text:
        extra[_FORGET_TEXT] = True
    message = OutboxMessage(
        message_id=new_message_id(sender_domain()),
        to_address=one_line(to),
        subject=one_line(subject),
        body_text=text,
        body_html=html,
        extra_json=json.dumps(extra) if extra else None,
        status=OutboxStatus.FAILED if withheld else OutboxStatus.QUEUED,
        last_error=withheld,
    )
    if withheld:
        _forget_text(message)
    db.session.add(message)
    db.session.flush()
    if not withheld:
        db.session.info.setdefault(_PENDING_KEY, []).append(message.id)
    return message


def _forget_text(message):
    """Blank the stored bodies of a message marked ``forget_text``, now that no attempt
    will need them (sent, or failed for good). A retry still has its text."""
    extra = json.loads(message.extra_json) if message.extra_json else {}
    if extra.get(_FORGET_TEXT):
        message.body_text = ""
        message.body_html = None


# --- claiming and sending rows ------------------------------------------------------------


@dataclass
class DeliveryReport:
    """What one run did: how many went out, which will be retried, which failed for good
    (``(id, address, reason)``), and how many were not tried after a timeout."""

    sent: int = 0
    retrying: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    left: int = 0
    timed_out: bool = False


def _due():
    now = utcnow()
    return or_(
        (OutboxMessage.status == OutboxStatus.QUEUED) & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == OutboxStatus.SENDING)
        & (OutboxMessage.claimed_at < now - SENDING_LEASE),
    )


def _claim(message_id):
    """Take one message for sending; True when this caller owns it now."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _due())
        .values(
            status=OutboxStatus.SENDING,
            claimed_at=utcnow(),
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _send_claimed(message_id, report):
    """Send one claimed message and record the outcome; returns the exception, if any."""
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    try:
        deliver(message)
    except (smtplib.SMTPException, OSError, UnsendableMessage) as exc:
        failure = exc
        log.warning("Mail %s to %s not sent: %s", message.id, message.to_address, exc)
    except Exception as exc:  # a bug must not leave the row "sending": retried, logged
        failure = exc
        log.exception("Mail %s to %s not sent", message.id, message.to_address)
    else:
        message.status = OutboxStatus.SENT
        message.sent_at = utcnow()
        message.last_error = None
        _forget_text(message)
        db.session.commit()
        report.sent += 1
        return None
    reason = failure_reason(failure)[:2000]
    message.last_error = reason
    if is_permanent(failure) or message.attempts >= MAX_ATTEMPTS:
        message.status = OutboxStatus.FAILED
        _forget_text(message)
        report.failed.append((message.id, message.to_address, reason))
    else:
        message.status = OutboxStatus.QUEUED
        message.next_attempt_at = utcnow() + timedelta(minutes=2 ** min(message.attempts, 8))
        report.retrying.append((message.id, message.to_address, reason))
    db.session.commit()
    return failure


def send_messages(ids):
    """Claim and send the given messages; returns a :class:`DeliveryReport`.

    A timeout stops the run: the remaining messages stay due for the next one, so a
    silent server costs one ``MAIL_TIMEOUT``, not one per message."""
    report = DeliveryReport()
    ids = list(ids)
    for position, message_id in enumerate(ids):
        if not _claim(message_id):
            continue
        if timed_out(_send_claimed(message_id, report)):
            report.timed_out = True
            report.left = len(ids) - position - 1
            break
    return report


def send_due(limit=500):
    """Send every message that is due, oldest first (the cron command)."""
    ids = db.session.scalars(
        select(OutboxMessage.id).where(_due()).order_by(OutboxMessage.id).limit(limit)
    ).all()
    return send_messages(ids)


def _take_committed():
    if not db.session.registry.has():
        return []  # this request never used the database (a cached page): nothing to send
    return db.session.info.pop(_COMMITTED_KEY, [])


def send_committed():
    """Send, now, what the current session has queued and committed (commands that run
    outside a request; a request leaves it to :func:`init_outbox`)."""
    ids = _take_committed()
    return send_messages(ids) if ids else DeliveryReport()


@event.listens_for(Session, "after_commit")
def _remember_committed(session):
    pending = session.info.pop(_PENDING_KEY, [])
    if pending:
        session.info.setdefault(_COMMITTED_KEY, []).extend(pending)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session):
    session.info.pop(_PENDING_KEY, None)


def _deliver_after_response(app, ids):
    """Runs when the server closes the response: in an app context of its own (the
    request's has gone), with a session of its own. Skipped for a while after a
    timeout; the rows stay due, and cron sends them."""
    state = app.extensions.setdefault("outbox", {"paused_until": 0.0})
    if time.monotonic() < state["paused_until"]:
        log.info("Mail %s left to cron: the mail server timed out a moment ago", ids)
        return
    try:
        with app.app_context():
            report = send_messages(ids)
            if report.timed_out:
                pause = float(app.config["MAIL_PAUSE_AFTER_TIMEOUT"])
                state["paused_until"] = time.monotonic() + pause
    except Exception:  # the page is answered; cron sends what this could not
        log.exception("Sending queued mail after the response failed; cron will retry")


def init_outbox(app):
    """Send what each request queued once its transaction has committed and its
    response has been sent."""

    @app.after_request
    def _send_after_response(response):
        ids = _take_committed()
        if ids:
            deliver_once = _Once(partial(_deliver_after_response, app, ids))
            response.call_on_close(deliver_once)
            # Werkzeug's development server skips ``close`` when the browser drops the
            # connection first (it reads what is left of the request, and a reset there
            # ends it): the response is still let go of then, so delivery starts too.
            weakref.finalize(response, deliver_once)
        return response


class _Once:
    """A callable that runs ``action`` the first time it is called, never again."""

    def __init__(self, action):
        self._action = action
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            action, self._action = self._action, None
        if action is not None:
            action()


def _to(address):
    return func.lower(OutboxMessage.to_address) == (address or "").strip().lower()


def emails_for_export(address):
    """The emails written to ``address``, oldest first, as plain dicts: subject, when
    written and sent, and what became of each. Never their text: a sign-in code's email
    must not come back in a file, and what the rest said is in the areas' own records."""
    rows = db.session.execute(
        select(
            OutboxMessage.subject,
            OutboxMessage.status,
            OutboxMessage.created_at,
            OutboxMessage.sent_at,
        )
        .where(_to(address))
        .order_by(OutboxMessage.id)
    ).all()
    return [
        {
            "subject": subject,
            "status": str(status),
            "written_at": created_at.isoformat(),
            "sent_at": sent_at.isoformat() if sent_at else None,
        }
        for subject, status, created_at, sent_at in rows
    ]


def forget_recipient(address):
    """Delete the copies of every email already sent to ``address`` (or given up on):
    a deleted account's messages hold her name and what she bought or booked. Messages
    still queued (a cancellation written in the same transaction) are kept and go out.
    Returns how many were deleted. Flushes."""
    return db.session.execute(
        delete(OutboxMessage)
        .where(_to(address), OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.FAILED]))
        .execution_options(synchronize_session=False)
    ).rowcount
