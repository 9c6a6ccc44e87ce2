"""word index: whole words of post title, summary and body, for search terms too short for trigrams

A search term of one or two characters ("K2", "D") has no trigram, so it was matched by
reading every post. It is now matched as a whole word, which these indexes answer:

- PostgreSQL: a stored generated column ``search_words``, ``to_tsvector('simple', title
  || ' ' || summary || ' ' || body_md)`` (lower case, no stemming, no stop words), and
  a GIN index on it without a pending list like the trigram indexes. (Adding the column
  rewrites the post table once.)
- SQLite: an FTS5 table with the ``unicode61`` tokenizer and no positions
  (``detail=none``) that reads the post table, filled here, and triggers that keep it in
  step. A later migration that rebuilds ``post`` on SQLite must run ``SQLITE_DROP``
  before and ``SQLITE_CREATE`` after, as for ``b0b2e805a68a``.

The SQL is copied from ``blueprints/blog/models.py`` on purpose: a migration must keep
building what it built when it was written.

Revision ID: 4c6f0e2a9d17
Revises: b0b2e805a68a
Create Date: 2026-11-29 09:10:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "4c6f0e2a9d17"
down_revision = "b0b2e805a68a"
branch_labels = None
depends_on = None

POSTGRESQL_CREATE = (
    """ALTER TABLE post ADD COLUMN search_words tsvector GENERATED ALWAYS AS
        (to_tsvector('simple'::regconfig, title || ' ' || summary || ' ' || body_md)) STORED""",
    "CREATE INDEX ix_post_words ON post USING gin (search_words) WITH (fastupdate = off)",
)
SQLITE_CREATE = (
    """CREATE VIRTUAL TABLE post_words USING fts5(
        title, summary, body_md, content='post', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', detail=none
    )""",
    """CREATE TRIGGER post_words_after_insert AFTER INSERT ON post BEGIN
        INSERT INTO post_words (rowid, title, summary, body_md)
        VALUES (new.id, new.title, new.summary, new.body_md);
    END""",
    """CREATE TRIGGER post_words_after_delete AFTER DELETE ON post BEGIN
        INSERT INTO post_words (post_words, rowid, title, summary, body_md)
        VALUES ('delete', old.id, old.title, old.summary, old.body_md);
    END""",
    """CREATE TRIGGER post_words_after_update AFTER UPDATE OF title, summary, body_md
    ON post BEGIN
        INSERT INTO post_words (post_words, rowid, title, summary, body_md)
        VALUES ('delete', old.id, old.title, old.summary, old.body_md);
        INSERT INTO post_words (rowid, title, summary, body_md)
        VALUES (new.id, new.title, new.summary, new.body_md);
    END""",
    # Index the posts that are already there.
    "INSERT INTO post_words (post_words) VALUES ('rebuild')",
)
SQLITE_DROP = (
    "DROP TRIGGER post_words_after_update",
    "DROP TRIGGER post_words_after_delete",
    "DROP TRIGGER post_words_after_insert",
    "DROP TABLE post_words",
)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for statement in POSTGRESQL_CREATE:
            op.execute(statement)
    elif dialect == "sqlite":
        for statement in SQLITE_CREATE:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.drop_index("ix_post_words", table_name="post")
        op.drop_column("post", "search_words")
    elif dialect == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
