"""What the app tells a shared cache in front (nginx's edge cache), without nginx: only a
page the page cache shares says ``public, s-maxage``; a private session carries the
``bb_private`` cookie for exactly as long as it is private, and its pages say private."""

import pytest
from flask import flash, g, make_response, redirect, render_template_string, session

from blueprints.core.cache import cached_page
from blueprints.core.edge import PRIVATE_COOKIE

SHARED = "public, max-age=0, s-maxage=1"
PAGE = """<h1>A page</h1>{% for m in get_flashed_messages() %}<p>{{ m }}</p>{% endfor %}
<form method="post"><input name="csrf_token" value="{{ csrf_token() }}"></form>"""


@pytest.fixture
def app_config():
    return {"CACHE_REDIS_URL": None, "CACHE_TYPE": "SimpleCache", "PAGE_CACHE": True}


@pytest.fixture
def views(app):
    @app.url_value_preprocessor
    def _fresh_g(endpoint, values):
        # The test client shares one app context between requests: start each afresh.
        for name in list(vars(g)):
            g.pop(name)

    @app.get("/t/page")
    @cached_page(tags=["t"], allow_args=("page",))
    def page():
        return render_template_string(PAGE)

    @app.get("/t/nonce")
    @cached_page(tags=["t"])
    def with_nonce():
        return render_template_string('<script nonce="{{ csp_nonce() }}">go()</script>')

    @app.get("/t/cookie")
    @cached_page(tags=["t"])
    def with_cookie():
        response = make_response(render_template_string(PAGE))
        response.set_cookie("promo", "spring")
        return response

    @app.get("/t/plain")
    def not_cached():
        return "not a cached page"

    @app.post("/t/page")
    def post():
        return "posted"

    @app.get("/t/flash")
    def flash_then_go():
        flash("Thank you, your comment is waiting for approval.")
        return redirect("/t/page")

    @app.get("/t/cart")
    def fill_cart():
        session["cart_token"] = "c0ffee"
        return redirect("/t/page")


def _private_cookie(response):
    """The Set-Cookie header of the private mark, or None."""
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(PRIVATE_COOKIE)]
    return found[0] if found else None


def test_a_page_for_everyone_may_be_kept_by_a_shared_cache_two_seconds_at_most(app, views):
    rendered = app.test_client().get("/t/page")
    hit = app.test_client().get("/t/page")
    assert [rendered.headers["X-Cache"], hit.headers["X-Cache"]] == ["MISS", "HIT"]
    for response in (rendered, hit):
        assert response.headers["Cache-Control"] == SHARED
        assert "Set-Cookie" not in response.headers
        assert "nonce" not in response.headers["Content-Security-Policy"]
    assert rendered.data == hit.data  # the same bytes for every reader (the page token)


@pytest.mark.parametrize(
    ("seconds", "cache_control"),
    [
        (1, SHARED),  # nginx keeps a copy one whole second at least
        (2, SHARED),
        (3, "public, max-age=0, s-maxage=1, stale-while-revalidate=1"),
        (10, "public, max-age=0, s-maxage=1, stale-while-revalidate=8"),
    ],
)
def test_a_longer_edge_validity_is_spent_serving_stale_while_nginx_refreshes(
    app, views, seconds, cache_control
):
    # nginx's clock counts whole seconds: s-maxage=1 is served up to 2 s, and a stale
    # window adds its length. No copy outlives the setting.
    app.config["EDGE_CACHE_SECONDS"] = seconds
    assert app.test_client().get("/t/page").headers["Cache-Control"] == cache_control


def test_edge_cache_seconds_zero_keeps_every_page_out_of_shared_caches(app, views):
    app.config["EDGE_CACHE_SECONDS"] = 0
    rendered = app.test_client().get("/t/page")
    hit = app.test_client().get("/t/page")
    assert [rendered.headers["X-Cache"], hit.headers["X-Cache"]] == ["MISS", "HIT"]
    assert rendered.headers["Cache-Control"] == hit.headers["Cache-Control"] == "private, no-cache"


@pytest.mark.parametrize(
    "url",
    ["/t/plain", "/t/page?unknown=1", "/t/cookie", "/t/nonce", "/healthz", "/cart", "/admin/login"],
)
def test_pages_the_page_cache_does_not_share_are_never_public(app, views, url):
    for _ in range(2):  # the first render, and what a second reader gets
        response = app.test_client().get(url)
        assert "public" not in response.headers.get("Cache-Control", ""), url
        assert "s-maxage" not in response.headers.get("Cache-Control", ""), url


def test_a_post_is_never_public(app, views):
    response = app.test_client().post("/t/page", data={})
    assert "public" not in response.headers.get("Cache-Control", "")


def test_a_signed_in_reader_carries_the_private_mark_and_gets_private_pages(app, views, staff_user):
    import time

    reader = app.test_client()
    now = int(time.time())
    with reader.session_transaction() as stored:
        stored.update(_user_id=staff_user.get_id(), _fresh=True, _login_at=now, _seen_at=now)
    first = reader.get("/t/page")
    assert first.headers["Cache-Control"] == "private"
    assert "HttpOnly" in _private_cookie(first) and "SameSite=Lax" in _private_cookie(first)
    assert reader.get_cookie(PRIVATE_COOKIE).value == "1"
    again = reader.get("/t/page")
    assert again.headers["Cache-Control"] == "private"
    assert again.headers["X-Cache"] == "MISS"


def test_a_cart_sets_the_private_mark_and_emptying_the_session_clears_it(app, views):
    shopper = app.test_client()
    added = shopper.get("/t/cart")
    assert _private_cookie(added).startswith(f"{PRIVATE_COOKIE}=1;")
    assert shopper.get("/t/page").headers["Cache-Control"] == "private"
    with shopper.session_transaction() as stored:
        stored.pop("cart_token")
    after = shopper.get("/t/page")
    assert shopper.get_cookie(PRIVATE_COOKIE) is None  # cleared
    assert "public" not in after.headers["Cache-Control"]  # it was asked as private
    assert shopper.get("/t/page").headers["Cache-Control"] == SHARED


def test_a_flashed_message_is_marked_private_until_it_has_been_shown(app, views):
    commenter = app.test_client()
    app.test_client().get("/t/page")  # the page is shared already
    redirected = commenter.get("/t/flash")
    assert _private_cookie(redirected).startswith(f"{PRIVATE_COOKIE}=1;")
    shown = commenter.get("/t/page")
    assert "waiting for approval" in shown.text
    assert shown.headers["Cache-Control"].startswith("private")
    assert commenter.get_cookie(PRIVATE_COOKIE) is None  # shown once: no longer private
    later = commenter.get("/t/page")
    assert "waiting for approval" not in later.text


def test_a_stale_private_mark_skips_the_shared_page_once_and_is_cleared(app, views):
    app.test_client().get("/t/page")
    reader = app.test_client()
    reader.set_cookie(PRIVATE_COOKIE, "1")
    response = reader.get("/t/page")
    assert response.headers["X-Cache"] == "MISS"  # Flask answered, not the fast path
    assert response.headers["Cache-Control"] == "private"
    assert reader.get_cookie(PRIVATE_COOKIE) is None
    assert reader.get("/t/page").headers["X-Cache"] == "HIT"
