"""booking_event.money_cents: the money each row of a booking's history moved, so the
dashboard can count consultation fees taken and refunded by when it happened

Revision ID: 5a1c2e8d9f30
Revises: 279c05ddfd76
Create Date: 2026-12-05 13:10:00.000000

"""

import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5a1c2e8d9f30"
down_revision = "279c05ddfd76"
branch_labels = None
depends_on = None

# The kinds that move money; each holds ``amount_cents`` in its JSON detail
# (refund_recorded: the booking's refunded total so far, as Stripe reported it).
_PAID = "paid"
_REFUNDS = ("refunded", "late_payment_refunded")
_RECORDED = "refund_recorded"


def _backfill(connection):
    event = sa.table(
        "booking_event",
        sa.column("id", sa.Integer),
        sa.column("booking_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("detail", sa.Text),
        sa.column("money_cents", sa.Integer),
    )
    rows = connection.execute(
        sa.select(event.c.id, event.c.booking_id, event.c.kind, event.c.detail)
        .where(event.c.kind.in_((_PAID, _RECORDED, *_REFUNDS)))
        .order_by(event.c.booking_id, event.c.id)
    ).all()
    paid, refunded = set(), {}
    for row in rows:
        amount = int(json.loads(row.detail or "{}").get("amount_cents") or 0)
        if row.kind == _PAID:
            paid.add(row.booking_id)
            money = amount
        elif row.booking_id not in paid:
            # A payment of the wrong amount, given back at once: nothing was counted.
            continue
        else:
            so_far = refunded.get(row.booking_id, 0)
            total = amount if row.kind == _RECORDED else so_far + amount
            refunded[row.booking_id] = total
            money = -(total - so_far)
        connection.execute(
            event.update().where(event.c.id == row.id).values(money_cents=money)
        )


def upgrade():
    op.add_column("booking_event", sa.Column("money_cents", sa.Integer(), nullable=True))
    _backfill(op.get_bind())


def downgrade():
    op.drop_column("booking_event", "money_cents")
