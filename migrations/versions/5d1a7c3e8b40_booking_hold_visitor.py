"""booking hold visitor: who asked for each hold, so each visitor's unpaid holds are counted

Two nullable columns on ``booking``: keyed hashes (``blueprints/core/visitors.py``) of
the client address and of the browser's session that asked for the hold.

Revision ID: 5d1a7c3e8b40
Revises: 5d1e8a3c7b20
Create Date: 2026-12-01 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5d1a7c3e8b40"
down_revision = "5d1e8a3c7b20"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_address_key", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("hold_session_key", sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_column("hold_session_key")
        batch_op.drop_column("hold_address_key")
