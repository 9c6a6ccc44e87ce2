"""comment.as_author: a staff reply published as the post's author (Dr. Brown, the
Author badge) or under an assistant's own name (the team badge). Every staff reply
before this was published as the author.

Revision ID: a4c7e19b2d58
Revises: b6e2c9a41d70
Create Date: 2026-12-05 18:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a4c7e19b2d58"
down_revision = "b6e2c9a41d70"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "comment",
        sa.Column("as_author", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.execute(sa.text("UPDATE comment SET as_author = by_staff"))


def downgrade():
    with op.batch_alter_table("comment") as batch_op:
        batch_op.drop_column("as_author")
