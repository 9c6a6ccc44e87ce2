"""A post's comments as readers find them: the link near the title, ten threads to a
page with the total, her own waiting comment shown to her only, and the demo's dates."""

import re

import pytest
from sqlalchemy import select

from blueprints.blog.models import Comment, CommentStatus, Post
from blueprints.blog.seed import seed
from blueprints.core.types import utcnow
from extensions import db
from tests.blog.conftest import comment_form, inspect_markup


@pytest.fixture
def post(make_post):
    return make_post("Strong backs", days_ago=3)


def _threads(make_comment, post, n):
    """``n`` approved threads, oldest first; every third one has a reply."""
    tops = []
    for number in range(n):
        top = make_comment(post, body=f"Thread {number + 1:02d} here.", commit=False)
        if number % 3 == 0:
            make_comment(post, parent=top, body=f"Reply to {number + 1:02d}.", commit=False)
        tops.append(top)
    db.session.commit()
    return tops


def _shown_threads(html):
    return re.findall(r"Thread (\d\d) here\.", html)


def test_add_a_comment_link_near_the_title_leads_to_the_form(client, post):
    html = client.get("/blog/strong-backs").get_data(as_text=True)
    start = html.index('<header class="post-header">')
    header = html[start : html.index("</header>", start)]
    assert '<a href="#add-comment">Add a comment</a>' in header
    assert 'id="add-comment"' in html and "<form" in html.split('id="add-comment"')[1]


def test_25_threads_make_three_pages_of_ten_with_the_total(client, post, make_comment):
    _threads(make_comment, post, 25)  # and 9 replies: 34 comments
    first = client.get("/blog/strong-backs").get_data(as_text=True)
    second = client.get("/blog/strong-backs?comments=2").get_data(as_text=True)
    third = client.get("/blog/strong-backs?comments=3").get_data(as_text=True)
    assert _shown_threads(first) == [f"{n:02d}" for n in range(1, 11)]
    assert _shown_threads(second) == [f"{n:02d}" for n in range(11, 21)]
    assert _shown_threads(third) == [f"{n:02d}" for n in range(21, 26)]
    # Replies stay with their thread's page.
    assert "Reply to 10." in first and "Reply to 13." in second and "Reply to 22." in third
    assert "Reply to 13." not in first
    for html in (first, second, third):
        assert "Comments (34)" in html and ">34 comments</a>" in html
    assert "Page 1 of 3" in first and "Page 3 of 3" in third
    assert 'href="/blog/strong-backs?comments=2#comments" rel="next"' in first
    assert 'href="/blog/strong-backs?comments=2#comments" rel="prev"' in third
    assert 'href="/blog/strong-backs#comments" rel="prev"' in second
    ids = [value for _tag, name, value in inspect_markup(second).attributes if name == "id"]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("page", ["4", "0", "-1", "two", "9" * 20])
def test_a_comments_page_that_does_not_exist_is_not_found(client, post, make_comment, page):
    _threads(make_comment, post, 25)
    assert client.get(f"/blog/strong-backs?comments={page}").status_code == 404


def test_a_post_without_comments_has_one_page_and_no_pager(client, post):
    html = client.get("/blog/strong-backs").get_data(as_text=True)
    assert "No comments yet" in html and "Pages of comments" not in html
    assert client.get("/blog/strong-backs?comments=2").status_code == 404


def test_reply_links_on_a_later_page_keep_the_page(client, post, make_comment):
    tops = _threads(make_comment, post, 12)
    html = client.get("/blog/strong-backs?comments=2").get_data(as_text=True)
    assert f"?comments=2&amp;reply_to={tops[10].id}#add-comment" in html
    reply_page = client.get(f"/blog/strong-backs?comments=2&reply_to={tops[10].id}")
    assert "You are replying to" in reply_page.get_data(as_text=True)


