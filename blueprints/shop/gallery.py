"""Products' galleries: each product's pictures from the media library, in order (the
first is the one the shop lists), as pages show them and as staff change them.

Services flush, never commit; staff's views commit once.
"""

from sqlalchemy import bindparam, select

from blueprints.core.audit import record_staff_action
from blueprints.core.cache_tags import invalidate_after_commit
from blueprints.media.library import pictures
from blueprints.media.models import MediaImage
from blueprints.shop import cache_tags
from blueprints.shop.errors import NotAvailable, ShopError
from blueprints.shop.models import Product, ProductImage
from extensions import db

_GALLERY = (
    select(ProductImage.image_id)
    .where(ProductImage.product_id == bindparam("product_id"))
    .order_by(ProductImage.position)
)


def gallery(product):
    """``product``'s pictures in order (``media.library.Picture``), in two queries."""
    ids = db.session.scalars(_GALLERY, {"product_id": product.id}).all()
    found = pictures(ids)
    return [found[image_id] for image_id in ids if image_id in found]


def first_pictures(product_ids):
    """The first picture of each of ``product_ids`` that has a gallery, by product id."""
    if not product_ids:
        return {}
    rows = db.session.execute(
        select(ProductImage.product_id, ProductImage.image_id, ProductImage.position)
        .where(ProductImage.product_id.in_(list(product_ids)))
        .order_by(ProductImage.product_id, ProductImage.position)
    ).all()
    first = {}
    for row in rows:
        first.setdefault(row.product_id, row.image_id)
    found = pictures(first.values())
    return {pid: found[iid] for pid, iid in first.items() if iid in found}


def _changed(product, actor, action, image_id, **detail):
    """One audit entry on the product for staff ``actor``; the cached pages cleared."""
    record_staff_action(actor.id, action, "product", product.id, {"image_id": image_id, **detail})
    # The shop lists the first picture; the product page shows them all.
    invalidate_after_commit(cache_tags.CATALOGUE, cache_tags.product_page(product.slug))


def add_image(product, image_id, *, actor):
    """Put the library's image ``image_id`` last in ``product``'s gallery, for staff
    ``actor`` (audited). Raises :class:`NotAvailable` for an image that is not in the
    library, :class:`ShopError` for one the gallery already shows. Flushes."""
    if image_id is None or db.session.get(MediaImage, image_id) is None:
        raise NotAvailable("That picture is not in the library any more.")
    if any(item.image_id == image_id for item in product.images):
        raise ShopError("That picture is already in this product's gallery.")
    last = max((item.position for item in product.images), default=-1)
    item = ProductImage(image_id=image_id, position=last + 1)
    product.images.append(item)
    db.session.flush()
    _changed(product, actor, "gallery.add", image_id)
    return item


def _item(product, item_id):
    item = next((i for i in product.images if i.id == item_id), None)
    if item is None:
        raise NotAvailable("That picture is no longer in this product's gallery.")
    return item


def remove_image(product, item_id, *, actor):
    """Take one picture out of ``product``'s gallery (the image stays in the library),
    for staff ``actor`` (audited). Flushes."""
    item = _item(product, item_id)
    image_id = item.image_id
    product.images.remove(item)
    db.session.flush()
    _changed(product, actor, "gallery.remove", image_id)


def move_image(product, item_id, step, *, actor):
    """Move one picture of ``product``'s gallery one place earlier (``step`` -1) or later
    (+1), for staff ``actor`` (audited); at either end it stays (nothing recorded).
    Flushes."""
    items = sorted(product.images, key=lambda i: i.position)
    item = _item(product, item_id)
    index = items.index(item)
    other_index = index + step
    if step not in (-1, 1) or not 0 <= other_index < len(items):
        return
    other = items[other_index]
    mine, theirs = item.position, other.position
    # Through a free place: the two positions are unique per product at every flush.
    item.position = max(i.position for i in items) + 1
    db.session.flush()
    other.position = mine
    db.session.flush()
    item.position = theirs
    db.session.flush()
    _changed(
        product, actor, "gallery.move", item.image_id,
        direction="earlier" if step < 0 else "later",
    )  # fmt: skip


def products_using_image(image_id):
    """Each product whose gallery shows the library's image ``image_id``, as the library
    names it when it refuses to delete the image."""
    names = db.session.scalars(
        select(Product.name)
        .join(ProductImage, ProductImage.product_id == Product.id)
        .where(ProductImage.image_id == image_id)
        .order_by(Product.name)
    )
    return [f"the product “{name}” (gallery)" for name in names]
