"""Page weight on the real pages with the demo data: compressed HTML under 30 KB, every
image sized, and every image below the first lazy-loaded."""

import gzip
import re

import pytest

from blueprints import area_modules
from extensions import db

HTML_BUDGET = 30 * 1024
PAGES = [
    "/",
    "/blog/",
    "/blog/how-to-increase-spinal-bone-density-with-exercise",
    "/blog/tag/exercise",
    "/blog/search?q=bone",
    "/shop/",
    "/shop/weighted-walking-vest",
    "/consultations/",
    "/consultations/initial-consultation/",
    "/newsletter/",
]
IMG = re.compile(r"<img\b[^>]*>")


@pytest.fixture
def demo(app):
    for _area, module in area_modules("seed"):
        module.seed(large=False)
        db.session.commit()


@pytest.mark.parametrize("path", PAGES)
def test_real_page_html_stays_within_its_budget(client, demo, path):
    response = client.get(path)
    assert response.status_code == 200
    assert len(gzip.compress(response.data, 6)) < HTML_BUDGET


@pytest.mark.parametrize("path", PAGES)
def test_images_are_sized_and_those_below_the_first_load_lazily(client, demo, path):
    images = IMG.findall(client.get(path).text)
    for image in images:
        assert re.search(r'\bwidth="\d+"', image) and re.search(r'\bheight="\d+"', image), image
    for image in images[1:]:
        assert 'loading="lazy"' in image, image


def test_the_shop_page_really_has_images_to_check(client, demo):
    assert len(IMG.findall(client.get("/shop/").text)) >= 2
