"""The edge cache with the stack running (deploy/stack.py, as scripts/run-stack starts it):
nginx serves anonymous readers public pages from its cache, never a private session's
page, never a POST, and a change shows within the page's validity.

Needs nginx and redis-server (``WITH_STACK=1 scripts/setup``) and PostgreSQL
(TEST_DATABASE_URL); skipped without them. The stack runs on free ports with a database
of its own, ``bb_stack_test_<pid>``, dropped at the end.
"""

import os
import re
import shutil
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from deploy.stack import STAFF_EMAIL, Stack
from tests.conftest import TEST_DATABASE_URL

SEED_POST = "/blog/how-to-increase-spinal-bone-density-with-exercise"
VEST = "/shop/weighted-walking-vest"
PUBLIC_PAGES = ["/", "/blog/", SEED_POST, "/shop/", VEST, "/consultations/"]
TOKEN_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VALIDITY = 2  # EDGE_CACHE_SECONDS, the s-maxage of public pages

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists())
        or not shutil.which("redis-server"),
        reason="needs nginx and redis-server: WITH_STACK=1 scripts/setup",
    ),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    url = sa.engine.make_url(TEST_DATABASE_URL).set(database=f"bb_stack_test_{os.getpid()}")
    database_url = url.render_as_string(hide_password=False)
    running = Stack.free(
        tmp_path_factory.mktemp("stack"),
        database_url,
        workers=1,
        edge_cache_seconds=VALIDITY,
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()
        admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def engine(stack):
    engine = sa.create_engine(stack.database_url)
    yield engine
    engine.dispose()


def _token(html):
    return TOKEN_RE.search(html).group(1)


def _edge(response):
    """What nginx did: HIT, STALE, MISS, EXPIRED, BYPASS, ... (None: no cache at all)."""
    return response.headers.get("X-Edge-Cache")


def _anonymous_gets(stack, path, times=3):
    with requests.Session() as anonymous:
        return [anonymous.get(stack.url + path, timeout=10) for _ in range(times)]


def _sign_in(stack, reader):
    page = reader.get(stack.url + "/admin/login", timeout=10)
    form = {"csrf_token": _token(page.text), "email": STAFF_EMAIL, "password": stack.staff_password}
    signed_in = reader.post(
        stack.url + "/admin/login", data=form, allow_redirects=False, timeout=10
    )
    assert signed_in.status_code == 303
    assert reader.cookies.get("bb_private") == "1"


def _comment(stack, reader, text):
    page = reader.get(stack.url + SEED_POST, timeout=10)
    form = {
        "csrf_token": _token(page.text),
        "name": "Edge Reader",
        "email": f"edge-{uuid.uuid4().hex[:8]}@example.com",
        "body": text,
        "parent_id": "",
        "website": "",
    }
    headers = {"Referer": stack.url + SEED_POST, "Origin": stack.url}
    return reader.post(
        stack.url + SEED_POST, data=form, headers=headers, allow_redirects=False, timeout=10
    )


def _assert_private_and_unshared(stack, reader, marker):
    """Every public page ``reader`` gets is answered by the app, never from the edge
    cache; anonymous readers before and after never see ``marker`` (what is theirs)."""
    for path in PUBLIC_PAGES:
        _anonymous_gets(stack, path, times=2)  # the anonymous copy is in the edge cache
        theirs = reader.get(stack.url + path, timeout=10)
        assert theirs.status_code == 200, path
        assert _edge(theirs) == "BYPASS", path
        assert "public" not in theirs.headers["Cache-Control"], path
        for response in _anonymous_gets(stack, path, times=2):
            assert marker not in response.text, path
            assert response.headers["Cache-Control"].startswith("public"), path


def test_anonymous_readers_get_public_pages_from_the_edge_cache(stack):
    for path in PUBLIC_PAGES:
        responses = _anonymous_gets(stack, path)
        assert [r.status_code for r in responses] == [200, 200, 200], path
        assert _edge(responses[-1]) in ("HIT", "STALE", "UPDATING", "REVALIDATED"), path
        assert responses[-1].headers["Cache-Control"] == f"public, max-age=0, s-maxage={VALIDITY}"
        assert "Set-Cookie" not in responses[-1].headers


def test_static_files_come_from_nginx_with_the_apps_lifetimes(stack):
    home = requests.get(stack.url + "/", timeout=10).text
    fingerprinted = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]+)"', home).group(1)
    long = requests.get(stack.url + fingerprinted, timeout=10)
    short = requests.get(stack.url + "/static/css/site.css", timeout=10)
    assert long.status_code == short.status_code == 200
    assert long.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert short.headers["Cache-Control"] == "public, max-age=300"
    assert "X-Cache" not in long.headers  # nginx answered, not the app


def test_a_signed_in_reader_never_gets_a_cached_page_and_never_leaks_theirs(stack):
    with requests.Session() as staff:
        _sign_in(stack, staff)
        their_token = _token(staff.get(stack.url + SEED_POST, timeout=10).text)
        _assert_private_and_unshared(stack, staff, their_token)
        dashboard = staff.get(stack.url + "/admin/", timeout=10)
        assert dashboard.status_code == 200 and _edge(dashboard) == "BYPASS"
    stranger = requests.get(stack.url + "/admin/", allow_redirects=False, timeout=10)
    assert stranger.status_code in (302, 303) and "/admin/login" in stranger.headers["Location"]


