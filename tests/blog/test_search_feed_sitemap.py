"""Search across titles and bodies, the Atom feed and the sitemap."""

import xml.etree.ElementTree as ET

import pytest

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def app_config():
    return {"SITE_URL": "https://betterbones.example"}


def test_search_finds_words_in_titles_and_bodies_in_any_case(client, make_post):
    make_post("Vitamin D and sunshine", "Get outside.")
    make_post("Walking", "Brisk walks and VITAMIN K2 foods.")
    make_post("Balance", "Stand on one foot.")
    html = client.get("/blog/search?q=vitamin").get_data(as_text=True)
    assert "Vitamin D and sunshine" in html and ">Walking</a>" in html
    assert ">Balance</a>" not in html
    assert "2 posts found." in html


def test_search_with_several_words_needs_all_of_them(client, make_post):
    make_post("Calcium from food", "Leafy greens and almonds.")
    make_post("Calcium supplements", "Take them with meals.")
    html = client.get("/blog/search?q=calcium+almonds").get_data(as_text=True)
    assert "Calcium from food" in html and "Calcium supplements" not in html


@pytest.mark.parametrize(
    ("query", "expected", "not_expected"),
    [
        ("50%", "Lose 50% of strength", "Lose 500 grams"),
        ("a_b", "The a_b rule", "The axb rule"),
        ("back\\slash", "A back\\slash post", "A backslash post"),
    ],
)
def test_search_treats_like_wildcards_literally(client, make_post, query, expected, not_expected):
    make_post(expected)
    make_post(not_expected)
    html = client.get("/blog/search", query_string={"q": query}).get_data(as_text=True)
    assert expected in html
    assert not_expected not in html


@pytest.mark.parametrize(
    "query", ["'; DROP TABLE post; --", "<script>alert(1)</script>", "%", "_", "\\", "“quotes”"]
)
def test_search_with_special_characters_answers_safely(client, make_post, query):
    make_post("Walking", "Brisk walks.")
    response = client.get("/blog/search", query_string={"q": query})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in html
    assert "No posts matched" in html
    assert client.get("/blog/walking").status_code == 200


def test_empty_search_shows_a_prompt(client):
    response = client.get("/blog/search?q=+++")
    assert response.status_code == 200
    assert "Type a word or two" in response.get_data(as_text=True)


def test_over_long_search_is_refused_with_a_clear_message(client):
    response = client.get("/blog/search", query_string={"q": "bone " * 100})
    assert response.status_code == 400
    assert "Please search with 200 characters or fewer." in response.get_data(as_text=True)


def test_search_with_control_characters_is_refused_not_a_500(client):
    response = client.get("/blog/search", query_string={"q": "bone\x00density"})
    assert response.status_code == 400
    assert "characters we cannot look for" in response.get_data(as_text=True)


def test_search_does_not_find_drafts(client, make_post):
    make_post("Secret calcium draft", draft=True)
    assert "No posts matched" in client.get("/blog/search?q=calcium").get_data(as_text=True)


def test_search_results_paginate_and_keep_the_query(client, make_post):
    for day in range(1, 13):
        make_post(f"Calcium tip {day}", days_ago=day)
    first = client.get("/blog/search?q=calcium").get_data(as_text=True)
    assert 'href="/blog/search?page=2&amp;q=calcium"' in first
    second = client.get("/blog/search?q=calcium&page=2").get_data(as_text=True)
    assert "Calcium tip 12" in second


def test_atom_feed_is_valid_xml_with_absolute_links_and_newest_entries_first(client, make_post):
    make_post("Older post", "Old *news*.", days_ago=5, tags=["walking"], summary="Old one.")
    make_post("Newer post", "New **news** & more.", days_ago=1)
    make_post("A draft", draft=True)
    response = client.get("/blog/feed.xml")
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    assert feed.find(f"{ATOM}title").text == "Better Bones blog"
    self_link = feed.find(f"{ATOM}link[@rel='self']").get("href")
    assert self_link == "https://betterbones.example/blog/feed.xml"
    assert feed.find(f"{ATOM}updated").text
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["Newer post", "Older post"]
    newer, older = entries
    assert newer.find(f"{ATOM}link").get("href") == "https://betterbones.example/blog/newer-post"
    assert newer.find(f"{ATOM}id").text.startswith("tag:betterbones.example,")
    assert newer.find(f"{ATOM}content").get("type") == "html"
    assert newer.find(f"{ATOM}content").text == "<p>New <strong>news</strong> &amp; more.</p>\n"
    assert older.find(f"{ATOM}summary").text == "Old one."
    assert older.find(f"{ATOM}category").get("term") == "walking"
    assert newer.find(f"{ATOM}published").text.endswith("+00:00")


def test_feed_without_posts_is_still_valid(client):
    feed = ET.fromstring(client.get("/blog/feed.xml").data)
    assert feed.findall(f"{ATOM}entry") == []


def test_sitemap_lists_published_posts_and_topics_with_absolute_urls(client, make_post):
    make_post("Walking", days_ago=2, tags=["walking"])
    make_post("A draft", draft=True, tags=["secret"])
    urlset = ET.fromstring(client.get("/sitemap.xml").data)
    locs = [u.find(f"{SITEMAP}loc").text for u in urlset.findall(f"{SITEMAP}url")]
    assert "https://betterbones.example/" in locs
    assert "https://betterbones.example/blog/" in locs
    assert "https://betterbones.example/blog/walking" in locs
    assert "https://betterbones.example/blog/tag/walking" in locs
    assert "https://betterbones.example/blog/a-draft" not in locs
    assert "https://betterbones.example/blog/tag/secret" not in locs


def test_sitemap_urls_returns_lastmod_for_posts(app, make_post):
    from blueprints.blog.posts import sitemap_urls

    post = make_post("Walking", days_ago=2)
    with app.test_request_context():
        urls = dict(sitemap_urls())
    assert urls["https://betterbones.example/blog/walking"] == post.updated_at
