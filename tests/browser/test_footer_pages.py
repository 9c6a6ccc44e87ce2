"""Every page the footer links to (issue #19's "done when"), opened from the footer at a
desktop and a phone width: each has its heading, no axe-core violations, and nothing
that scrolls sideways."""

import pytest
from playwright.sync_api import expect

from blueprints.pages.seed import seed
from extensions import db
from tests.browser.conftest import assert_accessible

WIDTHS = {"wide": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
# The footer's link, and the page's heading.
FOOTER_PAGES = {
    "About Dr. Brown": "/about",
    "Contact us": "/contact",
    "Shipping and returns": "/shipping-returns",
    "Terms of sale and use": "/terms",
    "Privacy: what we keep about you": "/privacy",
}


@pytest.fixture
def stored_pages(app):
    seed()  # each page's first text, as the demo has it
    db.session.commit()
    db.session.close()  # the live server's threads use their own sessions


@pytest.mark.parametrize("width", WIDTHS)
def test_every_footer_page_opens_fits_and_passes_axe(page, stored_pages, width):
    page.set_viewport_size(WIDTHS[width])
    page.goto("/")
    for label, path in FOOTER_PAGES.items():
        page.locator("footer").get_by_role("link", name=label, exact=True).click()
        page.wait_for_url(f"**{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        assert_accessible(page)
