"""axe-core over every public page and the staff sign-in page: zero violations.

The site holds the demo content (what ``flask seed`` loads), so the shop, the
consultations and the blog are swept with their products, times and posts in them, not
as empty lists. Each area adds its pages to ``PUBLIC_PAGES`` (or to a sweep of its own
with ``assert_accessible``), so the sweep grows with the site.
"""

import pytest

from blueprints import area_modules
from extensions import db
from tests.browser.conftest import assert_accessible

PUBLIC_PAGES = [
    "/",
    "/blog/",
    "/shop/",
    "/consultations/",
    "/consultations/time-zones",
    "/newsletter/",
    "/contact/sent",
    "/account/programs",
    "/account/programs/sent",
    "/no-such-page",
]
# The footer's pages (about, contact, privacy, terms, shipping): test_footer_pages.py, at
# both widths.


@pytest.fixture
def demo(app):
    """The demo content, loaded as ``flask seed`` loads it (each area's ``seed``)."""
    for _area, module in area_modules("seed"):
        module.seed()
    db.session.commit()


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_has_no_axe_violations(page, demo, path):
    response = page.goto(path)
    assert response.status == (404 if path == "/no-such-page" else 200)
    assert_accessible(page)


def test_demo_pages_are_swept_with_their_content(page, demo):
    """The shop and the consultations list what the demo holds, so axe sees real cards."""
    page.goto("/shop/")
    assert page.locator("main h2 a[href^='/shop/']").count() >= 2
    page.goto("/consultations/")
    assert page.get_by_role("link", name="Initial consultation").count() >= 1


def test_contact_form_with_errors_has_no_axe_violations(page, demo):
    page.goto("/contact")
    page.get_by_role("button", name="Send my message").click()
    page.wait_for_load_state()
    assert page.locator(".error, [aria-invalid='true']").count() >= 1
    assert_accessible(page)


def test_axe_sweep_catches_a_real_violation(page):
    # Guards the harness itself: an unlabeled input and an image without alt must fail.
    page.goto("/")
    page.set_content(
        '<html lang="en"><title>x</title><main><img src="/x.png"><input type="text"></main></html>'
    )
    with pytest.raises(AssertionError, match="image-alt"):
        assert_accessible(page)
