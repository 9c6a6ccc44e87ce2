"""booking meeting link (issue #20): the video room staff set for one consultation.

Revision ID: 0a5283f63286
Revises: c7d41e9a5b23
Create Date: 2026-12-05 10:40:00.000000

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0a5283f63286"
down_revision = "c7d41e9a5b23"
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN (SQLite 3.35+ has both): a batch operation would copy the table
# on SQLite and lose the expression index on lower(email) it cannot reflect.
def upgrade():
    op.add_column("booking", sa.Column("meeting_url", sa.String(length=500), nullable=True))


def downgrade():
    op.drop_column("booking", "meeting_url")
