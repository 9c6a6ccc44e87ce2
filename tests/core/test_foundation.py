"""The app factory, settings, health check, security headers and error pages."""

import pytest
from sqlalchemy import select

from app import create_app
from blueprints.core.models import OutboxMessage, OutboxStatus
from config import ProductionSettingsError


def test_healthz_reports_database_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "up"}


def test_healthz_answers_503_when_database_is_unreachable(database_url, smtp_controller):
    from tests.conftest import make_config

    broken = create_app(
        make_config(
            database_url,
            smtp_controller,
            SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none",
        )
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "down"
    assert response.headers["Retry-After"]


@pytest.mark.parametrize("path", ["/", "/healthz", "/no-such-page", "/robots.txt"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_unknown_page_gets_styled_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"Page not found" in response.data
    assert b"site-header" in response.data


def test_forced_error_gets_styled_500(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("forced")

    response = app.test_client().get("/boom-for-test")
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.data
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_session_cookie_is_httponly_and_lax(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_production_refuses_to_start_without_secret_and_database(monkeypatch):
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_SQLALCHEMY_DATABASE_URI", raising=False)
    monkeypatch.setenv("FLASK_ENV_NAME", "production")
    with pytest.raises(ProductionSettingsError) as excinfo:
        create_app()
    message = str(excinfo.value)
    assert "FLASK_SECRET_KEY" in message and "FLASK_SQLALCHEMY_DATABASE_URI" in message
    assert "\n" not in message


def test_production_settings_harden_cookies_and_never_enable_emulator(monkeypatch, database_url):
    monkeypatch.setenv("FLASK_ENV_NAME", "production")
    monkeypatch.setenv("FLASK_SECRET_KEY", "a-long-production-secret")
    monkeypatch.setenv("FLASK_DATA_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", database_url)
    monkeypatch.setenv("FLASK_STRIPE_EMULATOR", "true")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["STRIPE_EMULATOR"] is False
    response = app.test_client().get("/healthz")
    assert "max-age" in response.headers["Strict-Transport-Security"]


def test_settings_come_from_prefixed_environment(monkeypatch, database_url):
    monkeypatch.setenv("FLASK_SITE_URL", "https://betterbones.example")
    monkeypatch.setenv("FLASK_MAIL_PORT", "2525")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    assert app.config["SITE_URL"] == "https://betterbones.example"
    assert app.config["MAIL_PORT"] == 2525


def test_outbox_sends_after_commit_and_cron_retries_failures(app, mailbox, runner):
    from blueprints.core.outbox import queue_email, send_committed
    from extensions import db

    with app.test_request_context():
        queue_email("reader@example.com", "test_message", "Hello", greeting="Hi there")
        db.session.commit()
        mailbox.refuse_with = "451 try again later"
        send_committed()
    row = db.session.scalar(select(OutboxMessage))
    assert row.status == OutboxStatus.QUEUED and row.attempts == 1
    assert mailbox.messages == []

    mailbox.refuse_with = None
    row.next_attempt_at = row.created_at  # due now
    db.session.commit()
    result = runner.invoke(args=["outbox", "send"])
    assert "Sent 1" in result.output
    result = runner.invoke(args=["outbox", "send"])
    assert "Sent 0" in result.output
    [message] = mailbox.wait_for(1)
    assert message["Subject"] == "Hello"
    assert message["Message-ID"] == row.message_id
    assert "Hi there" in message.get_body(preferencelist=("plain",)).get_content()


def test_rolled_back_mail_is_never_sent(app, mailbox):
    from blueprints.core.outbox import queue_email, send_committed
    from extensions import db

    with app.test_request_context():
        queue_email("reader@example.com", "test_message", "Hello", greeting="Hi")
        db.session.rollback()
        send_committed()
    assert db.session.scalar(select(OutboxMessage)) is None
    assert mailbox.messages == []


def test_permanent_smtp_failure_marks_message_failed(app, mailbox):
    from blueprints.core.outbox import queue_email, send_committed
    from extensions import db

    mailbox.refuse_with = "550 no such mailbox"
    with app.test_request_context():
        queue_email("gone@example.com", "test_message", "Hello", greeting="Hi")
        db.session.commit()
        send_committed()
    row = db.session.scalar(select(OutboxMessage))
    assert row.status == OutboxStatus.FAILED
    assert "550" in row.last_error


def test_request_body_over_one_megabyte_is_refused_with_413(client):
    response = client.post(
        "/stripe/webhook",
        data=b"x" * (1024 * 1024 + 1),
        headers={"Stripe-Signature": "t=1,v1=abc", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert b"Too much to send" in response.data


def test_forwarded_client_ip_is_trusted_only_behind_a_configured_proxy(
    database_url, smtp_controller
):
    from flask import request

    from tests.conftest import make_config

    seen = {}
    for hops in (0, 1):
        app = create_app(make_config(database_url, smtp_controller, TRUSTED_PROXIES=hops))

        @app.get("/ip-for-test")
        def ip():
            return request.remote_addr

        seen[hops] = (
            app.test_client().get("/ip-for-test", headers={"X-Forwarded-For": "203.0.113.9"}).text
        )
    assert seen[0] == "127.0.0.1"
    assert seen[1] == "203.0.113.9"
