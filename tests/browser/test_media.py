"""The media library in Chromium, on a wide screen and a phone: upload a photo, put it
in a post with the picker and as the post's main picture, and read the post with the
picture loaded; axe-core finds nothing on the library's pages or the editor."""

import pytest

from blueprints.media.library import add_image, markdown_for
from extensions import db
from tests.browser.conftest import assert_accessible, sign_in_staff
from tests.media.conftest import photo_with_gps

WIDTHS = {"wide": (1366, 900), "phone": (390, 844)}


def _fits_the_screen(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("screen", WIDTHS, ids=list(WIDTHS))
def test_upload_a_photo_and_put_it_in_a_post(page, staff_account, screen):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[screen], strict=True)))
    sign_in_staff(page)

    page.goto("/admin/media")
    assert_accessible(page)
    page.get_by_label("Image file").set_input_files(
        files=[{"name": "walk.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps()}]
    )
    page.get_by_label("Description for people").fill("Dr. Brown walking by the sea")
    page.get_by_role("button", name="Upload").click()

    page.wait_for_url("**/admin/media/*")
    assert "already in the library" in page.content() or "is uploaded" in page.content()
    assert _fits_the_screen(page)
    assert_accessible(page)
    markdown = page.get_by_label("Markdown of this image").input_value()
    assert markdown.startswith("![Dr. Brown walking by the sea](/media/")

    page.goto("/admin/media")
    assert _fits_the_screen(page)
    assert_accessible(page)

    page.goto("/admin/posts/new")
    page.get_by_label("Title").fill("A walk by the sea")
    body = page.get_by_label("Body (Markdown)")
    body.fill("Walking is good for bones.")
    page.get_by_text("Add a picture to the text").click()
    assert_accessible(page)
    page.get_by_role("button", name="Insert “Dr. Brown walking by the sea”").click()
    assert body.input_value() == f"Walking is good for bones.\n\n{markdown}"
    page.get_by_label("Main picture").select_option(label="Dr. Brown walking by the sea (walk.jpg)")
    page.get_by_role("button", name="Save and publish").click()
    page.wait_for_url("**/admin/posts/*/edit")

    page.goto("/blog/a-walk-by-the-sea")
    hero = page.locator("picture.post-hero img")
    hero.wait_for()
    loaded = page.evaluate(
        "() => [...document.images].filter(i => i.src.includes('/media/'))"
        ".map(i => i.complete && i.naturalWidth > 0)"
    )
    inline = page.locator(".post-body img")
    inline.scroll_into_view_if_needed()
    assert inline.evaluate("i => i.complete && i.naturalWidth > 0")
    assert loaded and loaded[0]
    assert hero.get_attribute("alt") == "Dr. Brown walking by the sea"
    assert _fits_the_screen(page)
    assert_accessible(page)


@pytest.mark.parametrize(
    ("editor", "field", "save", "public"),
    [
        ("/admin/posts/new", "Body (Markdown)", "Save and publish", "/blog/by-the-keyboard"),
        ("/admin/pages/about", None, "Save the page", "/about"),
    ],
    ids=["post", "about-page"],
)
def test_a_picture_goes_into_a_post_or_the_about_page_with_the_keyboard_alone(
    page, staff_account, editor, field, save, public
):
    """From the text, Tab reaches the picker; Enter opens it; Tab reaches "Insert" past
    the Markdown to copy; Enter puts the picture in at the cursor and gives the text the
    focus back, where typing goes on. Then Enter on the save button."""
    image = add_image(photo_with_gps(), filename="walk.jpg", alt_text="Dr. Brown by the sea").image
    db.session.commit()
    markdown = markdown_for(image)
    db.session.close()
    sign_in_staff(page)
    page.goto(editor)
    if field:  # a new post needs its title
        page.get_by_label("Title").fill("By the keyboard")
        body = page.get_by_label(field)
    else:
        body = page.locator("#body_md")
    body.fill("")
    body.focus()
    page.keyboard.type("Walking is good for bones.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Add a picture to the text"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the Markdown to copy
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Insert “Dr. Brown by the sea”"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == body.get_attribute("id")
    page.keyboard.type("Her words.")
    assert body.input_value() == f"Walking is good for bones.\n\n{markdown}Her words."
    page.get_by_role("button", name=save).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".flash-success").count() == 1
    page.goto(public)
    assert page.locator('img[alt="Dr. Brown by the sea"]').count() == 1
