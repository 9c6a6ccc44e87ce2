"""FLASK_LOCAL_PLAIN_HTTP: production settings over plain http on this machine only
(scripts/run-stack), never on a public address."""

import pytest

from app import create_app
from config import ProductionSettingsError


@pytest.fixture
def production(monkeypatch, database_url):
    monkeypatch.setenv("FLASK_ENV_NAME", "production")
    monkeypatch.setenv("FLASK_SECRET_KEY", "a-long-production-secret")
    monkeypatch.setenv("FLASK_DATA_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", database_url)
    monkeypatch.setenv("FLASK_STRIPE_EMULATOR", "true")
    return monkeypatch


def test_local_plain_http_drops_only_the_https_only_parts(production):
    production.setenv("FLASK_LOCAL_PLAIN_HTTP", "true")
    production.setenv("FLASK_SITE_URL", "http://127.0.0.1:8080")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_NAME"] == "session"
    assert app.config["STRIPE_EMULATOR"] is False  # still production
    response = app.test_client().get("/healthz", base_url="http://127.0.0.1:8080")
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize(
    "site_url", ["https://127.0.0.1:8443", "http://betterbones.example", "http://10.0.0.5:8080"]
)
def test_local_plain_http_refuses_to_start_for_any_other_address(production, site_url):
    production.setenv("FLASK_LOCAL_PLAIN_HTTP", "true")
    production.setenv("FLASK_SITE_URL", site_url)
    with pytest.raises(ProductionSettingsError) as excinfo:
        create_app()
    assert "never set it on a public server" in str(excinfo.value)
