"""Migrations build the same schema as the models, on SQLite and on PostgreSQL."""

import subprocess
import sys
import uuid
from datetime import UTC, datetime

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


# --- the search index (b0b2e805a68a) ---------------------------------------------------------

BEFORE_SEARCH_INDEX = "35929d03f629"
INSERT_POST = sa.text(
    "INSERT INTO post (slug, title, summary, body_md, body_html, author_name, status,"
    " published_at, created_at, updated_at) VALUES ('older', 'An older post', '',"
    " 'Written before the index: ossification.', '<p>x</p>', 'Dr. Brown', 'published',"
    " :now, :now, :now)"
)


def _run(url, *args):
    result = _flask_db(url, *args)
    assert result.returncode == 0, result.stdout + result.stderr


def _search_objects(engine):
    """The search index's objects the database holds, by name."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE name LIKE 'post_search%'"
        else:
            query = "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_post_%_trgm'"
            query += " AND schemaname = current_schema()"
        return set(conn.scalars(sa.text(query)))


def _upgrade_downgrade_upgrade(url, engine, expected):
    _run(url, "upgrade", BEFORE_SEARCH_INDEX)
    with engine.begin() as conn:
        conn.execute(INSERT_POST, {"now": datetime.now(UTC)})
    _run(url, "upgrade")
    assert _search_objects(engine) == expected
    if engine.dialect.name == "sqlite":
        # The migration indexed the post that was already there.
        with engine.connect() as conn:
            found = conn.scalars(
                sa.text("SELECT rowid FROM post_search WHERE post_search MATCH '\"ossif\"'")
            ).all()
        assert len(found) == 1
    _run(url, "downgrade")
    assert _search_objects(engine) == set()
    _upgrade_then_check(url)
    assert _search_objects(engine) == expected


def test_search_index_upgrades_fills_and_downgrades_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    engine = sa.create_engine(url)
    expected = {
        "post_search",
        "post_search_data",
        "post_search_idx",
        "post_search_docsize",
        "post_search_config",
        "post_search_after_insert",
        "post_search_after_update",
        "post_search_after_delete",
    }
    try:
        _upgrade_downgrade_upgrade(url, engine, expected)
    finally:
        engine.dispose()


@pytest.mark.postgres_only
def test_search_index_upgrades_and_downgrades_on_postgresql():
    schema = f"mig_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(TEST_DATABASE_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in TEST_DATABASE_URL else "?"
    url = f"{TEST_DATABASE_URL}{sep}options=-csearch_path%3D{schema}"
    engine = sa.create_engine(url)
    expected = {"ix_post_title_trgm", "ix_post_summary_trgm", "ix_post_body_md_trgm"}
    try:
        _upgrade_downgrade_upgrade(url, engine, expected)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
