"""Uploading to the media library: what is accepted and stored (stripped of metadata,
turned upright, in every size and format), and every bad upload refused with a clear
message, a 4xx status, the form back and nothing stored."""

import io

import pytest
from PIL import Image, ImageCms
from sqlalchemy import func, select

from blueprints.media.errors import MissingAltText
from blueprints.media.library import add_image
from blueprints.media.models import MediaImage, MediaRendition
from extensions import db
from tests.media.conftest import image_bytes, photo_with_gps, png_declaring, upload


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _nothing_stored():
    db.session.rollback()
    return _count(MediaImage) == 0 and _count(MediaRendition) == 0


def _only_image():
    return db.session.scalars(select(MediaImage)).one()


def _decoded(rendition):
    return Image.open(io.BytesIO(rendition.data))


@pytest.mark.parametrize(
    ("kind", "filename", "stored_as"),
    [("JPEG", "walk.jpg", "jpeg"), ("PNG", "walk.png", "png"), ("WEBP", "walk.webp", "webp")],
)
def test_a_jpeg_png_or_webp_is_stored_with_webp_and_jpeg_at_each_width(
    staff, kind, filename, stored_as
):
    response = upload(staff, image_bytes(kind, (1000, 600)), filename=filename)

    image = _only_image()
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/media/{image.id}")
    assert (image.format, image.width, image.height) == (stored_as, 1000, 600)
    assert image.alt_text == "Dr. Brown walking by the sea"
    assert image.filename == filename
    assert image.uploaded_by_id is not None
    made = {(r.width, r.format): r for r in image.renditions}
    # 480 and 960, and the image's own width (never enlarged to 1600).
    assert set(made) == {(w, f) for w in (480, 960, 1000) for f in ("webp", "jpeg")}
    for (width, kind_made), rendition in made.items():
        decoded = _decoded(rendition)
        assert decoded.format == kind_made.upper()
        assert decoded.size == (width, round(600 * width / 1000)) == (width, rendition.height)


def test_a_small_image_is_kept_at_its_own_width_only(staff):
    upload(staff, image_bytes("PNG", (300, 200)), filename="small.png")

    widths = {r.width for r in _only_image().renditions}
    assert widths == {300}


def test_gps_and_camera_details_are_removed_and_the_photo_turned_upright(staff):
    # Orientation 6: the camera was turned; the picture is shown rotated 90 degrees.
    original = photo_with_gps(size=(800, 400), orientation=6)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # it had a position

    upload(staff, original)

    image = _only_image()
    assert (image.width, image.height) == (400, 800)
    for rendition in image.renditions:
        decoded = _decoded(rendition)
        assert not decoded.getexif(), f"{rendition.format} {rendition.width} kept EXIF"
        assert "exif" not in decoded.info and "xmp" not in decoded.info
        assert decoded.height > decoded.width
        assert b"Secret Phone" not in rendition.data


def test_colours_are_converted_to_srgb_and_the_profile_is_not_kept(staff):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()

    upload(staff, image_bytes("JPEG", (600, 400), icc_profile=srgb))

    for rendition in _only_image().renditions:
        assert "icc_profile" not in _decoded(rendition).info


def test_a_transparent_png_stays_transparent_in_webp_and_is_on_white_in_jpeg(staff):
    buffer = io.BytesIO()
    Image.new("RGBA", (600, 400), (0, 0, 0, 0)).save(buffer, "PNG")

    upload(staff, buffer.getvalue(), filename="clear.png")

    made = {r.format: _decoded(r) for r in _only_image().renditions if r.width == 600}
    assert made["webp"].convert("RGBA").getpixel((10, 10))[3] == 0
    assert made["jpeg"].mode == "RGB"
    assert made["jpeg"].getpixel((10, 10)) >= (250, 250, 250)


def test_the_same_file_uploaded_twice_is_one_image(staff):
    data = image_bytes("JPEG")
    upload(staff, data)
    second = upload(staff, data, alt="Another description")

    assert _count(MediaImage) == 1
    assert second.status_code == 303
    assert _only_image().alt_text == "Dr. Brown walking by the sea"
    page = staff.get(second.headers["Location"])
    assert "already in the library" in page.get_data(as_text=True)


