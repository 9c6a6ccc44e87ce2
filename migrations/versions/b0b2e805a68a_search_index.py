"""search index: trigram indexes over post title, summary and body

Blog search looks for substrings (``ILIKE '%term%'``), which no B-tree index can
answer. Each database gets a trigram index of its own:

- PostgreSQL: the ``pg_trgm`` extension (trusted since PostgreSQL 13, so the database
  owner may create it) and a GIN trigram index on each of title, summary and body,
  without a pending list (``fastupdate = off``: posts are few and rarely written, and
  every search would read the list). The downgrade keeps the extension: other objects
  may use it.
- SQLite: an FTS5 table with the ``trigram`` tokenizer that reads the post table
  (external content), filled here, and triggers that keep it in step.

A later migration that rebuilds ``post`` on SQLite (``op.batch_alter_table`` copies the
table and drops the old one) drops these triggers with it: such a migration must run
``SQLITE_DROP`` before and ``SQLITE_CREATE`` after (the rebuild refills the index).

The SQL is copied from ``blueprints/blog/models.py`` on purpose: a migration must keep
building what it built when it was written.

Revision ID: b0b2e805a68a
Revises: 35929d03f629
Create Date: 2026-11-28 15:24:07.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b0b2e805a68a"
down_revision = "35929d03f629"
branch_labels = None
depends_on = None

SEARCHED_COLUMNS = ("title", "summary", "body_md")
SQLITE_CREATE = (
    """CREATE VIRTUAL TABLE post_search USING fts5(
        title, summary, body_md, content='post', content_rowid='id', tokenize='trigram'
    )""",
    """CREATE TRIGGER post_search_after_insert AFTER INSERT ON post BEGIN
        INSERT INTO post_search (rowid, title, summary, body_md)
        VALUES (new.id, new.title, new.summary, new.body_md);
    END""",
    """CREATE TRIGGER post_search_after_delete AFTER DELETE ON post BEGIN
        INSERT INTO post_search (post_search, rowid, title, summary, body_md)
        VALUES ('delete', old.id, old.title, old.summary, old.body_md);
    END""",
    """CREATE TRIGGER post_search_after_update AFTER UPDATE OF title, summary, body_md
    ON post BEGIN
        INSERT INTO post_search (post_search, rowid, title, summary, body_md)
        VALUES ('delete', old.id, old.title, old.summary, old.body_md);
        INSERT INTO post_search (rowid, title, summary, body_md)
        VALUES (new.id, new.title, new.summary, new.body_md);
    END""",
    # Index the posts that are already there.
    "INSERT INTO post_search (post_search) VALUES ('rebuild')",
)
SQLITE_DROP = (
    "DROP TRIGGER post_search_after_update",
    "DROP TRIGGER post_search_after_delete",
    "DROP TRIGGER post_search_after_insert",
    "DROP TABLE post_search",
)


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # The operator class lives in the extension's schema, which need not be on
        # the search path (an extension installed earlier, in another schema).
        schema = bind.scalar(
            sa.text(
                "SELECT extnamespace::regnamespace::text FROM pg_extension"
                " WHERE extname = 'pg_trgm'"
            )
        )
        for column in SEARCHED_COLUMNS:
            op.execute(
                f"CREATE INDEX ix_post_{column}_trgm ON post"
                f" USING gin ({column} {schema}.gin_trgm_ops) WITH (fastupdate = off)"
            )
    elif bind.dialect.name == "sqlite":
        for statement in SQLITE_CREATE:
            op.execute(statement)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for column in reversed(SEARCHED_COLUMNS):
            op.drop_index(f"ix_post_{column}_trgm", table_name="post")
    elif bind.dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
