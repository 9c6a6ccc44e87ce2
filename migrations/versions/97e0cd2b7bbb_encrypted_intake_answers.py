"""encrypted intake answers (issue #18.3): a booking's T-scores, fractures, medications
and goals are stored as Fernet tokens made with FLASK_DATA_KEY, and intake_erased_at
records when the retention purge (or a deleted account) erased them.

The rows already there are encrypted here, with the first key of the app's DATA_KEY
(production: FLASK_DATA_KEY; development: instance/data_key). Like every migration this
imports nothing of the project: the few lines of Fernet below mirror core/crypto.py.

Revision ID: 97e0cd2b7bbb
Revises: 735665e29967
Create Date: 2026-12-05 10:20:00.000000

"""

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, MultiFernet
from flask import current_app

# revision identifiers, used by Alembic.
revision = "97e0cd2b7bbb"
down_revision = "735665e29967"
branch_labels = None
depends_on = None

INTAKE = ("t_scores", "fractures", "medications", "goals")


def _cipher():
    setting = current_app.config.get("DATA_KEY") or ""
    if isinstance(setting, list | tuple):
        setting = ",".join(setting)
    keys = [Fernet(part.strip().encode()) for part in setting.split(",") if part.strip()]
    if not keys:
        raise RuntimeError("FLASK_DATA_KEY is not set: the intake answers cannot be encrypted.")
    return MultiFernet(keys)


def _rewrite(change):
    """Each booking's intake answers passed through ``change(column, text)``."""
    booking = sa.table("booking", sa.column("id"), *(sa.column(name) for name in INTAKE))
    conn = op.get_bind()
    rows = conn.execute(sa.select(booking)).mappings().all()
    for row in rows:
        values = {name: change(name, row[name] or "") for name in INTAKE}
        conn.execute(booking.update().where(booking.c.id == row["id"]).values(**values))


def upgrade():
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("intake_erased_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.alter_column(
            "t_scores",
            existing_type=sa.String(length=200),
            type_=sa.Text(),
            existing_nullable=False,
        )
    cipher = _cipher()
    _rewrite(lambda _name, text: cipher.encrypt(text.encode("utf-8")).decode("ascii"))


def downgrade():
    cipher = _cipher()

    def decrypt(name, token):
        text = cipher.decrypt(token.encode("ascii")).decode("utf-8")
        return text[:200] if name == "t_scores" else text  # its old column's length

    _rewrite(decrypt)
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.alter_column(
            "t_scores",
            existing_type=sa.Text(),
            type_=sa.String(length=200),
            existing_nullable=False,
        )
        batch_op.drop_column("intake_erased_at")
