"""The page cache: anonymous readers share rendered pages, nobody shares private ones,
changes show at once after their commit, and cached forms still validate."""

import re
import time
import uuid
from datetime import UTC, datetime

import pytest
from flask import abort, flash, g, make_response, redirect, render_template_string, request
from sqlalchemy import select

from blueprints.blog.models import Post
from blueprints.core.cache import CSRF_PLACEHOLDER, cached_page
from blueprints.core.cache_tags import bump_tags, invalidate_after_commit
from extensions import cache, db
from tests.conftest import REDIS_URL, redis_or_skip
from tests.factories import make_post

PAGE = """{% extends "base.html" %}
{% block content %}
<h1>{{ post.title }}</h1>
<p class="published">Published {{ post.published_at|datetime }}</p>
{% if current_user.is_authenticated %}<p class="staff">Staff view for {{ current_user.email }}</p>{% endif %}
{% if cart %}<p class="cart">Your cart has {{ cart }}</p>{% endif %}
{% if page_number %}<p class="page">Page {{ page_number }}</p>{% endif %}
<form method="post" action="/t/comment/{{ post.slug }}">
  <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
  <button>Send</button>
</form>
{% endblock %}"""


def _token(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _set_title(slug, title):
    """A stand-in for a blog service: change the post, name the page it shows on."""
    post = db.session.scalar(select(Post).where(Post.slug == slug))
    post.title = title
    db.session.flush()
    invalidate_after_commit(f"post:{slug}")


@pytest.fixture
def app_config():
    return {"CACHE_REDIS_URL": None, "CACHE_TYPE": "SimpleCache", "PAGE_CACHE": True}


@pytest.fixture
def site(app):
    """Two cached post pages, a post form, and hooks that count renders."""
    renders = []
    during_render = []

    @app.url_value_preprocessor
    def _fresh_g(endpoint, values):
        # Each real request has its own ``g``; here every request shares the test's app
        # context, so forget the last request's token and user as a new request would.
        for name in list(vars(g)):
            g.pop(name)

    def post_page(slug):
        renders.append(slug)
        post = db.session.scalar(select(Post).where(Post.slug == slug))
        if post is None:
            abort(404)
        html = render_template_string(
            PAGE,
            post=post,
            cart=_cart_label(),
            page_number=request.args.get("page"),
        )
        while during_render:
            during_render.pop()()
        return html

    @app.get("/t/post/<slug>")
    @cached_page(tags=lambda slug: ["blog", f"post:{slug}"], allow_args=("page",))
    def cached_post(slug):
        return post_page(slug)

    @app.get("/t/cookie/<slug>")
    @cached_page(tags=lambda slug: [f"post:{slug}"])
    def sets_a_cookie(slug):
        response = make_response(post_page(slug))
        response.set_cookie("promo", "spring")
        return response

    @app.get("/t/private/<slug>")
    @cached_page(tags=lambda slug: [f"post:{slug}"])
    def marked_private(slug):
        response = make_response(post_page(slug))
        response.cache_control.private = True
        return response

    @app.post("/t/comment/<slug>")
    def comment(slug):
        return "comment accepted"

    @app.get("/t/flash-then-go/<slug>")
    def flash_then_go(slug):
        flash("Thank you, your comment is waiting for approval.", "success")
        return redirect(f"/t/post/{slug}")

    for slug, title in (("spine", "Spinal bone density"), ("hips", "Strong hips")):
        make_post(
            title,
            "Body",
            slug=slug,
            published_at=datetime(2026, 3, 3, 3, 30, tzinfo=UTC),
            commit=False,
        )
    db.session.commit()

    class Site:
        pass

    site = Site()
    site.renders = renders
    site.during_render = during_render
    return site


def _cart_label():
    from flask import session

    return "2 vests" if "cart_token" in session else None


def _visitor(app):
    return app.test_client()


def test_second_anonymous_visit_is_served_from_the_cache(app, site):
    first = _visitor(app).get("/t/post/spine")
    second = _visitor(app).get("/t/post/spine")
    assert first.headers["X-Cache"] == "MISS" and second.headers["X-Cache"] == "HIT"
    assert site.renders == ["spine"]
    assert "Spinal bone density" in second.text
    # Same page, apart from each reader's own token.
    assert first.text.replace(_token(first.text), "") == second.text.replace(
        _token(second.text), ""
    )
    assert CSRF_PLACEHOLDER not in second.text


def test_a_committed_change_shows_at_once_and_clears_only_its_pages(app, site):
    reader = _visitor(app)
    reader.get("/t/post/spine")
    reader.get("/t/post/hips")

    _set_title("spine", "How to increase spinal bone density")
    db.session.commit()

    changed = reader.get("/t/post/spine")
    assert changed.headers["X-Cache"] == "MISS"
    assert "How to increase spinal bone density" in changed.text
    untouched = reader.get("/t/post/hips")
    assert untouched.headers["X-Cache"] == "HIT"


def test_a_shared_tag_clears_every_page_that_carries_it(app, site):
    _visitor(app).get("/t/post/spine")
    _visitor(app).get("/t/post/hips")
    invalidate_after_commit("blog")  # e.g. a new post changes every "Recent posts" list
    db.session.commit()
    assert _visitor(app).get("/t/post/spine").headers["X-Cache"] == "MISS"
    assert _visitor(app).get("/t/post/hips").headers["X-Cache"] == "MISS"


def test_a_rolled_back_change_clears_nothing(app, site):
    _visitor(app).get("/t/post/spine")
    _set_title("spine", "Never saved")
    db.session.rollback()

    again = _visitor(app).get("/t/post/spine")
    assert again.headers["X-Cache"] == "HIT"
    assert "Spinal bone density" in again.text


def test_tags_are_bumped_only_after_the_commit(app, site):
    _visitor(app).get("/t/post/spine")
    version_before = cache.get("tagv:post:spine")
    _set_title("spine", "Pending change")
    assert cache.get("tagv:post:spine") == version_before  # flushed, not committed
    db.session.commit()
    assert cache.get("tagv:post:spine") != version_before


def test_a_page_rendered_before_the_commit_is_never_served_after_it(app, site):
    """A reader renders the old title; the change commits while they render; their
    stale copy is stored under the old tag versions, which nobody asks for again."""

    def staff_saves_meanwhile():
        db.session.execute(
            Post.__table__.update().where(Post.slug == "spine").values(title="Updated title")
        )
        invalidate_after_commit("post:spine")
        db.session.commit()

    site.during_render.append(staff_saves_meanwhile)
    slow_reader = _visitor(app).get("/t/post/spine")
    assert "Spinal bone density" in slow_reader.text  # rendered before the change

    next_reader = _visitor(app).get("/t/post/spine")
    assert next_reader.headers["X-Cache"] == "MISS"
    assert "Updated title" in next_reader.text


def test_a_lost_tag_version_never_brings_back_an_old_page(app, site):
    _visitor(app).get("/t/post/spine")
    cache.delete("tagv:post:spine")  # evicted from a full cache, or Redis restarted
    assert _visitor(app).get("/t/post/spine").headers["X-Cache"] == "MISS"


def test_everything_can_be_cleared_with_the_site_tag(app, site):
    _visitor(app).get("/t/post/spine")
    _visitor(app).get("/t/post/hips")
    bump_tags("site")
    assert _visitor(app).get("/t/post/spine").headers["X-Cache"] == "MISS"
    assert _visitor(app).get("/t/post/hips").headers["X-Cache"] == "MISS"


SAME_SITE = {"Origin": "http://localhost"}  # what a browser sends with our own form


def _returning(app):
    """A reader who has a session (an earlier form, a dismissed notice): not private."""
    reader = _visitor(app)
    with reader.session_transaction() as session:
        session["csrf_token"] = uuid.uuid4().hex
    return reader


def test_readers_without_a_session_get_the_page_token_and_no_cookie(app, site):
    alice_page = _visitor(app).get("/t/post/spine")
    bob = _visitor(app)
    bob_page = bob.get("/t/post/spine")
    assert bob_page.headers["X-Cache"] == "HIT"
    # Reading never makes a session: no cookie, and the same shared token for both.
    assert "Set-Cookie" not in alice_page.headers and "Set-Cookie" not in bob_page.headers
    assert _token(alice_page.text) == _token(bob_page.text)

    accepted = bob.post(
        "/t/comment/spine",
        data={"csrf_token": _token(bob_page.text)},
        headers=SAME_SITE,
        csrf=False,
    )
    assert accepted.status_code == 200 and accepted.text == "comment accepted"


def test_a_returning_reader_whose_session_is_not_private_shares_the_cached_page(app, site):
    _visitor(app).get("/t/post/spine")
    carol = _returning(app)
    page = carol.get("/t/post/spine")
    assert page.headers["X-Cache"] == "HIT" and "Set-Cookie" not in page.headers
    accepted = carol.post(
        "/t/comment/spine", data={"csrf_token": _token(page.text)}, headers=SAME_SITE, csrf=False
    )
    assert accepted.status_code == 200


def test_a_tampered_session_cookie_is_not_served_from_the_cache(app, site):
    _visitor(app).get("/t/post/spine")
    forger = _visitor(app)
    forger.set_cookie("session", "eyJfdXNlcl9pZCI6IjEifQ.forged.signature")
    page = forger.get("/t/post/spine")
    assert page.headers["X-Cache"] == "MISS" and page.status_code == 200


def test_signed_in_staff_never_get_or_leave_a_cached_page(app, site, staff_user):
    staff = _visitor(app)
    now = int(time.time())
    with staff.session_transaction() as session:
        session.update(_user_id=staff_user.get_id(), _fresh=True, _login_at=now, _seen_at=now)

    staff_first = staff.get("/t/post/spine")
    assert "Staff view for staff@betterbones.example" in staff_first.text
    reader_first = _visitor(app).get("/t/post/spine")
    assert reader_first.headers["X-Cache"] == "MISS"
    assert "Staff view" not in reader_first.text
    assert _visitor(app).get("/t/post/spine").headers["X-Cache"] == "HIT"

    staff_again = staff.get("/t/post/spine")
    assert staff_again.headers["X-Cache"] == "MISS"
    assert "Staff view for staff@betterbones.example" in staff_again.text
    assert "no-cache" not in staff_again.headers.get("Cache-Control", "")


def test_a_flash_message_is_shown_only_to_its_reader(app, site):
    _visitor(app).get("/t/post/spine")  # the page is in the cache
    commenter = _visitor(app)
    shown = commenter.get("/t/flash-then-go/spine", follow_redirects=True)
    assert "waiting for approval" in shown.text
    assert shown.headers["X-Cache"] == "MISS"

    other = _visitor(app).get("/t/post/spine")
    assert other.headers["X-Cache"] == "HIT"
    assert "waiting for approval" not in other.text
    # The flash was shown once; the commenter's next view is the shared page again.
    assert "waiting for approval" not in commenter.get("/t/post/spine").text


def test_a_reader_with_a_cart_sees_their_own_page(app, site):
    shopper = _visitor(app)
    with shopper.session_transaction() as session:
        session["cart_token"] = uuid.uuid4().hex
    cart_page = shopper.get("/t/post/spine")
    assert "Your cart has 2 vests" in cart_page.text
    assert cart_page.headers["X-Cache"] == "MISS"

    reader = _visitor(app).get("/t/post/spine")
    assert reader.headers["X-Cache"] == "MISS"  # the shopper's page was not stored
    assert "Your cart" not in reader.text
    assert "Your cart has 2 vests" in shopper.get("/t/post/spine").text


def test_query_arguments_outside_the_allow_list_skip_the_cache(app, site):
    for _ in range(2):
        busted = _visitor(app).get(f"/t/post/spine?utm_source={uuid.uuid4().hex}")
        assert busted.headers["X-Cache"] == "MISS"
    assert site.renders == ["spine", "spine"]

    assert _visitor(app).get("/t/post/spine?page=2").headers["X-Cache"] == "MISS"
    page_two = _visitor(app).get("/t/post/spine?page=2")
    assert page_two.headers["X-Cache"] == "HIT" and "Page 2" in page_two.text
    page_three = _visitor(app).get("/t/post/spine?page=3")
    assert page_three.headers["X-Cache"] == "MISS" and "Page 3" in page_three.text
    long_value = _visitor(app).get("/t/post/spine?page=" + "9" * 200)
    assert long_value.headers["X-Cache"] == "MISS"
    assert _visitor(app).get("/t/post/spine?page=" + "9" * 200).headers["X-Cache"] == "MISS"


def test_query_string_order_does_not_matter(app, site):
    @app.get("/t/search")
    @cached_page(tags=["blog"], allow_args=("q", "page"))
    def search():
        return f"results for {request.args['q']} page {request.args['page']}"

    assert _visitor(app).get("/t/search?q=bone&page=2").headers["X-Cache"] == "MISS"
    hit = _visitor(app).get("/t/search?page=2&q=bone")
    assert hit.headers["X-Cache"] == "HIT" and hit.text == "results for bone page 2"


def test_error_pages_are_not_stored(app, site):
    for _ in range(2):
        missing = _visitor(app).get("/t/post/no-such-post")
        assert missing.status_code == 404 and missing.headers.get("X-Cache") != "HIT"
    assert site.renders == ["no-such-post", "no-such-post"]


def test_a_page_that_sets_its_own_cookie_is_not_stored(app, site):
    for _ in range(2):
        response = _visitor(app).get("/t/cookie/spine")
        assert response.headers["X-Cache"] == "MISS"
        assert "promo=spring" in response.headers["Set-Cookie"]


def test_a_page_marked_private_is_not_stored(app, site):
    for _ in range(2):
        assert _visitor(app).get("/t/private/spine").headers["X-Cache"] == "MISS"
    assert site.renders == ["spine", "spine"]


def test_each_time_zone_gets_its_own_copy(app, site):
    new_york = _visitor(app)
    tokyo = _visitor(app)
    tokyo.set_cookie("tz", "Asia/Tokyo")
    ny_page = new_york.get("/t/post/spine")
    tokyo_page = tokyo.get("/t/post/spine")
    assert tokyo_page.headers["X-Cache"] == "MISS"
    # The year shows only when it is not this year (core.timezones.format_when).
    assert re.search(r"Monday 2 March( 2026)?, 10:30 pm Eastern Time", ny_page.text)
    assert re.search(r"Tuesday 3 March( 2026)?, 12:30 pm Tokyo time", tokyo_page.text)
    # A made-up zone is the default zone, not a new copy of the page.
    stranger = _visitor(app)
    stranger.set_cookie("tz", "Not/AZone")
    assert stranger.get("/t/post/spine").headers["X-Cache"] == "HIT"


def test_head_is_answered_from_the_get_entry(app, site):
    _visitor(app).get("/t/post/spine")
    head = _visitor(app).head("/t/post/spine")
    assert head.headers["X-Cache"] == "HIT" and head.data == b""
    assert site.renders == ["spine"]


def test_unchanged_page_answers_304_and_a_change_answers_200(app, site):
    reader = _visitor(app)
    first = reader.get("/t/post/spine")
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    # A browser must ask again before reusing it; a shared cache may keep it 2 s.
    assert first.headers["Cache-Control"] == "public, max-age=0, s-maxage=1"

    unchanged = reader.get("/t/post/spine", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    # The reader's copy still holds a token that their session accepts.
    posted = reader.post(
        "/t/comment/spine", data={"csrf_token": _token(first.text)}, headers=SAME_SITE, csrf=False
    )
    assert posted.status_code == 200

    _set_title("spine", "Revised title")
    db.session.commit()
    changed = reader.get("/t/post/spine", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "Revised title" in changed.text


def test_a_private_reader_gets_the_full_page_with_a_token_of_their_own(app, site):
    stranger_etag = _visitor(app).get("/t/post/spine").headers["ETag"]
    shopper = _returning(app)
    with shopper.session_transaction() as session:
        session["cart_token"] = uuid.uuid4().hex
    response = shopper.get("/t/post/spine", headers={"If-None-Match": stranger_etag})
    assert response.status_code == 200 and "Your cart has 2 vests" in response.text
    token = _token(response.text)
    assert (
        shopper.post("/t/comment/spine", data={"csrf_token": token}, csrf=False).status_code == 200
    )


def test_a_page_without_a_form_has_the_same_etag_for_everyone(app, site):
    @app.get("/t/plain")
    @cached_page(tags=["blog"])
    def plain():
        return "<p>No form here</p>"

    first = _visitor(app).get("/t/plain")
    second = _visitor(app).get("/t/plain")
    assert first.headers["ETag"] == second.headers["ETag"]
    assert "Set-Cookie" not in second.headers  # no token, so no session is made
    third = _visitor(app).get("/t/plain", headers={"If-None-Match": first.headers["ETag"]})
    assert third.status_code == 304


class TestPageCacheSwitchedOff:
    @pytest.fixture
    def app_config(self):
        return {"PAGE_CACHE": False}

    def test_every_page_is_rendered_fresh(self, app, site):
        for _ in range(3):
            assert _visitor(app).get("/t/post/spine").headers["X-Cache"] == "MISS"
        assert site.renders == ["spine"] * 3


class TestRedisUnreachable:
    @pytest.fixture
    def app_config(self):
        return {"CACHE_REDIS_URL": "redis://127.0.0.1:1/0", "CACHE_REDIS_SOCKET_TIMEOUT": 0.2}

    def test_pages_are_served_uncached_and_changes_still_save(self, app, site):
        for _ in range(2):
            response = _visitor(app).get("/t/post/spine")
            assert response.status_code == 200 and response.headers["X-Cache"] == "MISS"
        _set_title("spine", "Saved while Redis is down")
        db.session.commit()  # the bump fails after the commit; the change is kept
        db.session.expire_all()
        assert db.session.scalar(select(Post.title).where(Post.slug == "spine")) == (
            "Saved while Redis is down"
        )


class TestRedisShared:
    """Two app instances stand for two gunicorn workers sharing one Redis."""

    @pytest.fixture
    def redis_prefix(self):
        client = redis_or_skip()
        prefix = f"test-page-cache-{uuid.uuid4().hex}:"
        yield prefix
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)

    @pytest.fixture
    def app_config(self, redis_prefix):
        return {"CACHE_REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": redis_prefix}

    def test_a_change_in_one_worker_clears_the_page_in_another(
        self, app, site, redis_prefix, database_url, smtp_controller
    ):
        from app import create_app
        from tests.conftest import make_config

        assert app.config["CACHE_TYPE"] == "RedisCache"
        _visitor(app).get("/t/post/spine")
        assert _visitor(app).get("/t/post/spine").headers["X-Cache"] == "HIT"

        other_worker = create_app(
            make_config(
                database_url,
                smtp_controller,
                CACHE_REDIS_URL=REDIS_URL,
                CACHE_KEY_PREFIX=redis_prefix,
            )
        )
        with other_worker.app_context():
            _set_title("spine", "Changed in another worker")
            db.session.commit()
            db.session.remove()

        fresh = _visitor(app).get("/t/post/spine")
        assert fresh.headers["X-Cache"] == "MISS"
        assert "Changed in another worker" in fresh.text


def test_a_hit_carries_the_same_headers_as_a_rendered_page(app, site):
    rendered = _visitor(app).get("/t/post/spine")
    hits = [_visitor(app).get("/t/post/spine") for _ in range(2)]
    assert [hit.headers["X-Cache"] for hit in hits] == ["HIT", "HIT"]
    for hit in hits:
        assert set(hit.headers.keys()) == set(rendered.headers.keys())
        for name in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Vary"):
            assert hit.headers[name] == rendered.headers[name]
        assert hit.headers["Content-Length"] == str(len(hit.data))
        assert "frame-ancestors 'none'" in hit.headers["Content-Security-Policy"]
    # No response carries a nonce: a page for everyone holds no per-response secret.
    policies = {r.headers["Content-Security-Policy"] for r in (rendered, *hits)}
    assert len(policies) == 1
    assert "nonce" not in policies.pop()
