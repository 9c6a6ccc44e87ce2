"""A sender process killed with SIGKILL in the middle of an issue: the rerun takes over
its rows at once (its pid is gone) and every reader gets the issue exactly once."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from blueprints.newsletter.sending import send_weekly
from tests.newsletter.conftest import ScriptedSMTP, make_post, make_subscribers

ROOT = Path(__file__).resolve().parents[2]


class SlowRecipients(ScriptedSMTP):
    """Answers RCPT slowly, so a kill lands between messages, not inside one."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await asyncio.sleep(0.3)
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


@pytest.fixture
def slow_smtp(app):
    from aiosmtpd.controller import Controller

    from extensions import mail
    from tests.conftest import free_port

    handler = SlowRecipients()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    mail.init_app(app)
    yield handler
    controller.stop()


def test_sigkilled_sender_is_finished_by_the_rerun_exactly_once(app, slow_smtp, database_url):
    n, k = 12, 4
    addresses = make_subscribers(n)
    make_post("News")
    env = {
        **os.environ,
        "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
        "FLASK_SECRET_KEY": app.config["SECRET_KEY"],
        "FLASK_SITE_URL": app.config["SITE_URL"],
        "FLASK_MAIL_SERVER": "127.0.0.1",
        "FLASK_MAIL_PORT": str(app.config["MAIL_PORT"]),
        "FLASK_NEWSLETTER_BATCH_SIZE": "5",
        "FLASK_NEWSLETTER_SMTP_CONNECTIONS": "1",
        "FLASK_NEWSLETTER_SQLITE_COMMIT_EVERY": "1",
    }
    sender = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "newsletter", "send-weekly"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        slow_smtp.wait_for(k, timeout=60)
        time.sleep(0.1)  # now inside the next recipient's slow RCPT
    finally:
        sender.send_signal(signal.SIGKILL)
        sender.wait(timeout=10)
    received_before = len(slow_smtp.messages)
    assert k <= received_before < n

    report = send_weekly()  # at once: no waiting for the ten-minute lease

    assert report.finished and not report.started
    assert report.sent == n - received_before
    assert Counter(slow_smtp.recipients()) == Counter({a: 1 for a in addresses})
