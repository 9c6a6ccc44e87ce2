"""staff roles and the audit log (issue #20, part 7), and reply notices (part 4):
``user.role`` (owner or assistant; every existing staff account becomes an owner),
``staff_invitation`` (emailed single-use links), ``audit_entry`` (append-only: PostgreSQL
refuses an UPDATE or DELETE by trigger), and ``reply_notice_opt_out`` (commenters who
asked not to be emailed when Dr. Brown replies).

Revision ID: c4e1a9f07b35
Revises: 0a5283f63286
Create Date: 2026-12-05 10:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4e1a9f07b35"
down_revision = "0a5283f63286"
branch_labels = None
depends_on = None

ROLE = sa.Enum(
    "owner", "assistant", name="staff_role", native_enum=False, create_constraint=True, length=32
)
APPEND_ONLY = (
    """CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit_entry is append-only';
    END;
    $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()""",
)


def upgrade():
    # Existing staff accounts were all made by the owner's command line: owners. New
    # rows get their role from the application (an assistant unless said otherwise).
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", ROLE, server_default="owner", nullable=False))
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.alter_column("role", existing_type=ROLE, server_default=None)

    op.create_table(
        "staff_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", ROLE, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invited_by_id"], ["user.id"], name=op.f("fk_staff_invitation_invited_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_staff_invitation_user_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_invitation_token_hash")),
    )
    op.create_index("ix_staff_invitation_email", "staff_invitation", ["email"])

    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("record_type", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user.id"], name=op.f("fk_audit_entry_actor_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    op.create_index("ix_audit_entry_created_at", "audit_entry", ["created_at"])
    op.create_index("ix_audit_entry_actor_id_created_at", "audit_entry", ["actor_id", "created_at"])
    op.create_index("ix_audit_entry_record", "audit_entry", ["record_type", "record_id"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in APPEND_ONLY:
            op.execute(statement)

    op.create_table(
        "reply_notice_opt_out",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_notice_opt_out")),
        sa.UniqueConstraint("email", name=op.f("uq_reply_notice_opt_out_email")),
    )


def downgrade():
    op.drop_table("reply_notice_opt_out")
    op.drop_table("audit_entry")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")
    op.drop_index("ix_staff_invitation_email", table_name="staff_invitation")
    op.drop_table("staff_invitation")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_staff_role"), type_="check")
        batch_op.drop_column("role")
