"""What the shop shows: the catalogue's cards, a product with its options and tags."""

from itertools import groupby
from typing import NamedTuple

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import selectinload

from blueprints.blog.models import Tag
from blueprints.media.library import Picture
from blueprints.shop.gallery import first_pictures
from blueprints.shop.models import Product, Variant, product_tag
from extensions import db


def active_products():
    """Active products with their variants (one query for all, not one per product)."""
    return db.session.scalars(
        select(Product)
        .where(Product.active)
        .options(selectinload(Product.variants))
        .order_by(Product.position, Product.name)
    ).all()


class CatalogueCard(NamedTuple):
    """What the shop page shows of one product."""

    slug: str
    name: str
    summary: str
    image_path: str | None  # the picture of a product with no gallery
    picture: Picture | None  # its gallery's first
    price_cents: int | None  # the lowest price of its active options; None without any
    currency: str | None  # its first option's
    several_options: bool  # "From $..."
    sold_out: bool  # it has options and every one is sold out


_product = Product.__table__.c
_variant = Variant.__table__.c
# Built once: the cards' columns, with each active option's price and stock (no
# descriptions), in the order the page lists them.
_CATALOGUE = (
    select(
        _product.id,
        _product.slug,
        _product.name,
        _product.summary,
        _product.image_path,
        _variant.price_cents,
        _variant.currency,
        _variant.stock,
    )
    .select_from(
        Product.__table__.outerjoin(
            Variant.__table__, and_(_variant.product_id == _product.id, _variant.active)
        )
    )
    .where(_product.active)
    .order_by(_product.position, _product.name, _product.id, _variant.position, _variant.id)
)


def catalogue():
    """The shop page's cards: one query for every active product and its options, and
    two for the first picture of each gallery."""
    grouped = [
        (product_id, list(rows))
        for product_id, rows in groupby(db.session.execute(_CATALOGUE), key=lambda row: row.id)
    ]
    first = first_pictures([product_id for product_id, _rows in grouped])
    cards = []
    for product_id, rows in grouped:
        product = rows[0]
        options = [row for row in rows if row.price_cents is not None]
        cards.append(
            CatalogueCard(
                slug=product.slug,
                name=product.name,
                summary=product.summary,
                image_path=product.image_path,
                picture=first.get(product_id),
                price_cents=min((row.price_cents for row in options), default=None),
                currency=options[0].currency if options else None,
                several_options=len(options) > 1,
                sold_out=bool(options)
                and all(row.stock is not None and row.stock <= 0 for row in options),
            )
        )
    return cards


_PRODUCT_BY_SLUG = select(Product).where(Product.slug == bindparam("slug"), Product.active)


def product_by_slug(slug):
    """The active product at ``/shop/<slug>``, or None."""
    return db.session.scalar(_PRODUCT_BY_SLUG, {"slug": slug})


_PRODUCT_OPTIONS = (
    select(Variant)
    .where(Variant.product_id == bindparam("product_id"), Variant.active)
    .order_by(Variant.position, Variant.id)
)


def product_options(product):
    """``product``'s active variants, in order (from a statement built once rather than
    the relationship's lazy load)."""
    return db.session.scalars(_PRODUCT_OPTIONS, {"product_id": product.id}).all()


_tag = Tag.__table__.c
_PRODUCT_TAGS = (
    select(_tag.id, _tag.name)
    .join(product_tag, product_tag.c.tag_id == _tag.id)
    .where(product_tag.c.product_id == bindparam("product_id"))
    .order_by(_tag.name)
)


def product_tags(product):
    """The id and name of each of ``product``'s tags, by name (plain rows: its page
    only prints them and looks up related posts)."""
    return db.session.execute(_PRODUCT_TAGS, {"product_id": product.id}).all()
