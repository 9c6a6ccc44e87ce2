"""Staff edits to the catalogue: products and their variants (prices, stock).

A new slug or SKU is written inside a savepoint: when another staff member saved the
same one a moment earlier, the UNIQUE constraint refuses it and the form says so (a
check before the insert could not see a save that has not committed yet).
"""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from blueprints.core.audit import record_staff_action
from blueprints.core.cache_tags import invalidate_after_commit
from blueprints.core.markdown import render_post
from blueprints.shop import cache_tags
from blueprints.shop.errors import SkuTaken, SlugTaken
from blueprints.shop.models import Product, Variant
from extensions import db


def _in_use(column, value, row):
    """Whether a row other than ``row`` has ``value`` in ``column``."""
    model = column.class_
    query = select(model.id).where(column == value)
    if row is not None and row.id is not None:
        query = query.where(model.id != row.id)
    return db.session.scalar(query) is not None


def _save(row, fields, unique_column, taken_error):
    """Write ``fields`` on ``row`` (added when new) in a savepoint; raise ``taken_error``
    when ``unique_column``'s value is someone else's."""
    value = fields[unique_column.key]
    if _in_use(unique_column, value, row):
        raise taken_error()
    try:
        with db.session.begin_nested():
            for name, field_value in fields.items():
                setattr(row, name, field_value)
            db.session.add(row)
    except IntegrityError:
        if _in_use(unique_column, value, row):
            raise taken_error() from None
        raise
    return row


# Longer text (a description) is only named as changed: the audit entry stays short.
_SHORT_TEXT = 80


def _changes(row, fields):
    """``{column: [before, after]}`` of the ``fields`` that would change ``row`` (long
    text as ``"changed"``), read before they are written."""
    changed = {}
    for name, value in fields.items():
        before = getattr(row, name)
        if name == "description_html" or before == value or (before in (None, "") and not value):
            continue
        long = any(isinstance(v, str) and len(v) > _SHORT_TEXT for v in (before, value))
        changed[name] = "changed" if long else [before, value]
    return changed


def _audit(actor, kind, row, changed, *, created, shown):
    """One entry on ``row``: a new one with its ``shown`` columns, a changed one with the
    first of them (its name) and what changed."""
    action = f"{kind}.create" if created else f"{kind}.update"
    if created:
        detail = {name: getattr(row, name) for name in shown}
    else:
        detail = {shown[0]: getattr(row, shown[0]), "changed": changed}
    record_staff_action(actor.id, action, kind, row.id, detail)


def save_product(product, fields, *, actor):
    """Create (``product`` None) or update a product from ``fields`` (column: value) for
    staff ``actor``, with one audit entry naming what changed. Renders its description
    once, here. Raises :class:`SlugTaken`. Flushes."""
    fields = {**fields, "description_html": render_post(fields.get("description_md") or "")}
    created = product is None
    changed = {} if created else _changes(product, fields)
    product = _save(product or Product(), fields, Product.slug, SlugTaken)
    _audit(actor, "product", product, changed, created=created, shown=("name", "slug"))
    # Names, prices and addresses show on every shop page.
    invalidate_after_commit(cache_tags.CATALOGUE)
    return product


def save_variant(product, variant, fields, *, actor):
    """Create (``variant`` None) or update one of ``product``'s variants from ``fields``
    (sku, name, price_cents, stock: None for unlimited, active) for staff ``actor``, with
    one audit entry naming what changed (a price, the stock). Raises :class:`SkuTaken`.
    Flushes."""
    created = variant is None
    changed = {} if created else _changes(variant, fields)
    # By id, not by relationship: appending to product.variants would add it to the
    # session at once, and the next query would insert it outside the savepoint.
    variant = _save(variant or Variant(product_id=product.id), fields, Variant.sku, SkuTaken)
    shown = ("sku", "product_id", "price_cents", "stock")
    _audit(actor, "variant", variant, changed, created=created, shown=shown)
    invalidate_after_commit(cache_tags.CATALOGUE, cache_tags.STOCK)
    return variant
