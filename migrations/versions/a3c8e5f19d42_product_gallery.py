"""product gallery: each product's ordered pictures from the media library

Revision ID: a3c8e5f19d42
Revises: 5a1c2e8d9f30
Create Date: 2026-12-05 13:05:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a3c8e5f19d42"
down_revision = "5a1c2e8d9f30"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "product_image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("position >= 0", name=op.f("ck_product_image_position_not_negative")),
        sa.ForeignKeyConstraint(
            ["image_id"], ["media_image.id"], name=op.f("fk_product_image_image_id_media_image")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_product_image_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_image")),
        sa.UniqueConstraint("product_id", "image_id", name=op.f("uq_product_image_image")),
        sa.UniqueConstraint("product_id", "position", name=op.f("uq_product_image_position")),
    )
    op.create_index(
        op.f("ix_product_image_image_id"), "product_image", ["image_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_product_image_image_id"), table_name="product_image")
    op.drop_table("product_image")
