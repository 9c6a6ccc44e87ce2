"""One stored email written as a message and handed to the mail server (or, in the demo,
printed to the console): what the outbox (:mod:`blueprints.core.outbox`) calls for each
row it has claimed, and how it tells a failure worth retrying from one that is not.

Every connect, read and write waits at most ``MAIL_TIMEOUT`` seconds and the whole
conversation at most ``MAIL_SEND_DEADLINE`` (:class:`_Bounded`)."""

import json
import logging
import smtplib
import sys
import time
from contextlib import suppress
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formataddr, formatdate

from flask import current_app

from blueprints.core.addresses import sender, sender_address
from blueprints.core.models import OutboxMessage

log = logging.getLogger(__name__)

# 7-bit output: any server can take it, 8BITMIME or not.
_POLICY = SMTP_POLICY.clone(cte_type="7bit")


class UnsendableMessage(Exception):
    """The stored message cannot be written as an email (e.g. a line break in a header
    of a row queued before :func:`blueprints.core.outbox.one_line`): no retry can help."""


def build_email(message: OutboxMessage) -> EmailMessage:
    """The stored message as an email; raises :class:`UnsendableMessage`."""
    extra = json.loads(message.extra_json) if message.extra_json else {}
    try:
        email = EmailMessage(policy=_POLICY)
        email["Subject"] = message.subject
        email["From"] = formataddr(sender())
        email["To"] = message.to_address
        email["Date"] = formatdate(usegmt=True)
        # Stable across retries, so receivers can tell a repeat from a new message.
        email["Message-ID"] = message.message_id
        for name, value in extra.get("headers", {}).items():
            email[name] = value
        email.set_content(message.body_text)
        if message.body_html:
            email.add_alternative(message.body_html, subtype="html")
        for filename, content_type, data in extra.get("attachments", []):
            mime_type, *parameters = [part.strip() for part in content_type.split(";")]
            maintype, subtype = mime_type.split("/", 1)
            params = dict(p.split("=", 1) for p in parameters if "=" in p)
            if maintype == "text":
                email.add_attachment(data, subtype=subtype, filename=filename, params=params)
            else:
                email.add_attachment(
                    data.encode(), maintype, subtype, filename=filename, params=params
                )
        return email
    except (ValueError, TypeError, LookupError) as exc:  # UnicodeError is a ValueError
        raise UnsendableMessage(f"{type(exc).__name__}: {exc}") from exc


class _Bounded:
    """An SMTP client whose every read and write waits at most ``timeout`` seconds, and
    all of them together at most until ``deadline`` (``time.monotonic()``).

    smtplib applies its ``timeout`` to the connect only as given; setting it on the
    socket before each command and reply also bounds a server that accepts and then
    says nothing, or one that drips an answer every few seconds."""

    deadline = float("inf")

    def _arm(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the mail server timed out (the whole exchange took too long)")
        if self.sock is not None:
            self.sock.settimeout(min(self.timeout, left))

    def send(self, s):
        self._arm()
        return super().send(s)

    def getreply(self):
        self._arm()
        return super().getreply()


class _BoundedSMTP(_Bounded, smtplib.SMTP):
    pass


class _BoundedSMTPSSL(_Bounded, smtplib.SMTP_SSL):
    pass


def _smtp_send(config, email, to_address):
    factory = _BoundedSMTPSSL if config.get("MAIL_USE_SSL") else _BoundedSMTP
    smtp = factory(timeout=float(config["MAIL_TIMEOUT"]))  # connects below, bounded
    smtp.deadline = time.monotonic() + float(config["MAIL_SEND_DEADLINE"])
    try:
        smtp.connect(config["MAIL_SERVER"], int(config["MAIL_PORT"]))
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME") and config.get("MAIL_PASSWORD"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.sendmail(sender_address(), [to_address], email.as_bytes())
        # The server has taken the message: a slow or failed goodbye changes nothing.
        with suppress(smtplib.SMTPException, OSError):
            smtp.quit()
    finally:
        smtp.close()


def echo_to_console(to_address, subject, headers, body_text):
    """Print one email, headers and text body with its links, to the console: the demo's
    mail (``MAIL_TO_CONSOLE``, set by scripts/run-demo; production settings turn it off)."""
    lines = [f"To: {to_address}", f"Subject: {subject}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    rule = "-" * 72
    text = "\n".join([rule, "Email (demo: printed here, not sent)", *lines, "", body_text, rule])
    print(text, file=sys.stderr, flush=True)


def deliver(message: OutboxMessage):
    """Hand one message to SMTP, or to the log when no mail server is configured."""
    config = current_app.config
    email = build_email(message)  # also in log-only mode: the same message fails
    if not config.get("MAIL_SERVER") or config.get("MAIL_SUPPRESS_SEND", current_app.testing):
        extra = json.loads(message.extra_json) if message.extra_json else {}
        headers = {"Message-ID": message.message_id, **extra.get("headers", {})}
        if config.get("MAIL_TO_CONSOLE"):
            echo_to_console(message.to_address, message.subject, headers, message.body_text)
        else:
            # Never the body: a sign-in code or a private link must not land in a log.
            log.warning(
                "Mail %s to %s not sent (no MAIL_SERVER set): %s",
                message.id,
                message.to_address,
                message.subject,
            )
        return
    _smtp_send(config, email, message.to_address)


def is_permanent(exc):
    """True when no later attempt can send this message (its own fault, not the server's)."""
    if isinstance(exc, UnsendableMessage):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    # 5xx to the message itself (RCPT, DATA). A 5xx to our login or sender address
    # is the configuration's fault and would fail every message: retried instead.
    if isinstance(exc, smtplib.SMTPAuthenticationError | smtplib.SMTPSenderRefused):
        return False
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def timed_out(exc):
    """True for a timeout, also when smtplib reports it as a lost connection."""
    while exc is not None:
        if isinstance(exc, TimeoutError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def failure_reason(exc):
    """The failure in one line, as the outbox row keeps it."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
            for address, (code, text) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error
        text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        return f"{type(exc).__name__}: {exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}"
