"""Product galleries: pictures from the media library in order, served responsive
(WebP and JPEG at several widths, sized, the first at once and the rest lazily), edited
by staff, and never deleted from the library while a gallery shows them."""

import re

import pytest
from sqlalchemy import select

from blueprints.media.library import add_image
from blueprints.media.models import MediaImage
from blueprints.shop import gallery
from blueprints.shop.models import ProductImage
from extensions import db
from tests.media.conftest import image_bytes
from tests.shop.conftest import make_vest


def _image(alt, color):
    added = add_image(image_bytes("PNG", (1200, 900), color), filename="p.png", alt_text=alt)
    db.session.commit()
    return added.image


@pytest.fixture
def vest_with_gallery(app):
    vest = make_vest()
    for position, alt in enumerate(["Front of the vest", "Back of the vest", "Weight bars"]):
        image = _image(alt, (40 * position, 120, 90))
        db.session.add(ProductImage(product_id=vest.id, image_id=image.id, position=position))
    db.session.commit()
    return vest


@pytest.fixture
def staff(client, auth):
    auth.login()
    return client


def _pictures(page):
    return re.findall(r"<picture.*?</picture>", page, re.S)


def test_the_product_page_shows_the_gallery_responsive_in_order(client, vest_with_gallery):
    page = client.get(f"/shop/{vest_with_gallery.slug}").get_data(as_text=True)
    pictures = _pictures(page)
    assert [re.search(r'alt="([^"]*)"', p)[1] for p in pictures] == [
        "Front of the vest",
        "Back of the vest",
        "Weight bars",
    ]
    for picture in pictures:
        assert re.search(
            r'<source type="image/webp" srcset="/media/\d+-\w+-480\.webp 480w, ', picture
        )
        assert re.search(r'<img src="/media/\d+-\w+-960\.jpg" srcset="[^"]*960w', picture)
        assert 'sizes="' in picture and 'width="1200" height="900"' in picture
    first, *rest = pictures
    assert 'fetchpriority="high"' in first and 'loading="lazy"' not in first
    assert all('loading="lazy"' in p for p in rest)
    # Served as named.
    url = re.search(r'srcset="(/media/[^ ]+\.webp)', first)[1]
    served = client.get(url)
    assert served.status_code == 200 and served.mimetype == "image/webp"


def test_the_shop_lists_the_first_picture_and_falls_back_to_the_old_one(
    client, vest_with_gallery, staff_user
):
    page = client.get("/shop/").get_data(as_text=True)
    [picture] = _pictures(page)
    assert 'alt="Front of the vest"' in picture and 'width="1200"' in picture
    for item in list(vest_with_gallery.images):
        # Clears the cached pages.
        gallery.remove_image(vest_with_gallery, item.id, actor=staff_user)
    vest_with_gallery.image_path = "img/shop/vest.svg"
    db.session.commit()
    for url in ("/shop/", f"/shop/{vest_with_gallery.slug}"):
        page = client.get(url).get_data(as_text=True)
        assert not _pictures(page) and "/static/img/shop/vest.svg" in page


def _gallery_alts(vest):
    db.session.expire_all()
    rows = db.session.execute(
        select(MediaImage.alt_text)
        .join(ProductImage, ProductImage.image_id == MediaImage.id)
        .where(ProductImage.product_id == vest.id)
        .order_by(ProductImage.position)
    )
    return [row.alt_text for row in rows]


def _items(vest):
    db.session.expire_all()
    return db.session.scalars(
        select(ProductImage).where(ProductImage.product_id == vest.id).order_by("position")
    ).all()


def test_staff_add_reorder_and_remove_gallery_pictures(staff, vest_with_gallery):
    vest = vest_with_gallery
    extra = _image("The vest on a walk", (200, 200, 60))
    editor = staff.get(f"/admin/products/{vest.id}").get_data(as_text=True)
    assert "The vest on a walk" in editor and "Move later" in editor

    added = staff.post(f"/admin/products/{vest.id}/images", data={"image": str(extra.id)})
    assert added.status_code == 303
    assert _gallery_alts(vest)[-1] == "The vest on a walk"
    again = staff.post(f"/admin/products/{vest.id}/images", data={"image": str(extra.id)})
    assert again.status_code == 400 and "already in this product" in again.get_data(as_text=True)

    last = _items(vest)[-1]
    moved = staff.post(f"/admin/products/{vest.id}/images/{last.id}/move", data={"direction": "up"})
    assert moved.status_code == 303
    assert _gallery_alts(vest) == [
        "Front of the vest", "Back of the vest", "The vest on a walk", "Weight bars",
    ]  # fmt: skip
    first = _items(vest)[0]
    staff.post(f"/admin/products/{vest.id}/images/{first.id}/move", data={"direction": "up"})
    assert _gallery_alts(vest)[0] == "Front of the vest"  # at the top it stays

    removed = staff.post(f"/admin/products/{vest.id}/images/{first.id}/remove", data={})
    assert removed.status_code == 303
    assert _gallery_alts(vest)[0] == "Back of the vest"
    assert db.session.get(MediaImage, first.image_id) is not None  # still in the library
    # The shop page shows the new first picture (its cache was cleared).
    assert 'alt="Back of the vest"' in _pictures(staff.get("/shop/").get_data(as_text=True))[0]


def test_gallery_changes_need_staff_and_the_csrf_token(client, staff_user, vest_with_gallery):
    item = _items(vest_with_gallery)[0]
    url = f"/admin/products/{vest_with_gallery.id}/images/{item.id}/remove"
    assert client.post(url, data={}).status_code in (302, 303)  # to the sign-in page
    assert len(_items(vest_with_gallery)) == 3


def test_an_image_in_a_gallery_is_not_deleted_and_the_product_is_named(staff, vest_with_gallery):
    item = _items(vest_with_gallery)[1]
    response = staff.post(f"/admin/media/{item.image_id}/delete", data={})
    assert response.status_code == 409
    assert "the product “Weighted Vest” (gallery)" in response.get_data(as_text=True)
    assert db.session.get(MediaImage, item.image_id) is not None
    staff.post(f"/admin/products/{vest_with_gallery.id}/images/{item.id}/remove", data={})
    assert staff.post(f"/admin/media/{item.image_id}/delete", data={}).status_code == 303
