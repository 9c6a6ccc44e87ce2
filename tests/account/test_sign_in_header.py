"""The header's account link and the page cache: every reader gets the same cached page
(the link says "My account" in the markup; the page's script says "Sign in" to a reader
without the ``bb_account`` cookie), a signed-in customer gets private pages, and a page
rendered for her is never served to anyone else."""

import pytest

from blueprints.account.sign_in_routes import HEADER_COOKIE
from blueprints.core.edge import PRIVATE_COOKIE
from tests.account import sign_in_support
from tests.account.sign_in_support import sign_in_with_code
from tests.factories import make_post

whoami = sign_in_support.whoami  # the fixture (each request starts with a fresh ``g``)

HEADER_LINK = '<a href="/account/sign-in" data-account-link'


@pytest.fixture
def app_config():
    return {"CACHE_REDIS_URL": None, "CACHE_TYPE": "SimpleCache", "PAGE_CACHE": True}


@pytest.fixture
def post_page(app):
    post = make_post("Walking for your bones")
    return f"/blog/{post.slug}"


def test_every_page_has_the_account_link_and_the_script_that_names_it(client, post_page):
    page = client.get(post_page)
    assert HEADER_LINK in page.text and ">My account</a>" in page.text
    script = client.get("/static/js/site.js").text
    assert "data-account-link" in script and f"{HEADER_COOKIE}=1" in script
    assert '"Sign in"' in script
    # The script comes from our own origin: the policy needs no inline script for it.
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]


def test_a_signed_in_customer_gets_private_pages_and_readers_never_get_hers(
    app, client, mailbox, post_page, whoami
):
    reader = app.test_client()
    assert reader.get(post_page).headers["X-Cache"] == "MISS"
    shared = reader.get(post_page)
    assert shared.headers["X-Cache"] == "HIT"

    assert sign_in_with_code(client, mailbox, "ann@example.com").status_code == 303
    assert client.get_cookie(HEADER_COOKIE).value == "1"
    assert client.get_cookie(PRIVATE_COOKIE) is not None  # nginx's cache skips her too
    hers = client.get(post_page)
    assert hers.headers["X-Cache"] == "MISS"
    assert "private" in hers.headers["Cache-Control"]
    assert "public" not in hers.headers["Cache-Control"]
    assert HEADER_LINK in hers.text  # the same markup: the script names the link

    again = reader.get(post_page)
    assert again.headers["X-Cache"] == "HIT"
    assert again.get_data() == shared.get_data()
    assert "ann@example.com" not in again.text

    # Signed out, she shares the cached pages again (after the one page that shows the
    # "signed out" message).
    client.post("/account/sign-out", data={})
    assert client.get_cookie(HEADER_COOKIE) is None
    assert "You are signed out" in client.get("/").text
    assert client.get(post_page).headers["X-Cache"] == "HIT"
