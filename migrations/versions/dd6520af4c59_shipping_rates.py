"""shipping: rates per country (seeded for the United States and Canada), and what
each order paid for shipping

Revision ID: dd6520af4c59
Revises: a3c8e5f19d42
Create Date: 2026-12-05 13:10:00.000000

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "dd6520af4c59"
down_revision = "a3c8e5f19d42"
branch_labels = None
depends_on = None

# The rates the site starts with (staff change them in the admin, Shipping).
RATES = [
    ("US", "Standard", 3, 5, 1200, 0),
    ("US", "Express", 1, 2, 2900, 1),
    ("CA", "Standard", 5, 10, 2400, 2),
]


def upgrade():
    rate = op.create_table(
        "shipping_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("min_days", sa.Integer(), nullable=True),
        sa.Column("max_days", sa.Integer(), nullable=True),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_cents >= 0", name=op.f("ck_shipping_rate_amount_not_negative")),
        sa.CheckConstraint("country IN ('US', 'CA')", name=op.f("ck_shipping_rate_country_known")),
        sa.CheckConstraint(
            "(min_days IS NULL OR min_days >= 1) AND (max_days IS NULL OR max_days >= 1)"
            " AND (min_days IS NULL OR max_days IS NULL OR min_days <= max_days)",
            name=op.f("ck_shipping_rate_days_in_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipping_rate")),
        sa.UniqueConstraint("country", "name", name=op.f("uq_shipping_rate_country")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        rate,
        [
            {
                "country": country,
                "name": name,
                "min_days": low,
                "max_days": high,
                "amount_cents": cents,
                "currency": "usd",
                "position": position,
                "active": True,
                "updated_at": now,
            }
            for country, name, low, high, cents, position in RATES
        ],
    )
    # Plain ADD COLUMN (with its CHECK) on both databases: no table rebuild.
    op.add_column(
        "order",
        sa.Column(
            "shipping_cents",
            sa.Integer(),
            sa.CheckConstraint("shipping_cents >= 0", name=op.f("ck_order_shipping_not_negative")),
            server_default="0",
            nullable=False,
        ),
    )
    op.add_column("order", sa.Column("shipping_method", sa.String(length=200), nullable=True))
    op.add_column("order", sa.Column("shipping_offered", sa.JSON(), nullable=True))


def downgrade():
    op.drop_column("order", "shipping_offered")
    op.drop_column("order", "shipping_method")
    # Its column CHECK goes with it, on both databases.
    op.drop_column("order", "shipping_cents")
    op.drop_table("shipping_rate")
