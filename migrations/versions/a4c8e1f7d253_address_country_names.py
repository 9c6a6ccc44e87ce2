"""Orders' shipping addresses name their country in full ("Canada"), as fulfilment now
writes them: "Toronto ON M4C 1B5 / CA" read as California on receipts and emails

Revision ID: a4c8e1f7d253
Revises: a4c7e19b2d58
Create Date: 2027-01-12 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a4c8e1f7d253"
down_revision = "a4c7e19b2d58"
branch_labels = None
depends_on = None

# The countries Checkout has collected addresses in (shop/models.py SHIPPING_COUNTRIES
# when this was written: copied, so the migration never changes with the model).
_NAMES = {"US": "United States", "CA": "Canada"}

_order = sa.table("order", sa.column("id", sa.Integer), sa.column("shipping_address", sa.Text))


def _rename_last_line(connection, names):
    """Replace the last line of each address that is exactly a key of ``names``."""
    address = _order.c.shipping_address
    rows = connection.execute(
        sa.select(_order.c.id, address).where(sa.or_(*(address.like(f"%\n{old}") for old in names)))
    ).all()
    for row in rows:
        *lines, last = row.shipping_address.split("\n")
        if last in names:
            connection.execute(
                _order.update()
                .where(_order.c.id == row.id)
                .values(shipping_address="\n".join([*lines, names[last]]))
            )


def upgrade():
    _rename_last_line(op.get_bind(), _NAMES)


def downgrade():
    _rename_last_line(op.get_bind(), {name: code for code, name in _NAMES.items()})