def test_the_file_name_is_cleaned_of_paths_and_odd_characters(staff):
    upload(staff, image_bytes("PNG"), filename="..\\..\\evil/<script>dr brown.png")

    assert _only_image().filename == "script-dr brown.png"


def _gif():
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), "red").save(buffer, "GIF")
    return buffer.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'

BAD_UPLOADS = {
    "text named .jpg": (
        b"This is not a picture at all.\n" * 20,
        "photo.jpg",
        "not a photo we can use",
    ),
    "svg": (SVG, "drawing.svg", "not a photo we can use"),
    "svg named .png": (SVG, "drawing.png", "not a photo we can use"),
    "gif": (_gif(), "moving.gif", "not a photo we can use"),
    "truncated jpeg": (
        image_bytes("JPEG", (800, 600))[:3000],
        "half.jpg",
        "could not be read to the end",
    ),
    "truncated png": (image_bytes("PNG", (800, 600))[:-40], "half.png", "could not be read"),
    "decompression bomb": (png_declaring(20000, 20000), "bomb.png", "too large"),
    "too many pixels": (png_declaring(7000, 7000), "huge.png", "40 million pixels"),
    "too long a side": (png_declaring(12001, 10), "banner.png", "12,000 pixels"),
}


@pytest.mark.parametrize("case", BAD_UPLOADS, ids=list(BAD_UPLOADS))
def test_a_bad_upload_is_refused_with_a_message_and_nothing_stored(staff, case):
    data, filename, message = BAD_UPLOADS[case]

    response = upload(staff, data, filename=filename, content_type="image/jpeg")

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert 'aria-invalid="true"' in html  # the form back, the file field marked
    assert 'value="Dr. Brown walking by the sea"' in html  # with what was typed
    assert _nothing_stored()


def test_a_file_just_over_10_mb_is_refused_with_the_limit_named(staff):
    data = image_bytes("JPEG", (20, 20)) + b"\0" * (10 * 1024 * 1024)

    response = upload(staff, data)

    assert response.status_code == 413
    assert "larger than 10 MB" in response.get_data(as_text=True)
    assert _nothing_stored()


def test_a_body_far_over_10_mb_gets_a_clear_page_not_a_server_error(staff):
    response = upload(staff, b"\xff" * (11 * 1024 * 1024))

    assert response.status_code == 413
    assert "larger than 10 MB" in response.get_data(as_text=True)
    assert _nothing_stored()


def test_other_forms_keep_the_one_megabyte_limit(staff):
    response = staff.post("/admin/posts/new", data={"title": "x", "body": "y" * (2 * 1024 * 1024)})

    assert response.status_code == 413


def test_alt_text_is_required(staff):
    response = upload(staff, image_bytes("JPEG"), alt="   ")

    assert response.status_code == 400
    assert "Describe the image" in response.get_data(as_text=True)
    assert _nothing_stored()


def test_no_file_chosen_is_a_form_error(staff):
    response = upload(staff, None)

    assert response.status_code == 400
    assert "Choose an image file" in response.get_data(as_text=True)
    assert _nothing_stored()


def test_only_staff_may_upload(client, staff_user):
    anonymous = upload(client, image_bytes("JPEG"))

    assert anonymous.status_code == 302
    assert "/admin/login" in anonymous.headers["Location"]
    assert _nothing_stored()


def test_an_upload_without_the_csrf_token_is_refused(staff):
    response = staff.post(
        "/admin/media",
        data={"alt_text": "A walk", "image": (io.BytesIO(image_bytes("JPEG")), "a.jpg")},
        content_type="multipart/form-data",
        csrf=False,
    )

    assert response.status_code == 400
    assert _nothing_stored()


def test_the_library_page_lists_uploads_with_their_descriptions(staff):
    upload(staff, image_bytes("JPEG"), alt="Dr. Brown at her desk")

    html = staff.get("/admin/media").get_data(as_text=True)

    assert "Dr. Brown at her desk" in html
    assert 'enctype="multipart/form-data"' in html
    assert "/media/" in html


def test_the_library_itself_refuses_an_image_without_a_description(app):
    with pytest.raises(MissingAltText):
        add_image(image_bytes("JPEG"), filename="a.jpg", alt_text="  ")

    assert _nothing_stored()
