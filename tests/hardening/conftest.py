"""Fixtures for the cross-area hardening tests: the demo content of every area."""

from datetime import timedelta

import pytest
from flask import current_app, url_for
from sqlalchemy import select

from blueprints import area_modules
from extensions import db


@pytest.fixture
def seeded(app):
    """Every area's demo content, plus one confirmed booking to manage."""
    for _area, module in area_modules("seed"):
        module.seed(large=False)
        db.session.commit()
    return sample_view_args()


def sample_view_args():
    """Real values for every URL variable the site uses, from the seeded rows."""
    from blueprints.account.customers import customer_for_email
    from blueprints.blog.models import Comment, Post
    from blueprints.blog.revisions import record_revision
    from blueprints.booking import availability, display, links
    from blueprints.booking.models import ConsultationType
    from blueprints.core.types import utcnow
    from blueprints.shop.models import Product, ProductImage, ShippingRate, Variant
    from tests.booking.conftest import make_confirmed

    ctype = db.session.scalars(select(ConsultationType).order_by(ConsultationType.id)).first()
    later = [s for s in availability.free_slots(ctype) if s > utcnow() + timedelta(days=5)]
    start, free_slot = later[0], later[-1]
    customer = customer_for_email("fuzz@example.com")  # committed with the booking
    booking = make_confirmed(ctype, start, email="fuzz@example.com")
    post = db.session.scalars(select(Post).order_by(Post.id)).first()
    revision = record_revision(post, actor=None)  # the post editor's revisions pages
    image = _library_image()
    product = db.session.scalars(select(Product).order_by(Product.id)).first()
    return {
        "post_id": post.id,
        "revision_id": revision.id,
        "comment_id": db.session.scalars(select(Comment.id).order_by(Comment.id)).first(),
        "product_id": product.id,
        "variant_id": db.session.scalars(select(Variant.id)).first(),
        "item_id": db.session.scalars(select(ProductImage.id)).first(),  # a gallery picture
        "rate_id": db.session.scalars(select(ShippingRate.id)).first(),
        "booking_id": booking.id,
        "customer_id": customer.id,
        "order_id": 1,
        "user_id": 1,
        "invitation_id": 1,
        "row_id": 1,
        "kind": "hours",
        "slug": ctype.slug,
        "post_slug": post.slug,
        "page_slug": "about",
        "token": links.manage_token(booking),
        "tag": "x",
        "position": 1,
        "booking": booking,
        "ctype": ctype,
        "image_id": image.id,
        "digest": image.sha256[:12],
        "width": image.width,
        "ext": "jpg",
        "free_slot": display.slot_value(free_slot),
    }


def _library_image():
    """One more image in the media library, made by Pillow (unused: it may be deleted)."""
    import io

    from PIL import Image

    from blueprints.media.library import add_image

    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (90, 140, 60)).save(buffer, "PNG")
    image = add_image(buffer.getvalue(), filename="green.png", alt_text="A green square").image
    db.session.commit()
    return image


def url_for_rule(rule, values):
    """The address of ``rule`` with its arguments taken from ``values`` (the ``seeded``
    fixture's rows; a blog ``slug`` is the post's, a staff page editor's the About page's)."""
    args = {}
    for name in rule.arguments:
        key = name
        if name == "slug" and rule.endpoint.startswith("blog."):
            key = "post_slug"
        elif name == "slug" and rule.endpoint.startswith("admin.page_"):
            key = "page_slug"
        args[name] = values[key]
    with current_app.test_request_context():
        return url_for(rule.endpoint, **args)
