"""staff code failures counted on the account (issue 17, finding 8): wrong codes at the
second sign-in step are counted on the user row, not in the replayable session

Revision ID: 88209cc7afb3
Revises: 7a3c5e9b1d42
Create Date: 2026-12-05 08:31:38.012659

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '88209cc7afb3'
down_revision = '7a3c5e9b1d42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('totp_locked_until', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('totp_locked_until')
        batch_op.drop_column('totp_failures')

