"""pages: the practice's editable pages (About, Contact, Privacy, Terms, Shipping)

Revision ID: 279c05ddfd76
Revises: 6e0f394014a4
Create Date: 2026-12-05 11:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "279c05ddfd76"
down_revision = "6e0f394014a4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "slug IN ('about', 'contact', 'privacy', 'terms', 'shipping-returns')",
            name=op.f("ck_page_page_slug_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page")),
        sa.UniqueConstraint("slug", name=op.f("uq_page_slug")),
    )


def downgrade():
    op.drop_table("page")
