"""customer accounts (issue #18): one account per verified address, and the codes
emailed to sign in or to confirm a download or a deletion (only their HMACs stored).

Revision ID: 3a8f1c6d2e90
Revises: 7b3e9c2d4a61
Create Date: 2026-12-05 10:20:00.000000

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "3a8f1c6d2e90"
down_revision = "7b3e9c2d4a61"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), server_default="", nullable=False),
        sa.Column("session_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer")),
        sa.UniqueConstraint("email", name=op.f("uq_customer_email")),
    )
    op.create_table(
        "account_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("link_hash", sa.String(length=64), nullable=True),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("failures >= 0", name=op.f("ck_account_code_failures_not_negative")),
        sa.CheckConstraint(
            "purpose IN ('sign_in', 'confirm')", name=op.f("ck_account_code_purpose_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_code")),
        sa.UniqueConstraint("link_hash", name=op.f("uq_account_code_link_hash")),
    )
    op.create_index("ix_account_code_email_purpose", "account_code", ["email", "purpose"])


def downgrade():
    op.drop_index("ix_account_code_email_purpose", table_name="account_code")
    op.drop_table("account_code")
    op.drop_table("customer")
