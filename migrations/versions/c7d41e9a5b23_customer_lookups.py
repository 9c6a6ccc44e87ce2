"""customer lookups (issues #18.5, #20.5): staff's order list by date, and a customer's
orders and bookings found by her address in any case.

Revision ID: c7d41e9a5b23
Revises: 97e0cd2b7bbb
Create Date: 2026-12-05 10:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c7d41e9a5b23"
down_revision = "97e0cd2b7bbb"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_order_created_at", "order", ["created_at"], unique=False)
    op.create_index("ix_order_email_lower", "order", [sa.text("lower(email)")], unique=False)
    op.create_index("ix_booking_email_lower", "booking", [sa.text("lower(email)")], unique=False)


def downgrade():
    op.drop_index("ix_booking_email_lower", table_name="booking")
    op.drop_index("ix_order_email_lower", table_name="order")
    op.drop_index("ix_order_created_at", table_name="order")
