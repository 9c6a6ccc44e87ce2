"""media library (issue #20): images uploaded by staff and their renditions, kept in the
database (bytea on PostgreSQL, BLOB on SQLite), and a post's hero image.

Revision ID: 6e0f394014a4
Revises: c4e1a9f07b35
Create Date: 2026-12-05 10:10:00.000000

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "6e0f394014a4"
down_revision = "c4e1a9f07b35"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "media_image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("alt_text", sa.String(length=500), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("alt_text <> ''", name=op.f("ck_media_image_alt_text_given")),
        sa.CheckConstraint("width > 0 AND height > 0", name=op.f("ck_media_image_size_positive")),
        sa.CheckConstraint(
            "format IN ('jpeg', 'png', 'webp')", name=op.f("ck_media_image_format_known")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user.id"],
            name=op.f("fk_media_image_uploaded_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_image")),
        sa.UniqueConstraint("sha256", name=op.f("uq_media_image_sha256")),
    )
    op.create_index(
        op.f("ix_media_image_uploaded_by_id"), "media_image", ["uploaded_by_id"], unique=False
    )
    op.create_table(
        "media_rendition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint(
            "width > 0 AND height > 0", name=op.f("ck_media_rendition_size_positive")
        ),
        sa.CheckConstraint(
            "format IN ('webp', 'jpeg')", name=op.f("ck_media_rendition_format_known")
        ),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["media_image.id"],
            name=op.f("fk_media_rendition_image_id_media_image"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_rendition")),
        sa.UniqueConstraint(
            "image_id", "width", "format", name=op.f("uq_media_rendition_image_id")
        ),
    )
    _add_hero_image_column()


# SQLite rebuilds a table to change its constraints, which would drop the post table's
# search triggers (b0b2e805a68a, 4c6f0e2a9d17). It adds a column with its reference in
# place instead, and (3.35+) drops one that no index or trigger names.
SQLITE_ADD_HERO = (
    "ALTER TABLE post ADD COLUMN hero_image_id INTEGER"
    " CONSTRAINT fk_post_hero_image_id_media_image REFERENCES media_image (id)"
)


def _add_hero_image_column():
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SQLITE_ADD_HERO)
    else:
        op.add_column("post", sa.Column("hero_image_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_post_hero_image_id_media_image"),
            "post",
            "media_image",
            ["hero_image_id"],
            ["id"],
        )
    op.create_index(op.f("ix_post_hero_image_id"), "post", ["hero_image_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_post_hero_image_id"), table_name="post")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_post_hero_image_id_media_image"), "post", type_="foreignkey")
    op.drop_column("post", "hero_image_id")
    op.drop_table("media_rendition")
    op.drop_index(op.f("ix_media_image_uploaded_by_id"), table_name="media_image")
    op.drop_table("media_image")
