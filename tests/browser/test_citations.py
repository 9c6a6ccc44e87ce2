"""Reading the seed post's evidence in Chromium (issue #19.5): a citation mark takes the
reader to its reference and the reference's link brings her back, at desktop and phone
widths, with axe-core finding nothing and no sideways scrolling on a phone."""

import pytest

from blueprints.blog.seed import SPINE_SLUG, seed
from extensions import db
from tests.browser.conftest import assert_accessible


@pytest.fixture
def seeded(app):
    seed()
    db.session.commit()


def _in_view(page, selector):
    return page.eval_on_selector(
        selector,
        "el => { const r = el.getBoundingClientRect();"
        " return r.top >= -1 && r.bottom <= window.innerHeight + 1; }",
    )


def test_reader_follows_citation_one_to_its_reference_and_back(page, seeded):
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"/blog/{SPINE_SLUG}")
        box = page.locator(".author-box")
        assert "Dr. Susan E. Brown, PhD" in box.inner_text()
        assert "Medically reviewed by" in page.locator(".post-reviewed").inner_text()

        page.get_by_role("link", name="Reference 1", exact=True).first.click()
        page.wait_for_url(f"**/blog/{SPINE_SLUG}#ref-1")
        assert _in_view(page, "#ref-1")
        reference = page.locator("#ref-1")
        assert "J Bone Metab. 2015;22(4):197-204." in reference.inner_text()
        doi = reference.get_by_role("link", name="doi:10.11005/jbm.2015.22.4.197")
        assert doi.get_attribute("href") == "https://doi.org/10.11005/jbm.2015.22.4.197"
        pubmed = reference.get_by_role("link", name="PubMed 26713311")
        assert pubmed.get_attribute("href") == "https://pubmed.ncbi.nlm.nih.gov/26713311/"

        reference.get_by_role("link", name="Back to the text (citation 1)").click()
        page.wait_for_url(f"**/blog/{SPINE_SLUG}#cite-1")
        assert _in_view(page, "#cite-1")

        if width == 390:
            sideways = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert sideways <= 0
        assert_accessible(page)
