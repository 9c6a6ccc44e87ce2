"""comment by_staff: the "Author" badge of a reply written by someone signed in as staff
(issue #17, finding 2). Every existing comment came from the public form: false.

Revision ID: 7b3e9c2d4a61
Revises: 88209cc7afb3
Create Date: 2026-12-06 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7b3e9c2d4a61"
down_revision = "88209cc7afb3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("by_staff", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.drop_column("by_staff")