def test_a_published_reply_leads_back_to_its_threads_page(
    client, post, make_comment, known_commenter
):
    tops = _threads(make_comment, post, 12)
    make_comment(post, email="joan@example.com", body="Approved before.")
    known_commenter(client, "joan@example.com")
    response = client.post(
        "/blog/strong-backs",
        data=comment_form(email="joan@example.com", body="Me too!", parent_id=str(tops[11].id)),
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/blog/strong-backs?comments=2#comment-notice")


@pytest.mark.parametrize("refusal", ["empty field", "past the limit"])
def test_a_reply_given_back_on_a_later_page_still_answers_its_thread(
    client, post, make_comment, refusal
):
    tops = _threads(make_comment, post, 12)
    if refusal == "past the limit":
        for n in range(5):
            client.post("/blog/strong-backs", data=comment_form(body=f"Note {n}"))
    reply = comment_form(body="" if refusal == "empty field" else "Me too!")
    response = client.post("/blog/strong-backs", data={**reply, "parent_id": str(tops[11].id)})
    html = response.get_data(as_text=True)
    assert response.status_code == (400 if refusal == "empty field" else 429)
    assert "You are replying to <strong>Reader" in html
    assert f'name="parent_id" type="hidden" value="{tops[11].id}"' in html
    assert _shown_threads(html) == ["11", "12"]


def test_her_waiting_comment_is_shown_to_her_only_marked_awaiting_moderation(
    app, client, post, make_comment
):
    _threads(make_comment, post, 3)
    other = app.test_client()
    assert other.get("/blog/strong-backs").status_code == 200  # the page is now cached
    response = client.post(
        "/blog/strong-backs", data=comment_form(body="My own words, still waiting.")
    )
    assert response.status_code == 303
    [mine] = db.session.scalars(select(Comment).where(Comment.status == CommentStatus.PENDING))
    for visit in range(2):  # after the one-time notice too
        html = client.get("/blog/strong-backs").get_data(as_text=True)
        assert "My own words, still waiting." in html, visit
        hers = html[html.index('id="own-pending"') :]
        assert f'id="comment-{mine.id}"' in hers
        assert "Awaiting moderation" in hers[: hers.index("</article>")]
    # Never in another reader's page, from the cache or freshly rendered.
    cached = other.get("/blog/strong-backs")
    assert cached.headers.get("X-Cache") == "HIT"
    assert "My own words" not in cached.get_data(as_text=True)
    fresh = app.test_client().get("/blog/strong-backs?comments=1")
    assert "My own words" not in fresh.get_data(as_text=True)
    assert "awaiting moderation" not in fresh.get_data(as_text=True).lower()


def test_her_waiting_comment_is_not_shown_on_another_post(client, post, make_post):
    make_post("Calcium myths", days_ago=4)
    client.post("/blog/strong-backs", data=comment_form(body="About backs only."))
    assert "About backs only." not in client.get("/blog/calcium-myths").get_data(as_text=True)


def test_once_approved_her_comment_shows_in_its_thread_and_her_pages_are_shared_again(client, post):
    client.post("/blog/strong-backs", data=comment_form(body="Soon approved."))
    client.get("/blog/strong-backs")  # the one-time notice is shown
    comment = db.session.scalar(select(Comment))
    comment.status = CommentStatus.APPROVED
    db.session.commit()
    html = client.get("/blog/strong-backs").get_data(as_text=True)
    assert "Soon approved." in html and 'id="own-pending"' not in html
    with client.session_transaction() as session:
        assert "blog_pending_comments" not in session


def test_post_page_queries_stay_the_same_on_any_comments_page(
    app, client, post, make_comment, count_queries
):
    app.config["PAGE_CACHE"] = False
    _threads(make_comment, post, 25)
    counts = []
    for url in ("/blog/strong-backs", "/blog/strong-backs?comments=3"):
        client.get(url)
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        counts.append(counter.count)
    _threads(make_comment, post, 40)
    with count_queries() as counter:
        assert client.get("/blog/strong-backs?comments=7").status_code == 200
    counts.append(counter.count)
    assert len(set(counts)) == 1 and counts[0] <= 5


def test_no_seeded_date_is_later_than_today(app):
    seed()
    db.session.commit()
    now = utcnow()
    for post in db.session.scalars(select(Post)):
        for when in (post.published_at, post.reviewed_at, post.created_at, post.updated_at):
            assert when is None or when <= now, (post.slug, when)
    for comment in db.session.scalars(select(Comment)):
        assert comment.created_at <= now and comment.moderated_at <= now
        assert comment.created_at >= comment.post.published_at
