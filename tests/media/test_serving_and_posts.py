"""Serving renditions at fingerprinted, immutable addresses; images in posts (the hero
picture with srcset, the editor's picker, Markdown images kept on our site only); and
deleting an image only while no post shows it."""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from blueprints.blog.models import Post, PostRevision
from blueprints.core.markdown import render_post
from blueprints.media import library
from blueprints.media.library import add_image, markdown_for
from blueprints.media.models import MediaImage, MediaRendition
from extensions import db
from tests import factories
from tests.media.conftest import image_bytes, upload


@pytest.fixture
def image(staff):
    upload(staff, image_bytes("JPEG", (1000, 600)), alt="Dr. Brown lifting a dumbbell")
    return db.session.scalars(select(MediaImage)).one()


def _urls(html):
    return re.findall(r"/media/\d+-[0-9a-f]{12}-\d+\.(?:webp|jpg)", html)


@pytest.mark.parametrize(("ext", "content_type"), [("webp", "image/webp"), ("jpg", "image/jpeg")])
def test_a_rendition_is_served_for_a_year_with_its_type_and_an_etag(
    client, image, ext, content_type
):
    url = f"/media/{image.id}-{image.sha256[:12]}-480.{ext}"

    response = client.get(url)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # nginx in front keeps it a minute only: a deleted image leaves the edge within it.
    assert response.headers["X-Accel-Expires"] == "60"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    kind = "webp" if ext == "webp" else "jpeg"
    stored = db.session.scalar(
        select(MediaRendition.data).where(
            MediaRendition.image_id == image.id,
            MediaRendition.width == 480,
            MediaRendition.format == kind,
        )
    )
    assert response.data == stored
    etag = response.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_an_address_with_another_fingerprint_size_or_image_is_not_found(client, image):
    digest = image.sha256[:12]
    wrong = [
        f"/media/{image.id}-{'0' * 12}-480.jpg",  # the digest of another file
        f"/media/{image.id}-{digest}-500.jpg",  # a size that was not made
        f"/media/{image.id}-{digest}-1600.jpg",  # never enlarged
        f"/media/{image.id + 1}-{digest}-480.jpg",
        f"/media/{image.id}-{digest}-480.png",
        f"/media/{image.id}-{digest[:6]}-480.jpg",
    ]
    for url in wrong:
        assert client.get(url).status_code == 404, url


def test_a_post_with_a_hero_image_shows_a_picture_with_webp_and_jpeg_sizes(client, image):
    post = factories.make_post("Strong backs", "Lift with care.", slug="strong-backs")
    post.hero_image_id = image.id
    db.session.commit()

    html = client.get("/blog/strong-backs").get_data(as_text=True)

    picture = html[html.index("<picture") : html.index("</picture>")]
    webp = re.search(r'<source type="image/webp" srcset="([^"]+)"', picture).group(1)
    assert [s.rsplit(" ", 1)[1] for s in webp.split(", ")] == ["480w", "960w", "1000w"]
    assert all(".webp " in s for s in webp.split(", "))
    jpeg = re.search(r'<img src="[^"]+\.jpg" srcset="([^"]+)"', picture).group(1)
    assert all(".jpg " in s for s in jpeg.split(", "))
    assert 'width="1000" height="600"' in picture
    assert 'alt="Dr. Brown lifting a dumbbell"' in picture
    for url in set(_urls(picture)):
        assert client.get(url).status_code == 200, url


def test_staff_choose_a_hero_image_in_the_post_editor(staff, image):
    response = staff.post(
        "/admin/posts/new",
        data={
            "title": "Walking for bones",
            "body": "Walk every day.",
            "hero_image": str(image.id),
            "action": "save",
        },
    )

    assert response.status_code == 303
    post = db.session.scalars(select(Post)).one()
    assert post.hero_image_id == image.id
    form = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert f'<option selected value="{image.id}">' in form


def test_a_hero_image_that_is_not_in_the_library_is_a_form_error(staff, image):
    response = staff.post(
        "/admin/posts/new",
        data={"title": "Walking", "body": "Walk.", "hero_image": "999999", "action": "save"},
    )

    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0


def test_the_editor_picker_shows_each_images_markdown_to_copy(staff, image):
    html = staff.get("/admin/posts/new").get_data(as_text=True)

    markdown = markdown_for(image)
    assert markdown.startswith("![Dr. Brown lifting a dumbbell](/media/")
    assert f'value="{markdown}"' in html  # without script: there to copy
    assert f'data-insert-markdown="{markdown}"' in html  # with script: the Insert button
    assert "js/media-picker.js" in html


def test_the_page_editor_offers_the_picker_that_puts_an_image_in_the_pages_text(staff, image):
    """The About page photo is chosen as a post's pictures are: from the library."""
    html = staff.get("/admin/pages/about").get_data(as_text=True)

    markdown = markdown_for(image)
    assert f'value="{markdown}"' in html
    assert f'data-insert-markdown="{markdown}" data-target="body_md"' in html
    assert 'id="body_md"' in html
    assert "js/media-picker.js" in html
    assert "save this post" not in html


def test_markdown_images_from_the_library_survive_sanitising_and_others_lose_their_address(
    image,
):
    html = render_post(
        f"{markdown_for(image)}\n\n![A tracker](https://tracker.example/pixel.png)"
        "\n\n![Sneaky](//evil.example/x.png)"
    )

    assert re.search(r'<img src="/media/\d+-[0-9a-f]{12}-1000\.jpg"', html)
    assert 'alt="Dr. Brown lifting a dumbbell"' in html
    assert 'loading="lazy"' in html
    assert "tracker.example" not in html and "evil.example" not in html
    assert 'alt="A tracker"' in html  # the reader still gets the description


