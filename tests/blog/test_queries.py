"""Query budgets: pages run a fixed number of SQL statements, whatever the data size."""

import pytest

from blueprints.blog.models import CommentStatus
from extensions import db

MAX_QUERIES = 5


@pytest.fixture
def app_config():
    # The budgets are the pages' own work: a page served from the page cache would run
    # no query at all and prove nothing (tests/perf/ measures the cached path).
    return {"PAGE_CACHE": False}


@pytest.fixture
def post_with_comments(make_post, make_comment):
    """A post with ``n`` approved comments (half of them replies), plus noise."""

    def build(n):
        post = make_post(
            "Strong backs",
            days_ago=5,
            tags=["spine", "exercise"],
            references=["Lee 2015.", "Sinaki 2002."],
        )
        make_post("Older", days_ago=9)
        make_post("Newer", days_ago=1)
        tops = [make_comment(post, commit=False) for _ in range(n // 2)]
        for top in tops:
            make_comment(post, parent=top, commit=False)
        make_comment(post, status=CommentStatus.PENDING, commit=False)
        db.session.commit()
        return post

    return build


def _queries_for(client, count_queries, url):
    client.get(url)  # warm up: the first request may load things once per process
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return counter.count, response.get_data(as_text=True)


@pytest.mark.parametrize("comments", [20, 200])
def test_post_page_runs_at_most_five_queries(client, count_queries, post_with_comments, comments):
    post_with_comments(comments)
    count, html = _queries_for(client, count_queries, "/blog/strong-backs")
    # Ten threads to a page (each here with one reply), and the total in the heading.
    shown = html.count('class="comment"') + html.count('class="comment comment-reply"')
    assert shown == min(comments, 20)
    assert f"Comments ({comments})" in html
    assert count <= MAX_QUERIES


def test_post_page_query_count_does_not_grow_with_comments(
    app, client, count_queries, post_with_comments, make_comment
):
    post = post_with_comments(20)
    small, _ = _queries_for(client, count_queries, "/blog/strong-backs")
    for _ in range(90):
        top = make_comment(post, commit=False)
        make_comment(post, parent=top, commit=False)
    db.session.commit()
    large, html = _queries_for(client, count_queries, "/blog/strong-backs")
    assert "Comments (200)" in html
    assert large == small <= MAX_QUERIES


def test_blog_index_query_count_is_the_same_for_12_and_120_posts(client, count_queries, make_post):
    for n in range(12):
        make_post(tags=[f"topic {n % 4}", "bones"], commit=False)
    db.session.commit()
    small, html = _queries_for(client, count_queries, "/blog/")
    assert html.count('class="card post-card"') == 10
    for n in range(108):
        make_post(tags=[f"topic {n % 7}", "bones"], commit=False)
    db.session.commit()
    large, html = _queries_for(client, count_queries, "/blog/?page=5")
    assert html.count('class="card post-card"') == 10
    assert large == small <= MAX_QUERIES


@pytest.mark.parametrize("url", ["/", "/blog/tag/bones", "/blog/search?q=bone", "/blog/feed.xml"])
def test_list_pages_query_count_does_not_grow_with_posts(client, count_queries, make_post, url):
    for n in range(5):
        make_post(tags=["bones", f"t{n}"], commit=False)
    db.session.commit()
    small, _ = _queries_for(client, count_queries, url)
    for n in range(45):
        make_post(tags=["bones", f"t{n}"], commit=False)
    db.session.commit()
    large, _ = _queries_for(client, count_queries, url)
    assert large == small <= MAX_QUERIES
