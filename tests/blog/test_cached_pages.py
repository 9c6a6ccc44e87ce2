"""The page cache on the real blog pages: changes show at once, nothing private is shared."""

import re

import pytest
from flask import g

from blueprints.blog.editing import publish_post, unpublish_post
from blueprints.blog.models import CommentStatus
from blueprints.blog.moderation import moderate_comments
from extensions import db
from tests.blog.conftest import comment_form

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@pytest.fixture
def app_config():
    return {"PAGE_CACHE": True, "CACHE_TYPE": "SimpleCache", "CACHE_REDIS_URL": None}


def _get(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response


def _tokens(html):
    return {a or b for a, b in TOKEN.findall(html)}


def test_repeat_anonymous_visit_is_served_from_the_cache(client, make_post):
    make_post("Walking for bones", tags=["exercise"])
    for url in ("/", "/blog/", "/blog/tag/exercise", "/blog/walking-for-bones", "/blog/feed.xml"):
        assert _get(client, url).headers["X-Cache"] == "MISS"
        assert _get(client, url).headers["X-Cache"] == "HIT", url


def test_publishing_a_post_shows_it_at_once_on_every_list(client, make_post, staff_user):
    make_post("Walking for bones", tags=["exercise"])
    draft = make_post("Calcium myths", draft=True, tags=["exercise"])
    lists = ("/", "/blog/", "/blog/tag/exercise", "/blog/feed.xml", "/sitemap.xml")
    for url in lists:
        _get(client, url)
        assert "Calcium myths" not in _get(client, url).get_data(as_text=True)

    publish_post(draft, actor=staff_user)
    db.session.commit()

    for url in lists:
        if url == "/sitemap.xml":
            assert "/blog/calcium-myths" in _get(client, url).get_data(as_text=True)
        else:
            assert "Calcium myths" in _get(client, url).get_data(as_text=True), url
    assert _get(client, "/blog/calcium-myths").status_code == 200


def test_unpublishing_a_post_takes_it_off_its_page_and_the_lists(client, make_post, staff_user):
    post = make_post("Walking for bones", tags=["exercise"])
    _get(client, "/blog/walking-for-bones")
    _get(client, "/blog/")
    unpublish_post(post, actor=staff_user)
    db.session.commit()
    assert client.get("/blog/walking-for-bones").status_code == 404
    assert "Walking for bones" not in _get(client, "/blog/").get_data(as_text=True)


def test_approving_a_comment_shows_it_on_its_post_at_once(
    client, make_post, make_comment, staff_user
):
    post = make_post("Walking for bones")
    waiting = make_comment(post, "I walk every morning now.", status=CommentStatus.PENDING)
    _get(client, "/blog/walking-for-bones")
    assert "I walk every morning now." not in _get(client, "/blog/walking-for-bones").text

    moderate_comments([waiting.id], "approve", actor=staff_user)
    db.session.commit()

    assert "I walk every morning now." in _get(client, "/blog/walking-for-bones").text


def test_deleting_a_comment_removes_it_from_the_cached_post(
    client, make_post, make_comment, staff_user
):
    post = make_post("Walking for bones")
    shown = make_comment(post, "Spam that slipped through.")
    assert "Spam that slipped through." in _get(client, "/blog/walking-for-bones").text
    moderate_comments([shown.id], "delete", actor=staff_user)
    db.session.commit()
    assert "Spam that slipped through." not in _get(client, "/blog/walking-for-bones").text


def test_an_auto_approved_comment_shows_to_the_next_reader(
    app, client, make_post, make_comment, known_commenter
):
    post = make_post("Walking for bones")
    make_comment(post, email="joan@example.com")  # an approved address is trusted
    known_commenter(client, "joan@example.com", "walking-for-bones")  # and proved
    other = app.test_client()
    _get(other, "/blog/walking-for-bones")
    response = client.post(
        "/blog/walking-for-bones", data=comment_form(body="My second note, straight in.")
    )
    assert response.status_code == 303
    assert "My second note, straight in." in _get(other, "/blog/walking-for-bones").text


def test_the_notice_after_commenting_is_shown_only_to_the_commenter(app, client, make_post):
    make_post("Walking for bones")
    other = app.test_client()
    _get(other, "/blog/walking-for-bones")  # the page is in the cache
    client.post("/blog/walking-for-bones", data=comment_form())
    mine = _get(client, "/blog/walking-for-bones")
    assert mine.headers["X-Cache"] == "MISS"
    assert 'id="comment-notice"' in mine.text
    theirs = _get(other, "/blog/walking-for-bones")
    assert 'id="comment-notice"' not in theirs.text
    # And once seen, the notice is gone for the commenter too.
    assert 'id="comment-notice"' not in _get(client, "/blog/walking-for-bones").text


def test_a_cached_posts_forms_work_for_new_and_returning_readers(app, make_post):
    make_post("Walking for bones")
    first, second = app.test_client(), app.test_client()
    page_one = _get(first, "/blog/walking-for-bones")
    page_two = _get(second, "/blog/walking-for-bones")
    assert page_two.headers["X-Cache"] == "HIT"
    tokens_one, tokens_two = _tokens(page_one.text), _tokens(page_two.text)
    assert len(tokens_one) == 1 and tokens_one == tokens_two  # comment and footer forms
    assert "Set-Cookie" not in page_two.headers
    # A new reader's comment, sent from the page they were given, is accepted.
    response = second.post(
        "/blog/walking-for-bones",
        data={**comment_form(), "csrf_token": tokens_two.pop()},
        headers={"Origin": "http://localhost"},
    )
    assert response.status_code == 303
    # The same form posted from another site is refused.
    refused = first.post(
        "/blog/walking-for-bones",
        data={**comment_form(email="ann@example.com"), "csrf_token": tokens_one.pop()},
        headers={"Origin": "https://evil.example"},
    )
    assert refused.status_code == 400
    # The commenter now has a session: their next page carries a token of their own.
    g.pop("csrf_token", None)  # a real request has its own ``g``; this test shares one
    again = _get(second, "/blog/walking-for-bones")
    assert _tokens(again.text).isdisjoint(_tokens(page_one.text))


def test_a_signed_in_staff_member_never_gets_or_fills_the_cache(app, client, auth, make_post):
    make_post("Walking for bones")
    auth.login()
    assert _get(client, "/blog/walking-for-bones").headers["X-Cache"] == "MISS"
    assert _get(client, "/blog/walking-for-bones").headers["X-Cache"] == "MISS"
    # Nothing the staff member saw was stored for anyone else.
    assert _get(app.test_client(), "/blog/walking-for-bones").headers["X-Cache"] == "MISS"


def test_search_is_cached_per_query(client, make_post):
    make_post("Walking for bones")
    make_post("Calcium myths")
    _get(client, "/blog/search?q=walking")
    hit = _get(client, "/blog/search?q=walking")
    assert hit.headers["X-Cache"] == "HIT" and "Walking for bones" in hit.text
    other = _get(client, "/blog/search?q=calcium")
    assert other.headers["X-Cache"] == "MISS" and "Walking for bones" not in other.text


def test_a_known_commenters_cookie_leaves_the_post_page_cached_and_shared(
    app, client, make_post, make_comment, known_commenter
):
    post = make_post("Walking for bones")
    make_comment(post, email="joan@example.com")
    reader = app.test_client()
    _get(reader, "/blog/walking-for-bones")  # stored for every reader
    known_commenter(client, "joan@example.com", "walking-for-bones")
    _get(client, "/blog/walking-for-bones")  # the one-off "thank you" notice, uncached
    page = _get(client, "/blog/walking-for-bones")
    assert page.headers["X-Cache"] == "HIT"  # the cookie does not make her pages private
    assert "Set-Cookie" not in page.headers
    # Her comment, sent with the page token of that shared page, is read with the cookie.
    g.pop("csrf_token", None)
    [token] = _tokens(page.text)
    response = client.post(
        "/blog/walking-for-bones",
        data={**comment_form(body="Straight onto the cached page."), "csrf_token": token},
        headers={"Origin": "http://localhost"},
    )
    assert response.status_code == 303
    assert "Straight onto the cached page." in _get(reader, "/blog/walking-for-bones").text
