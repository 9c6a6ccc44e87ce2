"""The page token: forms on pages read without a session, and where it is refused."""

import re
import time

import pytest
from flask import g

from blueprints.core import csrf as page_forms
from tests.blog.conftest import comment_form
from tests.conftest import STAFF_PASSWORD

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SAME_SITE = {"Origin": "http://localhost"}
PUBLIC_PAGES = ("/", "/blog/", "/shop/", "/consultations/", "/newsletter/")


@pytest.fixture(params=[True, False], ids=["page-cache-on", "page-cache-off"])
def app_config(request):
    return {"PAGE_CACHE": request.param, "CACHE_TYPE": "SimpleCache", "CACHE_REDIS_URL": None}


@pytest.fixture
def post(make_post):
    return make_post("Walking for bones")


def _page_token(client, url="/blog/walking-for-bones"):
    g.pop("csrf_token", None)  # a real request has its own ``g``; these tests share one
    page = client.get(url)
    assert page.status_code == 200
    return TOKEN.search(page.text).group(1)


def _comment(client, token, headers=SAME_SITE, **fields):
    g.pop("csrf_token", None)
    return client.post(
        "/blog/walking-for-bones",
        data={**comment_form(**fields), "csrf_token": token},
        headers=headers,
        csrf=False,
    )


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_reading_a_public_page_sets_no_cookie(app, url):
    for _ in range(2):  # rendered, then (cache on) served from the cache
        g.pop("csrf_token", None)
        response = app.test_client().get(url)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers, url


def test_a_page_token_is_accepted_from_our_own_pages(app, post):
    reader = app.test_client()
    token = _page_token(reader)
    assert _comment(reader, token).status_code == 303
    # Without Origin, a Referer on this site will do (older browsers, privacy settings).
    other = app.test_client()
    referred = _comment(
        other,
        token,
        headers={"Referer": "http://localhost/blog/walking-for-bones"},
        email="ann@example.com",
    )
    assert referred.status_code == 303


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/blog/walking-for-bones"},
        {"Referer": "http://localhost.evil.example/"},
        {},
    ],
    ids=["other-origin", "opaque-origin", "other-referer", "lookalike-host", "neither"],
)
def test_a_page_token_from_elsewhere_is_refused(app, post, headers):
    token = _page_token(app.test_client())
    refused = _comment(app.test_client(), token, headers=headers)
    assert refused.status_code == 400
    assert "expired or was sent from elsewhere" in refused.text


def test_a_page_token_is_refused_in_a_signed_in_session(app, client, post, auth):
    """The token proves the form came from our page, not that this person sent it: a
    forged post riding on a staff member's session must fail."""
    token = _page_token(app.test_client())
    assert auth.login().status_code == 303
    assert _comment(client, token).status_code == 400
    # Their own session token still works.
    g.pop("csrf_token", None)
    assert _comment(client, client.csrf_token(), email="susan@example.com").status_code == 303


def test_a_page_token_is_refused_once_the_reader_has_a_cart(app, post):
    shopper = app.test_client()
    token = _page_token(shopper)
    with shopper.session_transaction() as session:
        session["cart_token"] = "a" * 32
    assert _comment(shopper, token).status_code == 400


def test_a_page_token_is_refused_by_staff_forms(app, staff_user):
    visitor = app.test_client()
    token = _page_token(visitor, "/")
    g.pop("csrf_token", None)
    refused = visitor.post(
        "/admin/login",
        data={"email": staff_user.email, "password": STAFF_PASSWORD, "csrf_token": token},
        headers=SAME_SITE,
        csrf=False,
    )
    assert refused.status_code == 400


def test_an_old_or_altered_page_token_is_refused(app, post, monkeypatch):
    reader = app.test_client()
    token = _page_token(reader)
    assert _comment(reader, token[:-2] + ("AA" if token[-2:] != "AA" else "BB")).status_code == 400
    # A session's own Flask-WTF token is not a page token.
    assert _comment(reader, app.test_client().csrf_token()).status_code == 400

    day_and_a_minute_ago = time.time() - page_forms.PAGE_TOKEN_MAX_AGE - 60
    monkeypatch.setattr(time, "time", lambda: day_and_a_minute_ago)
    old = page_forms._serializer(app.secret_key).dumps(page_forms._PAGE_TOKEN_VALUE)
    monkeypatch.undo()
    assert _comment(reader, old).status_code == 400