def test_a_reader_with_a_cart_never_gets_a_cached_page_and_never_leaks_theirs(stack, engine):
    with engine.connect() as conn:
        variant_id = conn.scalar(
            sa.text(
                "SELECT v.id FROM variant v JOIN product p ON p.id = v.product_id "
                "WHERE p.slug = 'weighted-walking-vest' AND (v.stock IS NULL OR v.stock > 0) "
                "ORDER BY v.id LIMIT 1"
            )
        )
    with requests.Session() as shopper:
        page = shopper.get(stack.url + VEST, timeout=10)
        added = shopper.post(
            stack.url + "/cart/add",
            data={"csrf_token": _token(page.text), "variant_id": variant_id, "quantity": 1},
            headers={"Referer": stack.url + VEST, "Origin": stack.url},
            allow_redirects=False,
            timeout=10,
        )
        assert added.status_code == 303
        assert shopper.cookies.get("bb_private") == "1"
        cart = shopper.get(stack.url + "/cart", timeout=10)
        assert cart.status_code == 200 and _edge(cart) == "BYPASS"
        their_token = _token(cart.text)
        _assert_private_and_unshared(stack, shopper, their_token)
    for response in _anonymous_gets(stack, "/cart", times=2):
        assert their_token not in response.text and "public" not in response.headers.get(
            "Cache-Control", ""
        )


def test_a_reader_with_a_message_waiting_gets_it_from_the_app_and_nobody_else_does(stack):
    _anonymous_gets(stack, SEED_POST, times=2)
    with requests.Session() as reader:
        sent = _comment(stack, reader, "Thank you for the exercises. [edge-notice]")
        assert sent.status_code == 303 and sent.headers["Location"].endswith("#comment-notice")
        assert reader.cookies.get("bb_private") == "1"
        shown = reader.get(stack.url + SEED_POST, timeout=10)
        assert "your comment is awaiting moderation" in shown.text
        assert _edge(shown) == "BYPASS"
        # Shown once: the session is no longer private, so the mark is gone.
        assert reader.cookies.get("bb_private") is None
        for response in _anonymous_gets(stack, SEED_POST, times=3):
            assert "awaiting moderation" not in response.text
        assert "awaiting moderation" not in reader.get(stack.url + SEED_POST, timeout=10).text


def test_an_approved_comment_shows_within_the_validity(stack, engine):
    marker = f"[edge-approved-{uuid.uuid4().hex[:6]}]"
    with requests.Session() as reader:
        assert _comment(stack, reader, f"Walking helps me. {marker}").status_code == 303
    with engine.connect() as conn:
        comment_id = conn.scalar(
            sa.text("SELECT id FROM comment WHERE body_md LIKE :m"), {"m": f"%{marker}%"}
        )
    assert marker not in _anonymous_gets(stack, SEED_POST, times=2)[-1].text  # cached
    with requests.Session() as staff:
        _sign_in(stack, staff)
        queue = staff.get(stack.url + "/admin/comments", timeout=10)
        approved = staff.post(
            stack.url + "/admin/comments",
            data={"csrf_token": _token(queue.text), "one": f"{comment_id}:approve"},
            headers={"Referer": stack.url + "/admin/comments", "Origin": stack.url},
            allow_redirects=False,
            timeout=10,
        )
        assert approved.status_code == 303
    changed_at = time.monotonic()
    with requests.Session() as anonymous:
        while marker not in anonymous.get(stack.url + SEED_POST, timeout=10).text:
            assert time.monotonic() - changed_at < VALIDITY + 2, "not shown within the validity"
            time.sleep(0.1)
    # The copy lives s-maxage seconds; the first request after it is served the old copy
    # while one request fetches the new (stale-while-updating): a fraction of a second.
    assert time.monotonic() - changed_at <= VALIDITY + 1


def test_a_post_is_never_answered_from_the_edge_cache(stack, engine):
    addresses = [f"edge-{uuid.uuid4().hex[:8]}@example.com" for _ in range(2)]
    for address in addresses:
        with requests.Session() as reader:
            page = reader.get(stack.url + "/newsletter/", timeout=10)
            sent = reader.post(
                stack.url + "/newsletter/",
                data={"csrf_token": _token(page.text), "email": address, "website": ""},
                headers={"Referer": stack.url + "/newsletter/", "Origin": stack.url},
                allow_redirects=False,
                timeout=10,
            )
            assert sent.status_code == 303
            assert _edge(sent) in (None, "BYPASS")
    with engine.connect() as conn:
        stored = conn.scalar(
            sa.text(
                "SELECT count(*) FROM subscriber WHERE email_normalized IN :addresses"
            ).bindparams(sa.bindparam("addresses", expanding=True)),
            {"addresses": addresses},
        )
    assert stored == 2
