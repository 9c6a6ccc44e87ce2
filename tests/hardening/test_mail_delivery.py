"""A mail server that stalls or a message that cannot be sent never holds a page or the
queue (issue #17, finding 6).

The request only writes the outbox row; delivery starts once the response is complete;
every step of the SMTP conversation is bounded by MAIL_TIMEOUT; a message that can
never be sent is marked failed with its reason, and the rest still go out.
"""

import http.client
import socket
import threading
import time
import urllib.parse
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from werkzeug.serving import make_server

from blueprints.core.models import OutboxMessage, OutboxStatus
from blueprints.core.outbox import queue_email, send_committed, send_due
from blueprints.core.types import utcnow
from extensions import db


class SilentMailServer:
    """Accepts connections and never says a word, until released (or, as a safety net
    for code without timeouts, until ``give_up_after`` seconds have passed)."""

    def __init__(self, give_up_after=20):
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self.accepted = threading.Event()
        self.released = threading.Event()
        self.gave_up = threading.Event()
        self._connections = []
        self._deadline = time.monotonic() + give_up_after
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self.released.is_set():
            if time.monotonic() > self._deadline:
                self.gave_up.set()
                break
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            self._connections.append(connection)
            self.accepted.set()
        for connection in self._connections:
            connection.close()
        self._listener.close()

    @property
    def connections(self):
        return len(self._connections)

    def release(self):
        self.released.set()
        self._thread.join(timeout=5)


@pytest.fixture
def silent_smtp():
    server = SilentMailServer()
    yield server
    server.release()


def _outbox():
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def _wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


