"""order access and holds: each order's own program-link key (``access_key``, filled
in for the orders already there), the keyed hash of the client that placed it
(``client_key``, indexed with ``status`` to count a visitor's open checkouts), and when
the success page last asked Stripe about it (``stripe_checked_at``).

Revision ID: 7a3c5e9b1d42
Revises: 5d1a7c3e8b40
Create Date: 2026-12-05 12:00:00.000000

"""

import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7a3c5e9b1d42"
down_revision = "5d1a7c3e8b40"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("access_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("client_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("stripe_checked_at", sa.DateTime(timezone=True)))
        batch_op.create_index(
            op.f("ix_order_client_key_status"), ["client_key", "status"], unique=False
        )
    order = sa.table("order", sa.column("id", sa.Integer), sa.column("access_key", sa.String))
    conn = op.get_bind()
    for (order_id,) in conn.execute(sa.select(order.c.id)).all():
        conn.execute(
            order.update()
            .where(order.c.id == order_id)
            .values(access_key=secrets.token_urlsafe(24))
        )


def downgrade():
    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.drop_index(op.f("ix_order_client_key_status"))
        batch_op.drop_column("stripe_checked_at")
        batch_op.drop_column("client_key")
        batch_op.drop_column("access_key")
