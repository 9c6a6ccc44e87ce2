"""Migrations build the same schema as the models, on SQLite and on PostgreSQL."""

import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_DATABASE_URL


def _flask_db(url, *args):
    env = {"FLASK_SQLALCHEMY_DATABASE_URI": url, "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "db", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _upgrade_then_check(url):
    upgrade = _flask_db(url, "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    check = _flask_db(url, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr


def test_upgrade_builds_schema_matching_models_on_sqlite(tmp_path):
    _upgrade_then_check(f"sqlite:///{tmp_path / 'migrated.db'}")


@pytest.mark.postgres_only
def test_upgrade_builds_schema_matching_models_on_postgresql():
    schema = f"mig_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(TEST_DATABASE_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        sep = "&" if "?" in TEST_DATABASE_URL else "?"
        _upgrade_then_check(f"{TEST_DATABASE_URL}{sep}options=-csearch_path%3D{schema}")
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