class LiveSite:
    """The app behind a real HTTP server (werkzeug's, which like gunicorn closes each
    response once it has been sent)."""

    def __init__(self, app):
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.host, self.port = "127.0.0.1", self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def post(self, path, form):
        """POST a form and read the whole answer; the client waits 10 s at most."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request(
                "POST",
                path,
                body=urllib.parse.urlencode(form),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Origin": f"http://{self.host}:{self.port}",
                },
            )
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=5)


class TestPagesAnswerWhileTheMailServerIsSilent:
    @pytest.fixture
    def app_config(self, silent_smtp):
        # A long MAIL_TIMEOUT: only delivery after the response lets the page answer.
        return {"MAIL_PORT": silent_smtp.port, "MAIL_TIMEOUT": 30, "WTF_CSRF_ENABLED": False}

    @pytest.fixture
    def site(self, app):
        site = LiveSite(app)
        yield site
        site.stop()

    @pytest.mark.parametrize("page", ["newsletter signup", "comment"])
    def test_the_page_answers_before_the_silent_server_says_anything_and_the_mail_goes_out_later(
        self, app, site, silent_smtp, staff_user, smtp_controller, mailbox, runner, page
    ):
        if page == "newsletter signup":
            path, form, to = "/newsletter/", {"email": "ruth@example.com"}, "ruth@example.com"
        else:
            from blueprints.blog.seed import SPINE_SLUG
            from blueprints.blog.seed import seed as seed_blog

            seed_blog()
            db.session.commit()
            path, to = f"/blog/{SPINE_SLUG}", staff_user.email
            form = {"name": "Joan Smith", "email": "joan@example.com", "body": "Thank you!"}

        # The whole answer arrives while the mail server has not said one word (it is
        # released only below): the request did not wait for it.
        assert site.post(path, form) == 303
        assert not silent_smtp.released.is_set()
        [row] = _outbox()
        assert row.to_address == to

        # Delivery started after the answer and is stuck on the silent server...
        assert silent_smtp.accepted.wait(10)
        silent_smtp.release()
        # ...which hangs up: a temporary failure, tried again later.
        assert _wait_until(lambda: _outbox()[0].status == OutboxStatus.QUEUED)
        [row] = _outbox()
        assert row.attempts == 1 and row.next_attempt_at > utcnow() and row.last_error

        # A working mail server is back; cron sends it once its retry is due.
        app.config["MAIL_PORT"] = smtp_controller.port
        db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()
        result = runner.invoke(args=["outbox", "send"])
        assert result.exit_code == 0 and "Sent 1 message(s)." in result.output
        [message] = mailbox.wait_for(1)
        assert to in str(message["To"])
        assert _outbox()[0].status == OutboxStatus.SENT


class TestEveryReadIsBounded:
    @pytest.fixture
    def app_config(self, silent_smtp):
        return {"MAIL_PORT": silent_smtp.port, "MAIL_TIMEOUT": 0.5}

    def test_a_silent_mail_server_costs_one_timeout_and_the_message_waits_for_a_retry(
        self, app, silent_smtp
    ):
        with app.test_request_context():
            queue_email("reader@example.com", "test_message", "Hello", greeting="Hi")
            queue_email("other@example.com", "test_message", "Hello", greeting="Hi")
            db.session.commit()
        report = send_due()
        # Back while the server is still silent: the greeting read timed out.
        assert silent_smtp.accepted.is_set() and not silent_smtp.gave_up.is_set()
        first, second = _outbox()
        assert first.status == OutboxStatus.QUEUED and first.attempts == 1
        assert "timed out" in first.last_error
        assert first.next_attempt_at > utcnow() + timedelta(seconds=30)
        # One timeout is enough: the next message waits for the next run, untried.
        assert silent_smtp.connections == 1 and report.left == 1
        assert second.status == OutboxStatus.QUEUED and second.attempts == 0

    def test_after_a_timeout_pages_leave_their_mail_to_cron_for_a_while(
        self, app, silent_smtp, smtp_controller, mailbox, runner
    ):
        for address in ("first@example.com", "second@example.com", "third@example.com"):
            signup = app.test_client().post("/newsletter/", data={"email": address})
            assert signup.status_code == 303
        # Only the first page's mail waited on the silent server; the others were left
        # queued and due, without an attempt.
        assert silent_smtp.connections == 1
        first, *others = _outbox()
        assert first.status == OutboxStatus.QUEUED and first.attempts == 1
        assert all(row.status == OutboxStatus.QUEUED and row.attempts == 0 for row in others)

        app.config["MAIL_PORT"] = smtp_controller.port
        result = runner.invoke(args=["outbox", "send"])
        assert "Sent 2 message(s)." in result.output
        assert sorted(str(m["To"]) for m in mailbox.wait_for(2)) == [
            "second@example.com",
            "third@example.com",
        ]


def _queued(to, subject, **values):
    row = OutboxMessage(
        message_id=f"<{to}-{time.monotonic_ns()}@betterbones.example>",
        to_address=to,
        subject=subject,
        body_text="Body",
        body_html="<p>Body</p>",
        **values,
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_a_message_that_can_never_be_sent_fails_with_its_reason_and_the_rest_go_out(
    app, mailbox, runner
):
    # Queued before the outbox cleaned header values: a booking name with CR/LF.
    first = _queued("staff@betterbones.example", "Ann")
    bad = _queued(
        "staff@betterbones.example", "New consultation booked: Eve\r\nBcc: all@example.com"
    )
    last = _queued("reader@example.com", "Your order")

    result = runner.invoke(args=["outbox", "send"])

    assert result.exit_code == 0, result.output
    assert "Sent 2 message(s)." in result.output
    assert f"{bad.id}" in result.output and "failed" in result.output.lower()
    assert len(mailbox.wait_for(2)) == 2
    rows = {row.id: row for row in _outbox()}
    assert rows[first.id].status == rows[last.id].status == OutboxStatus.SENT
    assert rows[bad.id].status == OutboxStatus.FAILED
    assert rows[bad.id].last_error
    assert all(row.status != OutboxStatus.SENDING for row in rows.values())
    # Nothing is left to retry: the next run has nothing to do.
    again = runner.invoke(args=["outbox", "send"])
    assert again.exit_code == 0 and "Sent 0 message(s)." in again.output


def test_a_name_with_line_breaks_cannot_add_a_header_or_a_recipient(app, mailbox):
    with app.test_request_context():
        queue_email(
            "staff@betterbones.example",
            "test_message",
            "New consultation booked: Eve\r\nBcc: all@example.com\nX-Evil: 1",
            greeting="Hi",
        )
        db.session.commit()
        send_committed()
    [message] = mailbox.wait_for(1)
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert message["Subject"].startswith("New consultation booked: Eve")
    assert _outbox()[0].status == OutboxStatus.SENT


def test_a_5xx_answer_fails_the_message_with_the_servers_reason(app, mailbox):
    mailbox.refuse_with = "550 5.1.1 no such mailbox here"
    with app.test_request_context():
        queue_email("gone@example.com", "test_message", "Hello", greeting="Hi")
        queue_email("also-gone@example.com", "test_message", "Hello", greeting="Hi")
        db.session.commit()
        send_committed()
    rows = _outbox()
    assert [row.status for row in rows] == [OutboxStatus.FAILED, OutboxStatus.FAILED]
    assert all("no such mailbox" in row.last_error for row in rows)
