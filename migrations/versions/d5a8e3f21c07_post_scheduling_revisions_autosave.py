"""post editor (issue #20, part 3): scheduled posts (``post.publish_at``, the status
``scheduled``), revisions (``post_revision``) and the editor's autosave
(``post_autosave``).

SQLite cannot alter a CHECK constraint, and rebuilding ``post`` (batch mode) would drop
the search triggers; the status constraint is widened in the table's stored definition
instead, as SQLite's documentation describes for loosening a constraint (``ALTER
TABLE``, "making other kinds of table schema changes"). PostgreSQL replaces it.

Revision ID: d5a8e3f21c07
Revises: dd6520af4c59
Create Date: 2026-12-05 13:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d5a8e3f21c07"
down_revision = "dd6520af4c59"
branch_labels = None
depends_on = None

OLD_CHECK = "status IN ('draft', 'published')"
NEW_CHECK = "status IN ('draft', 'published', 'scheduled')"
CONSTRAINT = "ck_post_post_status"


def _replace_status_check(old, new):
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
        bind.exec_driver_sql("PRAGMA writable_schema = ON")
        bind.execute(
            sa.text(
                "UPDATE sqlite_master SET sql = replace(sql, :old, :new)"
                " WHERE type = 'table' AND name = 'post'"
            ),
            {"old": f"CHECK ({old})", "new": f"CHECK ({new})"},
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    else:
        op.drop_constraint(op.f(CONSTRAINT), "post", type_="check")
        op.create_check_constraint(op.f(CONSTRAINT), "post", new)


def upgrade():
    op.add_column("post", sa.Column("publish_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_post_status_publish_at", "post", ["status", "publish_at"])
    _replace_status_check(OLD_CHECK, NEW_CHECK)

    op.create_table(
        "post_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("note", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user.id"],
            name=op.f("fk_post_revision_author_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["post.id"], name=op.f("fk_post_revision_post_id_post"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_revision")),
    )
    op.create_index("ix_post_revision_post_id_id", "post_revision", ["post_id", "id"])

    op.create_table(
        "post_autosave",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("slot", sa.String(length=40), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["post.id"], name=op.f("fk_post_autosave_post_id_post"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_post_autosave_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_autosave")),
        sa.UniqueConstraint("user_id", "slot", name=op.f("uq_post_autosave_user_id")),
    )
    op.create_index(op.f("ix_post_autosave_post_id"), "post_autosave", ["post_id"])


def downgrade():
    op.drop_index(op.f("ix_post_autosave_post_id"), table_name="post_autosave")
    op.drop_table("post_autosave")
    op.drop_index("ix_post_revision_post_id_id", table_name="post_revision")
    op.drop_table("post_revision")
    # A post still waiting for its time goes back to being a draft.
    op.execute("UPDATE post SET status = 'draft' WHERE status = 'scheduled'")
    _replace_status_check(NEW_CHECK, OLD_CHECK)
    op.drop_index("ix_post_status_publish_at", table_name="post")
    op.drop_column("post", "publish_at")
