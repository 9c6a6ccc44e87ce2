"""The public blog pages: home, index with pagination, tags, a post, and what is hidden."""

from datetime import timedelta

import pytest

from blueprints.core.types import utcnow


def test_home_lists_latest_posts_and_links_to_shop_consultations_and_newsletter(client, make_post):
    make_post("Walking for stronger bones", days_ago=1)
    make_post("An old note on calcium", days_ago=400)
    html = client.get("/").get_data(as_text=True)
    assert "Walking for stronger bones" in html
    assert 'href="/blog/walking-for-stronger-bones"' in html
    assert 'href="/shop/"' in html
    assert 'href="/consultations/"' in html
    assert 'href="/newsletter/"' in html


def test_home_without_posts_says_so_instead_of_failing(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "New articles are on their way" in response.get_data(as_text=True)


def test_blog_index_pages_ten_posts_newest_first(client, make_post):
    for day in range(1, 13):
        make_post(f"Post published {day} days ago", days_ago=day)
    first = client.get("/blog/").get_data(as_text=True)
    second = client.get("/blog/?page=2").get_data(as_text=True)
    assert first.index("Post published 1 days ago") < first.index("Post published 10 days ago")
    assert "Post published 11 days ago" not in first
    assert "Page 1 of 2" in first and 'href="/blog/?page=2"' in first
    assert "Post published 11 days ago" in second
    assert "Post published 12 days ago" in second
    assert "Post published 3 days ago" not in second
    assert 'href="/blog/?page=1"' in second


@pytest.mark.parametrize(
    "page", ["3", "0", "-1", "abc", "1.5", "99999999999999999999", "²", "%00", ""]
)
def test_blog_index_answers_bad_or_too_large_page_numbers_with_404(client, make_post, page):
    for day in range(1, 13):
        make_post(days_ago=day)
    response = client.get(f"/blog/?page={page}")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_tag_page_lists_only_posts_with_that_tag(client, make_post):
    make_post("Walking every day", tags=["walking", "exercise"])
    make_post("Calcium from food", tags=["calcium"])
    response = client.get("/blog/tag/walking")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Posts about walking" in html
    assert "Walking every day" in html
    assert "Calcium from food" not in html


def test_tag_page_for_unknown_or_malformed_tag_is_404(client, make_post):
    make_post(tags=["walking"])
    assert client.get("/blog/tag/no-such-tag").status_code == 404
    assert client.get("/blog/tag/%3Cscript%3E").status_code == 404
    assert client.get("/blog/tag/" + "a" * 500).status_code == 404


def test_tag_page_paginates(client, make_post):
    for day in range(1, 12):
        make_post(f"Balance tip {day}", days_ago=day, tags=["balance"])
    assert "Balance tip 11" in client.get("/blog/tag/balance?page=2").get_data(as_text=True)
    assert client.get("/blog/tag/balance?page=3").status_code == 404


def test_post_page_shows_breadcrumbs_author_dates_tags_body_and_references(client, make_post):
    reviewed = utcnow() - timedelta(days=1)
    make_post(
        "Strong backs",
        "Back **muscles** matter.\n\n1. Stand tall\n2. Lift light weights",
        days_ago=5,
        tags=["spine", "exercise"],
        references=["Lee et al. 2015.", ("Sinaki et al. 2002.", "https://example.org/s")],
        reviewed_at=reviewed,
        summary="Why back muscles help the spine.",
    )
    html = client.get("/blog/strong-backs").get_data(as_text=True)
    crumbs = html[
        html.index('aria-label="Breadcrumb"') : html.index("</nav>", html.index("Breadcrumb"))
    ]
    assert "<ol>" in crumbs and 'href="/"' in crumbs and 'href="/blog/"' in crumbs
    assert '<span aria-current="page">Strong backs</span>' in crumbs
    assert "Dr. Susan E. Brown, PhD" in html
    assert "Published" in html and "Last reviewed" in html
    assert 'href="/blog/tag/spine"' in html and 'href="/blog/tag/exercise"' in html
    assert "<strong>muscles</strong>" in html and "<li>Stand tall</li>" in html
    refs = html[html.index('class="reference-list"') :]
    assert refs.index("Lee et al. 2015.") < refs.index("Sinaki et al. 2002.")
    assert 'Available from: <a href="https://example.org/s" rel="noopener">' in refs
    assert "not medical advice" in html or "cannot advise" in html
    assert '<link rel="canonical" href="http://localhost/blog/strong-backs">' in html


def test_post_page_shows_dates_in_the_readers_time_zone(client, make_post):
    post = make_post("Late night post", days_ago=0)
    post.published_at = post.published_at.replace(year=2026, month=3, day=2, hour=3, minute=0)
    from extensions import db

    db.session.commit()
    new_york = client.get("/blog/late-night-post").get_data(as_text=True)
    client.set_cookie("tz", "Asia/Tokyo")
    tokyo = client.get("/blog/late-night-post").get_data(as_text=True)
    assert ">1 March 2026</time>" in new_york
    assert ">2 March 2026</time>" in tokyo


def test_post_page_links_previous_next_and_recent_posts(client, make_post):
    make_post("Oldest", days_ago=30)
    make_post("Middle", days_ago=20)
    make_post("Newest", days_ago=10)
    html = client.get("/blog/middle").get_data(as_text=True)
    assert '<a href="/blog/oldest" rel="prev">Oldest</a>' in html
    assert '<a href="/blog/newest" rel="next">Newest</a>' in html
    recent = html[html.index("Recent posts") :]
    assert 'href="/blog/newest"' in recent and 'href="/blog/oldest"' in recent
    first = client.get("/blog/oldest").get_data(as_text=True)
    assert 'rel="prev"' not in first and '<a href="/blog/middle" rel="next">' in first


def test_previous_next_is_stable_for_posts_published_at_the_same_moment(client, make_post):
    a = make_post("Twin one", days_ago=3)
    b = make_post("Twin two", days_ago=3)
    b.published_at = a.published_at
    from extensions import db

    db.session.commit()
    html = client.get("/blog/twin-one").get_data(as_text=True)
    assert '<a href="/blog/twin-two" rel="next">' in html
    html = client.get("/blog/twin-two").get_data(as_text=True)
    assert '<a href="/blog/twin-one" rel="prev">' in html


def test_drafts_and_scheduled_posts_are_never_shown(client, make_post):
    make_post("Published one", days_ago=2, tags=["walking"])
    make_post("Secret draft", draft=True, tags=["walking"])
    make_post("Scheduled post", future=True, tags=["walking"])
    for url in [
        "/",
        "/blog/",
        "/blog/tag/walking",
        "/blog/search?q=post",
        "/blog/feed.xml",
        "/sitemap.xml",
        "/blog/published-one",
    ]:
        body = client.get(url).get_data(as_text=True)
        assert "Secret draft" not in body and "secret-draft" not in body, url
        assert "Scheduled post" not in body and "scheduled-post" not in body, url
    assert client.get("/blog/secret-draft").status_code == 404
    assert client.get("/blog/scheduled-post").status_code == 404


@pytest.mark.parametrize("slug", ["no-such-post", "UPPER", "a%00b", "..%2f..%2fetc", "x" * 300])
def test_unknown_or_malformed_slug_gives_the_styled_404(client, slug):
    response = client.get(f"/blog/{slug}")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page not found" in html
    assert 'class="site-header"' in html
    assert "Content-Security-Policy" in response.headers


def test_posting_a_comment_to_an_unknown_post_is_404_and_stores_nothing(client):
    from blueprints.blog.models import Comment
    from extensions import db

    response = client.post(
        "/blog/no-such-post", data={"name": "A", "email": "a@example.com", "body": "Hi"}
    )
    assert response.status_code == 404
    assert db.session.query(Comment).count() == 0


def test_post_body_is_the_html_stored_on_save_not_rendered_per_request(client, make_post):
    from extensions import db

    post = make_post("Stored once", "**Saved** text")
    post.body_md = "*Changed* without saving the HTML"
    db.session.commit()
    html = client.get("/blog/stored-once").get_data(as_text=True)
    assert "<strong>Saved</strong> text" in html
    assert "Changed" not in html


def test_tag_page_of_a_tag_without_published_posts_says_so_and_is_not_indexed(client, make_post):
    make_post("Secret", draft=True, tags=["hidden topic"])
    response = client.get("/blog/tag/hidden-topic")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There are no posts about hidden topic yet" in html
    assert '<meta name="robots" content="noindex">' in html


def test_post_page_describes_the_article_for_search_engines(client, make_post):
    import json
    import re

    make_post("Strong backs", tags=["spine"], summary="Why </script> muscles matter.")
    response = client.get("/blog/strong-backs")
    html = response.get_data(as_text=True)
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    data = json.loads(match.group(1))
    assert data["@type"] == "BlogPosting"
    assert data["headline"] == "Strong backs"
    assert data["description"] == "Why </script> muscles matter."  # escaped in the page
    assert data["mainEntityOfPage"] == "http://localhost/blog/strong-backs"
    # A data block runs nothing: no nonce, so the page is the same bytes for everyone.
    assert "nonce" not in html
    assert "script-src 'self';" in response.headers["Content-Security-Policy"]
