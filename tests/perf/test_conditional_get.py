"""Conditional GET on the real public pages, with the page cache on and off."""

import pytest

from blueprints.blog.editing import create_post, publish_post
from blueprints.core.types import utcnow
from extensions import db

PAGES = ("/", "/blog/", "/blog/walking-for-bones", "/blog/feed.xml", "/shop/", "/newsletter/")


@pytest.fixture(params=[True, False], ids=["page-cache-on", "page-cache-off"])
def app_config(request):
    return {"PAGE_CACHE": request.param, "CACHE_TYPE": "SimpleCache", "CACHE_REDIS_URL": None}


@pytest.fixture
def post(app):
    made = create_post("Walking for bones", "Walk daily.", published_at=utcnow())
    db.session.commit()
    return made


@pytest.mark.parametrize("url", PAGES)
def test_an_unchanged_page_answers_304_to_its_etag(app, client, post, url):
    first = client.get(url)
    assert first.status_code == 200 and first.headers["ETag"].startswith('W/"')
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.get_data() == b""


def test_a_changed_page_answers_200_with_a_new_etag(app, client, post):
    first = client.get("/blog/")
    draft = create_post("Calcium myths", "Not so.", published_at=None)
    db.session.commit()
    publish_post(draft, actor=None)
    db.session.commit()
    again = client.get("/blog/", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    assert "Calcium myths" in again.text
    assert again.headers["ETag"] != first.headers["ETag"]


def test_a_shoppers_page_is_never_answered_with_304_to_a_shared_etag(app, post):
    shared_etag = app.test_client().get("/blog/walking-for-bones").headers["ETag"]
    # A shopper's page shows their cart and carries their own form token.
    shopper = app.test_client()
    with shopper.session_transaction() as session:
        session["cart_token"] = "c" * 32
    page = shopper.get("/blog/walking-for-bones", headers={"If-None-Match": shared_etag})
    assert page.status_code == 200
    assert page.headers.get("ETag") != shared_etag