def test_library_images_in_a_post_and_on_a_page_carry_their_width_and_height(client, staff, image):
    """A picture put in the text keeps its place while it loads (no layout shift)."""
    factories.make_post("Lifting", f"Like this:\n\n{markdown_for(image)}", slug="lifting")
    staff.post(
        "/admin/pages/about",
        data={"title": "About Dr. Brown", "body_md": f"{markdown_for(image)}\n\nHer story."},
    )
    for url in ("/blog/lifting", "/about"):
        html = client.get(url).get_data(as_text=True)
        tag = re.search(r'<img src="/media/\d+-[0-9a-f]{12}-1000\.jpg"[^>]*>', html).group(0)
        assert 'width="1000"' in tag and 'height="600"' in tag, (url, tag)


def test_an_image_used_by_a_post_is_not_deleted_and_the_post_is_named(staff, image):
    post = factories.make_post("Strong backs", "Lift with care.", slug="strong-backs")
    post.hero_image_id = image.id
    factories.make_post("Balance", f"Try this:\n\n{markdown_for(image)}", slug="balance")
    db.session.commit()

    response = staff.post(f"/admin/media/{image.id}/delete", data={})

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "the post “Strong backs” (hero image)" in html
    assert "the post “Balance” (text)" in html
    db.session.rollback()
    assert db.session.get(MediaImage, image.id) is not None


def test_an_image_only_an_earlier_version_shows_is_deleted_and_that_version_restores_cleanly(
    staff, image
):
    """A picture taken out of a post can be deleted (a photo put there by mistake must
    not stay in the library for good); restoring the version that showed it brings back
    its text without a broken picture."""
    created = staff.post(
        "/admin/posts/new",
        data={"title": "Lifting", "body": f"Like this:\n\n{markdown_for(image)}\n\nSlowly."},
    )
    post_id = int(created.headers["Location"].split("/")[-2])
    staff.post(f"/admin/posts/{post_id}/edit", data={"title": "Lifting", "body": "No picture."})

    response = staff.post(f"/admin/media/{image.id}/delete", data={})

    assert response.status_code == 303
    assert db.session.get(MediaImage, image.id) is None
    (shown,) = [r for r in db.session.scalars(select(PostRevision)) if "Like this" in r.body_md]
    staff.post(f"/admin/posts/{post_id}/revisions/{shown.id}/restore", data={})
    db.session.expire_all()
    post = db.session.get(Post, post_id)
    assert "Like this:" in post.body_html and "Slowly." in post.body_html
    assert f"/media/{image.id}-" not in post.body_html and "<img" not in post.body_html


def test_an_image_in_someones_unsaved_text_is_not_deleted(staff, image):
    post = factories.make_post("Balance", "Stand on one leg.", slug="balance")
    staff.post(
        f"/admin/posts/{post.id}/autosave",
        data={"title": "Balance", "body": f"Stand.\n\n{markdown_for(image)}"},
    )

    response = staff.post(f"/admin/media/{image.id}/delete", data={})

    assert response.status_code == 409
    assert "the post “Balance” (unsaved text)" in response.get_data(as_text=True)


@pytest.mark.postgres_only
def test_a_post_saving_the_image_as_hero_meanwhile_keeps_it_with_a_409_not_a_500(
    staff, image, monkeypatch
):
    """The check for uses ran before another staff member's save made it a post's hero
    image; the database's foreign key refuses the delete, and she is told why."""
    post_id = factories.make_post("Strong backs", "Lift with care.", slug="strong-backs").id

    real_uses = library.image_uses
    calls = []

    def checked_before_the_other_save(image_id):
        calls.append(image_id)
        if len(calls) == 1:
            # Her save, on its own connection, commits between the check and the delete.
            with db.engine.begin() as other:
                other.execute(
                    sa.update(Post).where(Post.id == post_id).values(hero_image_id=image_id)
                )
            return []
        return real_uses(image_id)

    monkeypatch.setattr(library, "image_uses", checked_before_the_other_save)

    response = staff.post(f"/admin/media/{image.id}/delete", data={})

    assert response.status_code == 409
    assert "the post “Strong backs” (hero image)" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(MediaImage, image.id) is not None


def test_an_unused_image_is_deleted_with_its_renditions(staff, image):
    url = f"/media/{image.id}-{image.sha256[:12]}-480.jpg"

    response = staff.post(f"/admin/media/{image.id}/delete", data={})

    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(MediaImage)) == 0
    assert db.session.scalar(select(func.count()).select_from(MediaRendition)) == 0
    assert staff.get(url).status_code == 404


def test_delete_needs_the_csrf_token_and_a_get_changes_nothing(staff, image):
    assert staff.post(f"/admin/media/{image.id}/delete", data={}, csrf=False).status_code == 400
    assert staff.get(f"/admin/media/{image.id}/delete").status_code == 405
    assert db.session.get(MediaImage, image.id) is not None


def test_staff_change_an_images_description_and_an_empty_one_is_refused(staff, image):
    refused = staff.post(f"/admin/media/{image.id}", data={"alt_text": ""})
    assert refused.status_code == 400
    assert "Describe the image" in refused.get_data(as_text=True)

    saved = staff.post(f"/admin/media/{image.id}", data={"alt_text": "Dr. Brown smiling"})

    assert saved.status_code == 303
    db.session.expire_all()
    assert db.session.get(MediaImage, image.id).alt_text == "Dr. Brown smiling"


def test_the_library_pages_are_for_staff_only(client, staff_user):
    image = add_image(image_bytes("PNG", (100, 100)), filename="a.png", alt_text="A walk").image
    db.session.commit()

    for url in ("/admin/media", f"/admin/media/{image.id}"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
