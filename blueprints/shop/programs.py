"""What a buyer's "My programs" page lists."""

from sqlalchemy import select

from blueprints.shop.models import Product, ProgramAccess
from extensions import db


def programs_for_email(email):
    """Products the email has live access to (deduplicated, in shop order)."""
    return db.session.scalars(
        select(Product)
        .join(ProgramAccess, ProgramAccess.product_id == Product.id)
        .where(ProgramAccess.email == email, ProgramAccess.revoked_at.is_(None))
        .distinct()
        .order_by(Product.position, Product.name)
    ).all()
