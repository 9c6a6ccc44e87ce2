"""Migration f3b8d2a6c914: old free-text citations become records without losing a word,
on SQLite (the post's search triggers survive) and PostgreSQL, and come back on downgrade."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.conftest import empty_postgresql_schema
from tests.core.test_migrations import _flask_db, _upgrade_then_check

BEFORE = "279c05ddfd76"
NLM = (
    "Lee D-Y, et al. Relationship between bone mineral density and spinal muscle area in "
    "magnetic resonance imaging. J Bone Metab. 2015;22(4):197-204. "
    "doi:10.11005/jbm.2015.22.4.197. PMID: 26713311."
)
# A month after the year: the parts would drop it, so the text stays whole.
WITH_MONTH = "Sinaki M, et al. Stronger back muscles. Bone. 2002 Jun;30(6):836-841."
BOOK = "Brown SE. Better Bones, Better Body. Keats;  2000."


def _run(url, *args):
    result = _flask_db(url, *args)
    assert result.returncode == 0, result.stdout + result.stderr


def _old_rows(engine):
    now = datetime.now(UTC)
    with engine.begin() as conn:
        post_id = conn.execute(
            sa.text(
                "INSERT INTO post (slug, title, summary, body_md, body_html, author_name,"
                " status, published_at, created_at, updated_at) VALUES ('old', 'Old', '',"
                " 'Text', '<p>Text</p>', 'Dr. Brown', 'published', :now, :now, :now)"
                " RETURNING id"
            ),
            {"now": now},
        ).scalar_one()
        for position, citation, url in (
            (1, NLM, None),
            (2, WITH_MONTH, None),
            (3, BOOK, "https://example.org/book"),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO reference (post_id, position, citation, url)"
                    " VALUES (:post, :position, :citation, :url)"
                ),
                {"post": post_id, "position": position, "citation": citation, "url": url},
            )


def _convert_and_back(url, engine):
    _run(url, "upgrade", BEFORE)
    _old_rows(engine)
    _run(url, "upgrade")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM reference ORDER BY position")).mappings().all()
        reviewer = conn.execute(sa.text("SELECT reviewer_name FROM post")).scalar_one()
    lee, sinaki, book = rows
    assert (lee["authors"], lee["journal"], lee["year"]) == ("Lee D-Y, et al", "J Bone Metab", 2015)
    assert (lee["volume"], lee["issue"], lee["pages"]) == ("22", "4", "197-204")
    assert lee["title"].startswith("Relationship between") and lee["title"].endswith("imaging.")
    assert (lee["doi"], lee["pmid"]) == ("10.11005/jbm.2015.22.4.197", "26713311")
    assert (sinaki["title"], sinaki["authors"], sinaki["year"]) == (WITH_MONTH, "", None)
    assert book["title"] == " ".join(BOOK.split()) and book["url"] == "https://example.org/book"
    assert reviewer is None
    if engine.dialect.name == "sqlite":  # the post table kept its search triggers
        with engine.connect() as conn:
            triggers = conn.scalars(
                sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).all()
        assert {"post_search_after_update", "post_words_after_update"} <= set(triggers)

    _run(url, "downgrade", BEFORE)
    with engine.connect() as conn:
        citations = conn.scalars(sa.text("SELECT citation FROM reference ORDER BY position")).all()
    assert citations[0] == NLM
    assert citations[1:] == [WITH_MONTH, " ".join(BOOK.split())]
    _upgrade_then_check(url)


def test_old_citations_become_records_and_come_back_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    engine = sa.create_engine(url)
    try:
        _convert_and_back(url, engine)
    finally:
        engine.dispose()


@pytest.mark.postgres_only
def test_old_citations_become_records_and_come_back_on_postgresql():
    with empty_postgresql_schema() as url:
        engine = sa.create_engine(url)
        try:
            _convert_and_back(url, engine)
        finally:
            engine.dispose()
