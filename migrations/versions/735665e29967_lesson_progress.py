"""lesson progress (issue #18): the lessons of a bought program a customer marked done.

Revision ID: 735665e29967
Revises: 3a8f1c6d2e90
Create Date: 2026-12-05 10:15:00.000000

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "735665e29967"
down_revision = "3a8f1c6d2e90"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lesson_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_lesson_progress_customer_id_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["program_lesson.id"],
            name=op.f("fk_lesson_progress_lesson_id_program_lesson"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_progress")),
        sa.UniqueConstraint(
            "customer_id", "lesson_id", name=op.f("uq_lesson_progress_customer_id")
        ),
    )
    op.create_index(
        op.f("ix_lesson_progress_lesson_id"), "lesson_progress", ["lesson_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_lesson_progress_lesson_id"), table_name="lesson_progress")
    op.drop_table("lesson_progress")
