"""Fingerprinted static files: a year of browser caching, and never a stale file."""

import gzip
import hashlib
import re
from pathlib import Path

import pytest
from flask import url_for

from app import create_app
from tests.conftest import make_config

STATIC = Path(__file__).resolve().parents[2] / "static"


def _short_hash(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def test_static_urls_carry_the_content_hash(app):
    with app.test_request_context():
        url = url_for("static", filename="css/site.css")
    assert url == f"/static/css/site.css?v={_short_hash(STATIC / 'css/site.css')}"


def test_every_page_links_fingerprinted_css_and_script(client):
    html = client.get("/").text
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert {a.split("?")[0] for a in assets} >= {"/static/css/site.css", "/static/js/site.js"}
    assert all("?v=" in asset for asset in assets)


def test_fingerprinted_file_is_cached_for_a_year(client, app):
    with app.test_request_context():
        url = url_for("static", filename="css/site.css")
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == (STATIC / "css/site.css").read_bytes()
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("query", ["", "?v=0000000000"])
def test_file_without_its_current_hash_is_cached_briefly(client, query):
    # An old fingerprint must not pin today's content under yesterday's URL for a year.
    response = client.get("/static/css/site.css" + query)
    assert response.status_code == 200
    cache_control = response.headers["Cache-Control"]
    assert "immutable" not in cache_control
    assert int(re.search(r"max-age=(\d+)", cache_control).group(1)) <= 600


def test_missing_file_gets_no_fingerprint_and_a_404(client, app):
    with app.test_request_context():
        assert url_for("static", filename="css/no-such.css") == "/static/css/no-such.css"
    assert client.get("/static/css/no-such.css").status_code == 404


def test_a_changed_file_gets_a_new_url(tmp_path, database_url, smtp_controller):
    (tmp_path / "app.css").write_text("body { color: black; }")

    def url_in_a_new_process():
        app = create_app(make_config(database_url, smtp_controller))
        app.static_folder = str(tmp_path)
        with app.test_request_context():
            return url_for("static", filename="app.css")

    before = url_in_a_new_process()
    (tmp_path / "app.css").write_text("body { color: navy; }")
    after = url_in_a_new_process()
    assert before != after
    assert after.endswith(_short_hash(tmp_path / "app.css"))


# Page weight budgets from issue 6 (compressed sizes, as a gzip-ing proxy sends them).
HTML_BUDGET = 30 * 1024
CSS_BUDGET = 20 * 1024


def test_stylesheet_stays_within_its_budget():
    css = (STATIC / "css/site.css").read_bytes()
    assert len(gzip.compress(css, 6)) < CSS_BUDGET


@pytest.mark.parametrize("path", ["/", "/blog/", "/shop/", "/consultations/", "/newsletter/"])
def test_public_page_html_stays_within_its_budget(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert len(gzip.compress(response.data, 6)) < HTML_BUDGET


def test_the_typeface_is_self_hosted_fingerprinted_and_preloaded(client):
    """Atkinson Hyperlegible comes from our own host: each @font-face URL carries the
    file's current fingerprint (a year of caching, never a stale font), every page
    preloads the two weights it uses at exactly those URLs, and no font host is named."""
    css = (STATIC / "css/site.css").read_text()
    font_urls = re.findall(r'url\("\.\./(fonts/[^"?]+\.woff2)\?v=([0-9a-f]+)"\)', css)
    assert len(font_urls) == 3
    for name, version in font_urls:
        data = (STATIC / name).read_bytes()
        assert data[:4] == b"wOF2"
        assert version == _short_hash(STATIC / name)
        assert (
            client.get(f"/static/{name}?v={version}").headers["Cache-Control"].endswith("immutable")
        )
    html = client.get("/").text
    preloads = re.findall(r'<link rel="preload" href="/static/(fonts/[^"]+)" as="font"[^>]*>', html)
    assert len(preloads) == 2
    assert all("crossorigin" in tag for tag in re.findall(r'<link rel="preload"[^>]*>', html))
    assert {p.replace("?v=", "@") for p in preloads} <= {f"{n}@{v}" for n, v in font_urls}
    assert "fonts.googleapis" not in css + html and "font-display: swap" in css
    assert (STATIC / "fonts/OFL.txt").exists()
