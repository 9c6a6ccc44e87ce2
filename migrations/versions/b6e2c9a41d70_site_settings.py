"""site settings: values staff set for the whole site, by key (the first is the usual
video room for consultations, which before came only from ``BOOKING_MEETING_URL``)

Revision ID: b6e2c9a41d70
Revises: f3b8d2a6c914
Create Date: 2026-12-06 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b6e2c9a41d70"
down_revision = "f3b8d2a6c914"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "site_setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_site_setting")),
    )


def downgrade():
    op.drop_table("site_setting")
