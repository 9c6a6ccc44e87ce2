"""Newsletter factories and a scriptable SMTP server for the sending tests."""

import asyncio
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from blueprints.blog.models import PostStatus
from blueprints.core.types import utcnow
from blueprints.newsletter.models import Subscriber, SubscriberStatus
from extensions import db, mail
from tests import factories
from tests.conftest import free_port


def make_subscribers(count, prefix="reader"):
    """Insert ``count`` confirmed subscribers in one statement; returns their addresses."""
    now = utcnow()
    addresses = [f"{prefix}{i}@example.com" for i in range(count)]
    db.session.execute(
        sa.insert(Subscriber),
        [
            {
                "email": a,
                "email_normalized": a,
                "first_name": "",
                "status": SubscriberStatus.CONFIRMED,
                "confirmed_at": now - timedelta(days=3),
                "created_at": now - timedelta(days=3),
            }
            for a in addresses
        ],
    )
    db.session.commit()
    return addresses


def make_post(title, published_at=None, status=PostStatus.PUBLISHED, summary=None):
    """A post for an issue to send (tests/factories.py), published an hour ago."""
    return factories.make_post(
        title,
        "Body",
        status=status,
        published_at=published_at or (utcnow() - timedelta(hours=1)),
        summary=summary if summary is not None else f"What to know about {title.lower()}.",
    )


class ScriptedSMTP:
    """An SMTP handler that can refuse chosen recipients, be slow, or drop the
    connection once it has accepted ``drop_after`` messages (a dying mail relay)."""

    def __init__(self):
        self.messages = []
        self.refuse = {}  # address -> "550 ..." / "451 ..."
        self.drop_after = None
        self.delay = 0.0
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refuse.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            if self.drop_after is not None and len(self.messages) >= self.drop_after:
                server.transport.close()  # no reply: the client sees the connection die
                return "421 closing"
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def to(self, address):
        with self._lock:
            return [m for m in self.messages if address in str(m["To"])]

    def recipients(self):
        with self._lock:
            return [str(m["To"]) for m in self.messages]

    def wait_for(self, count, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} message(s), got {len(self.messages)}")


@pytest.fixture
def smtp(app):
    """A scriptable SMTP server of this test's own; the app sends to it."""
    handler = ScriptedSMTP()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    mail.init_app(app)  # Flask-Mail reads its settings at init
    yield handler
    controller.stop()


@pytest.fixture
def staff_client(app, client, staff_user):
    """A client signed in as staff (the session set directly, as Flask-Login keeps it)."""
    with client.session_transaction() as session:
        session["_user_id"] = staff_user.get_id()
        session["_fresh"] = True
    return client
