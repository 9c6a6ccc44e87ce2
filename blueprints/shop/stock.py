"""Stock held and given back by conditional updates, and the pages that show it."""

from sqlalchemy import select, update

from blueprints.core.cache_tags import invalidate_after_commit
from blueprints.shop import cache_tags
from blueprints.shop.models import Product, Variant
from extensions import db


def stock_changed(*variant_ids):
    """Clear the pages that show these variants' stock once the change commits: their
    product pages and the catalogue's sold-out marks."""
    slugs = db.session.scalars(
        select(Product.slug)
        .join(Variant, Variant.product_id == Product.id)
        .where(Variant.id.in_(variant_ids))
    ).all()
    invalidate_after_commit(cache_tags.STOCK, *{cache_tags.product_page(slug) for slug in slugs})


def take_stock(variant_id, quantity):
    """Take ``quantity`` of a limited variant if that many are left: one conditional
    UPDATE, so two buyers can never take the last one. True when taken."""
    result = db.session.execute(
        update(Variant)
        .where(Variant.id == variant_id, Variant.stock >= quantity)
        .values(stock=Variant.stock - quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        stock_changed(variant_id)
    return result.rowcount == 1


def release_stock(order):
    """Give back the stock the order holds; only a status change's winner calls it."""
    for line in order.lines:
        if line.stock_held:
            db.session.execute(
                update(Variant)
                .where(Variant.id == line.variant_id)
                .values(stock=Variant.stock + line.quantity)
                .execution_options(synchronize_session=False)
            )
            line.stock_held = False
            stock_changed(line.variant_id)
    db.session.flush()
