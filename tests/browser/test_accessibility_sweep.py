"""axe-core over every public page and the staff sign-in page: zero violations.

Each area adds its pages to ``PUBLIC_PAGES`` (or to a sweep of its own with
``assert_accessible``), so the sweep grows with the site.
"""

import pytest

from tests.browser.conftest import assert_accessible

PUBLIC_PAGES = [
    "/",
    "/blog/",
    "/shop/",
    "/consultations/",
    "/newsletter/",
    "/no-such-page",
]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_has_no_axe_violations(page, path):
    page.goto(path)
    assert_accessible(page)


def test_axe_sweep_catches_a_real_violation(page):
    # Guards the harness itself: an unlabeled input and an image without alt must fail.
    page.goto("/")
    page.set_content(
        '<html lang="en"><title>x</title><main><img src="/x.png"><input type="text"></main></html>'
    )
    with pytest.raises(AssertionError, match="image-alt"):
        assert_accessible(page)
