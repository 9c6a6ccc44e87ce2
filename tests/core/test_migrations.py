"""Migrations build the same schema as the models, on SQLite and on PostgreSQL."""

import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.conftest import empty_postgresql_schema


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
    with empty_postgresql_schema() as url:
        _upgrade_then_check(url)


# --- the search indexes (b0b2e805a68a: trigrams; 4c6f0e2a9d17: whole words) ----------------

INSERT_POST = sa.text(
    "INSERT INTO post (slug, title, summary, body_md, body_html, author_name, status,"
    " published_at, created_at, updated_at) VALUES ('older', 'An older post', '',"
    " 'Written before the index: ossification.', '<p>x</p>', 'Dr. Brown', 'published',"
    " :now, :now, :now)"
)


@dataclass(frozen=True)
class SearchIndex:
    """One search-index migration: the revision before it, and what it builds."""

    before: str
    sqlite_prefix: str  # its FTS5 table, shadow tables and triggers
    postgresql_pattern: str  # its indexes
    postgresql_expected: frozenset
    match: str  # an FTS5 query that finds the post written before the migration

    @property
    def sqlite_expected(self):
        prefix = self.sqlite_prefix
        return {
            prefix,
            *(f"{prefix}_{shadow}" for shadow in ("data", "idx", "docsize", "config")),
            *(f"{prefix}_after_{event}" for event in ("insert", "update", "delete")),
        }


TRIGRAMS = SearchIndex(
    before="35929d03f629",
    sqlite_prefix="post_search",
    postgresql_pattern="ix_post_%_trgm",
    postgresql_expected=frozenset(
        {"ix_post_title_trgm", "ix_post_summary_trgm", "ix_post_body_md_trgm"}
    ),
    match='"ossif"',
)
WORDS = SearchIndex(
    before="b0b2e805a68a",
    sqlite_prefix="post_words",
    postgresql_pattern="ix_post_words",
    postgresql_expected=frozenset({"ix_post_words"}),
    match='"ossification"',
)


def _run(url, *args):
    result = _flask_db(url, *args)
    assert result.returncode == 0, result.stdout + result.stderr


def _search_objects(engine, index):
    """The index's objects the database holds, by name."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = f"SELECT name FROM sqlite_master WHERE name LIKE '{index.sqlite_prefix}%'"
        else:
            query = f"SELECT indexname FROM pg_indexes WHERE indexname LIKE '{index.postgresql_pattern}'"
            query += " AND schemaname = current_schema()"
        return set(conn.scalars(sa.text(query)))


def _upgrade_downgrade_upgrade(url, engine, index):
    expected = (
        index.sqlite_expected if engine.dialect.name == "sqlite" else index.postgresql_expected
    )
    _run(url, "upgrade", index.before)
    with engine.begin() as conn:
        conn.execute(INSERT_POST, {"now": datetime.now(UTC)})
    _run(url, "upgrade")
    assert _search_objects(engine, index) == expected
    if engine.dialect.name == "sqlite":
        # The migration indexed the post that was already there.
        table = index.sqlite_prefix
        with engine.connect() as conn:
            found = conn.scalars(
                sa.text(f"SELECT rowid FROM {table} WHERE {table} MATCH :match"),
                {"match": index.match},
            ).all()
        assert len(found) == 1
    _run(url, "downgrade", index.before)
    assert _search_objects(engine, index) == set()
    _upgrade_then_check(url)
    assert _search_objects(engine, index) == expected


@pytest.mark.parametrize("index", [TRIGRAMS, WORDS], ids=["trigrams", "words"])
def test_search_index_upgrades_fills_and_downgrades_on_sqlite(tmp_path, index):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    engine = sa.create_engine(url)
    try:
        _upgrade_downgrade_upgrade(url, engine, index)
    finally:
        engine.dispose()


@pytest.mark.postgres_only
@pytest.mark.parametrize("index", [TRIGRAMS, WORDS], ids=["trigrams", "words"])
def test_search_index_upgrades_and_downgrades_on_postgresql(index):
    with empty_postgresql_schema() as url:
        engine = sa.create_engine(url)
        try:
            _upgrade_downgrade_upgrade(url, engine, index)
        finally:
            engine.dispose()


@pytest.mark.postgres_only
def test_each_test_run_uses_a_postgresql_database_of_its_own(database_url):
    """Two runs (or two xdist workers) on one server never share tables: the harness
    makes a database per run from TEST_DATABASE_URL and drops it at the end (issue 17,
    finding 12). Before, every run used the fixed ``test`` database."""
    from tests import conftest

    run = sa.engine.make_url(database_url)
    server = sa.engine.make_url(conftest._SERVER_URL)
    assert run.database != server.database
    assert run.database.startswith("bb_test_")
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT current_database()")).scalar() == run.database
    engine.dispose()
