"""page indexes: ordered post listing, comment replies

The blog's list pages read published posts newest first with the id as tie-break;
(status, published_at, id) serves that order straight from the index (no sort, and a
cheap offset on deep pages). Deleting a comment deletes its replies by parent_id.

Revision ID: 9f44b528fef9
Revises: 22afe3969f50
Create Date: 2026-11-28 05:49:41.711314

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "9f44b528fef9"
down_revision = "22afe3969f50"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_comment_parent_id", "comment", ["parent_id"], unique=False)
    op.drop_index("ix_post_status_published_at", table_name="post")
    op.create_index(
        "ix_post_status_published_at_id", "post", ["status", "published_at", "id"], unique=False
    )


def downgrade():
    op.drop_index("ix_post_status_published_at_id", table_name="post")
    op.create_index("ix_post_status_published_at", "post", ["status", "published_at"], unique=False)
    op.drop_index("ix_comment_parent_id", table_name="comment")
