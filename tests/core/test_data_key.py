"""FLASK_DATA_KEY, the key of health answers at rest: production refuses to start without
a well-formed one; development makes its own in instance/; the migration that brought
the encryption encrypts the rows already there, and its downgrade decrypts them."""

import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask

from config import ProductionSettingsError, load_config
from tests.conftest import empty_postgresql_schema

BEFORE = "3a8f1c6d2e90"  # the revision before the encrypted intake answers
KEY = Fernet.generate_key().decode()


def _settings(instance_path, **overrides):
    app = Flask("data_key_test", instance_path=str(instance_path))
    load_config(app, {"SQLALCHEMY_DATABASE_URI": "sqlite://", **overrides})
    return app.config


PRODUCTION = {
    "ENV_NAME": "production",
    "SECRET_KEY": "a-long-production-secret",
    "SQLALCHEMY_DATABASE_URI": "postgresql://db/x",
}


def test_production_refuses_to_start_without_a_data_key(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_DATA_KEY", raising=False)
    with pytest.raises(ProductionSettingsError) as refused:
        _settings(tmp_path, **PRODUCTION)
    assert "FLASK_DATA_KEY" in str(refused.value)
    assert not (tmp_path / "data_key").exists()


def test_production_refuses_a_key_that_is_not_a_fernet_key(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_DATA_KEY", raising=False)
    with pytest.raises(ProductionSettingsError, match="key 2 is not a Fernet key"):
        _settings(tmp_path, **PRODUCTION, DATA_KEY=f"{KEY},hunter2")
    assert _settings(tmp_path, **PRODUCTION, DATA_KEY=f"{KEY}, {KEY}")["DATA_KEY"]


def test_development_makes_its_own_key_once_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_DATA_KEY", raising=False)
    monkeypatch.delenv("FLASK_ENV_NAME", raising=False)
    first = _settings(tmp_path / "instance")["DATA_KEY"]
    key_file = tmp_path / "instance" / "data_key"
    Fernet(first.encode())  # a real key
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert _settings(tmp_path / "instance")["DATA_KEY"] == first  # the next start reads it
    assert _settings(tmp_path / "elsewhere")["DATA_KEY"] != first


def test_a_configured_data_key_is_used_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_DATA_KEY", KEY)
    assert _settings(tmp_path)["DATA_KEY"] == KEY
    assert not (tmp_path / "data_key").exists()


# --- the migration ----------------------------------------------------------------------


def _flask_db(url, *args):
    env = {"FLASK_SQLALCHEMY_DATABASE_URI": url, "FLASK_DATA_KEY": KEY, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "db", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


INSERT_TYPE = sa.text(
    "INSERT INTO consultation_type (id, slug, name, summary, duration_minutes, buffer_minutes,"
    " price_cents, currency, offers_phone, offers_video, active, position)"
    " VALUES (1, 'initial', 'Initial', '', 60, 0, 35000, 'usd', TRUE, FALSE, TRUE, 0)"
)
INSERT_BOOKING = sa.text(
    "INSERT INTO booking (id, public_id, consultation_type_id, status, starts_at, ends_at,"
    " buffer_ends_at, name, email, phone, client_timezone, call_type, age_range, t_scores,"
    " fractures, medications, goals, policy_accepted_at, price_cents, currency, paid_cents,"
    " refunded_cents, ics_sequence, created_at, updated_at)"
    " VALUES (1, 'abc', 1, 'confirmed', :start, :end, :end, 'Margaret', 'm@example.com', '1',"
    " 'UTC', 'phone', '', 'spine -2.6', 'Wrist, 2019', 'None', 'Walk again', :start, 35000,"
    " 'usd', 35000, 0, 0, :start, :start)"
)


def _intake(engine):
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                sa.text("SELECT t_scores, fractures, medications, goals FROM booking")
            ).one()
        )


def _encrypts_and_decrypts(url):
    engine = sa.create_engine(url)
    try:
        _flask_db(url, "upgrade", BEFORE)
        start = datetime.now(UTC) + timedelta(days=3)
        with engine.begin() as conn:
            conn.execute(INSERT_TYPE)
            conn.execute(INSERT_BOOKING, {"start": start, "end": start + timedelta(hours=1)})
        plain = _intake(engine)

        _flask_db(url, "upgrade")
        stored = _intake(engine)
        assert all(value.startswith("gAAAA") for value in stored)
        fernet = Fernet(KEY.encode())
        assert tuple(fernet.decrypt(v.encode()).decode() for v in stored) == plain

        _flask_db(url, "downgrade", BEFORE)
        assert _intake(engine) == plain
    finally:
        engine.dispose()


def test_the_migration_encrypts_existing_answers_on_sqlite(tmp_path):
    _encrypts_and_decrypts(f"sqlite:///{tmp_path / 'migrated.db'}")


@pytest.mark.postgres_only
def test_the_migration_encrypts_existing_answers_on_postgresql():
    with empty_postgresql_schema() as url:
        _encrypts_and_decrypts(url)
