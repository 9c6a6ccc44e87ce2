"""order status: the order's ``state`` column is ``status``, as every area's state is,
with its index and CHECK constraint renamed to match (``ix_order_status_created_at``,
``ck_order_order_status``). The values are unchanged.

SQLite rebuilds the table (batch mode) to rename the CHECK constraint; PostgreSQL
renames in place.

Revision ID: 5d1e8a3c7b20
Revises: 4c6f0e2a9d17
Create Date: 2026-12-05 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5d1e8a3c7b20"
down_revision = "4c6f0e2a9d17"
branch_labels = None
depends_on = None

STATUSES = (
    "pending",
    "paid",
    "fulfilled",
    "shipped",
    "expired",
    "cancelled",
    "partially_refunded",
    "refunded",
)


def _rename(old, new):
    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.drop_index(op.f(f"ix_order_{old}_created_at"))
        batch_op.drop_constraint(op.f(f"ck_order_order_{old}"), type_="check")
        batch_op.alter_column(
            old,
            new_column_name=new,
            existing_type=sa.String(length=32),
            existing_nullable=False,
        )
    with op.batch_alter_table("order", schema=None) as batch_op:
        values = ", ".join(f"'{value}'" for value in STATUSES)
        batch_op.create_check_constraint(op.f(f"ck_order_order_{new}"), f"{new} IN ({values})")
        batch_op.create_index(
            op.f(f"ix_order_{new}_created_at"), [new, "created_at"], unique=False
        )


def upgrade():
    _rename("state", "status")


def downgrade():
    _rename("status", "state")
