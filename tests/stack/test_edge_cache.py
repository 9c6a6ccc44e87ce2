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
from html.parser import HTMLParser
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
# EDGE_CACHE_SECONDS: the longest a reader is shown a page older than a change.
VALIDITY = 2
# Longer than a copy may live in the edge cache, fresh or stale (a "quiet spell").
QUIET = 4
RENDITION_RE = re.compile(r"(/media/\d+-[0-9a-f]+-\d+\.(?:webp|jpg))")

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
        assert responses[-1].headers["Cache-Control"] == "public, max-age=0, s-maxage=1"
        assert "Set-Cookie" not in responses[-1].headers


def test_static_files_come_from_nginx_with_the_apps_lifetimes(stack):
    home = requests.get(stack.url + "/", timeout=10).text
    fingerprinted = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]+)"', home).group(1)
    long = requests.get(stack.url + fingerprinted, timeout=10)
    short = requests.get(stack.url + "/static/css/site.css", timeout=10)
    assert long.status_code == short.status_code == 200
    assert long.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert short.headers["Cache-Control"] == "public, max-age=300"
    # The app adds its Content-Security-Policy to every answer, its pages' and its own
    # static files' alike: none here, so nginx read the files from disk.
    assert "Content-Security-Policy" in requests.get(stack.url + "/", timeout=10).headers
    for response in (long, short):
        assert "Content-Security-Policy" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "X-Edge-Cache" not in response.headers  # never passed to the app


def test_image_renditions_come_from_the_edge_and_stay_a_year_in_browsers(stack):
    about = requests.get(stack.url + "/about", timeout=10)
    assert about.status_code == 200
    rendition = RENDITION_RE.search(about.text).group(1)
    first, second = _anonymous_gets(stack, rendition, times=2)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content and first.headers["Content-Type"].startswith("image/")
    assert _edge(second) == "HIT"  # the second reader's copy came from nginx
    for response in (first, second):
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "X-Accel-Expires" not in response.headers  # the edge's own, read by nginx
    # An image is the same for everyone: a signed-in reader gets it from the edge too.
    with requests.Session() as staff:
        _sign_in(stack, staff)
        theirs = staff.get(stack.url + rendition, timeout=10)
        assert theirs.status_code == 200 and _edge(theirs) == "HIT"
        assert theirs.content == first.content and "Set-Cookie" not in theirs.headers


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
        # While it waits she keeps seeing it, marked, always from the app (her session
        # stays private); nobody else ever does, from the edge or from the app.
        assert reader.cookies.get("bb_private") == "1"
        for response in _anonymous_gets(stack, SEED_POST, times=3):
            assert "edge-notice" not in response.text
        again = reader.get(stack.url + SEED_POST, timeout=10)
        assert "[edge-notice]" in again.text and "Awaiting moderation" in again.text
        assert _edge(again) == "BYPASS"


def _last_comment_page(stack, session):
    """The post's last page of comments (ten threads a page, oldest first): where a newly
    approved comment appears."""
    first = session.get(stack.url + SEED_POST, timeout=10)
    pages = re.search(r"Page 1 of (\d+)</span>", first.text)
    if not pages or pages.group(1) == "1":
        return first
    return session.get(f"{stack.url}{SEED_POST}?comments={pages.group(1)}", timeout=10)


class _Forms(HTMLParser):
    """The fields of every form on a page as a browser would send them, by the form's
    action (inputs outside a form join it by their ``form`` attribute)."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.ids, self.fields, self._form, self._field = {}, {}, None, None
        self.feed(html)

    def _add(self, form, name, value):
        if form is not None and name:
            self.fields.setdefault(form, []).append([name, value])

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        form = self.ids.get(a.get("form"), a.get("form")) if a.get("form") else self._form
        if tag == "form":
            self._form = a.get("action")
            if a.get("id"):
                self.ids[a["id"]] = self._form
                # Fields met before their form (form="...") are filed under its id.
                self.fields.setdefault(self._form, []).extend(self.fields.pop(a["id"], []))
        elif tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._add(form, a.get("name"), a.get("value") or ("on" if kind == "checkbox" else ""))
        elif tag == "textarea":
            self._field = [a.get("name"), ""]
            if form is not None and a.get("name"):
                self.fields.setdefault(form, []).append(self._field)
        elif tag == "select":
            self._field = None
            self._select = (form, a.get("name"), [])
        elif tag == "option" and getattr(self, "_select", None):
            self._select[2].append((a.get("value", ""), "selected" in a))

    def handle_data(self, data):
        if self._field is not None:
            self._field[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._field = None
        elif tag == "select" and getattr(self, "_select", None):
            form, name, options = self._select
            chosen = [v for v, selected in options if selected] or [v for v, _ in options[:1]]
            for value in chosen:
                self._add(form, name, value)
            self._select = None


def _send_form(stack, staff, page_path, form_action, **changes):
    """Send the form on ``page_path`` whose action is ``form_action`` as staff would: every
    field as the page has it, ``changes`` typed over (or added: the button pressed).
    Returns the answer."""
    page = staff.get(stack.url + page_path, timeout=10)
    assert page.status_code == 200, page_path
    fields = _Forms(page.text).fields[form_action]
    names = {name for name, _ in fields}
    data = [(name, changes.get(name, value)) for name, value in fields]
    data += [(name, value) for name, value in changes.items() if name not in names]
    return staff.post(
        stack.url + form_action,
        data=data,
        headers={"Referer": stack.url + page_path, "Origin": stack.url},
        allow_redirects=False,
        timeout=10,
    )


def _approve_a_comment(stack, engine):
    """A reader's comment is approved by staff: (the page it shows on, its marker)."""
    marker = f"[edge-approved-{uuid.uuid4().hex[:6]}]"
    with requests.Session() as reader:
        assert _comment(stack, reader, f"Walking helps me. {marker}").status_code == 303
    with engine.connect() as conn:
        comment_id = conn.scalar(
            sa.text("SELECT id FROM comment WHERE body_md LIKE :m"), {"m": f"%{marker}%"}
        )

    def change():
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

    return change, marker


def _retitle_the_seed_post(stack, engine):
    """Staff edit the seed post's title in the editor."""
    title = f"Spinal bone density and exercise [edge-{uuid.uuid4().hex[:6]}]"
    with engine.connect() as conn:
        post_id = conn.scalar(
            sa.text("SELECT id FROM post WHERE slug = :s"), {"s": SEED_POST.rsplit("/", 1)[1]}
        )
    edit = f"/admin/posts/{post_id}/edit"

    def change():
        with requests.Session() as staff:
            _sign_in(stack, staff)
            saved = _send_form(stack, staff, edit, edit, title=title, action="save")
            assert saved.status_code == 303, saved.text[:2000]

    return change, title


def _restock_the_vest(stack, engine):
    """Staff change the stock of one of the vest's options (its page says how many are
    left when there are few)."""
    with engine.connect() as conn:
        variant_id, product_id, stock = conn.execute(
            sa.text(
                "SELECT v.id, p.id, v.stock FROM variant v JOIN product p ON p.id = v.product_id "
                "WHERE p.slug = 'weighted-walking-vest' AND v.stock IS NOT NULL AND v.active "
                "ORDER BY v.id LIMIT 1"
            )
        ).one()
    left = 3 if stock != 3 else 2

    def change():
        with requests.Session() as staff:
            _sign_in(stack, staff)
            saved = _send_form(
                stack,
                staff,
                f"/admin/products/{product_id}",
                f"/admin/variants/{variant_id}",
                stock=str(left),
            )
            assert saved.status_code == 303, saved.text[:2000]

    return change, f"Only {left} left"


CHANGES = {
    "an approved comment": (_approve_a_comment, None),
    "a post's new title": (_retitle_the_seed_post, SEED_POST),
    "a change of stock": (_restock_the_vest, VEST),
}


def _shows(stack, session, path, marker):
    if path is None:  # a comment appears on the post's last page of comments
        return marker in _last_comment_page(stack, session).text
    return marker in session.get(stack.url + path, timeout=10).text


@pytest.mark.parametrize("what", CHANGES)
def test_a_change_shows_to_every_reader_within_the_validity(stack, engine, what):
    make, path = CHANGES[what]
    change, marker = make(stack, engine)
    with requests.Session() as anonymous:
        for _ in range(3):  # the old page is in the edge cache, fresh
            assert not _shows(stack, anonymous, path, marker)
        change()
        changed_at = time.monotonic()
        # Readers keep coming: whoever asks VALIDITY seconds or more after the change sees
        # it (the edge keeps a copy one second; nginx counts whole seconds).
        seen = []
        while time.monotonic() - changed_at < VALIDITY + 1:
            asked_at = time.monotonic() - changed_at
            seen.append((asked_at, _shows(stack, anonymous, path, marker)))
            time.sleep(0.05)
    late = [shown for asked_at, shown in seen if asked_at >= VALIDITY]
    assert late and all(late), f"not every reader saw it {VALIDITY} s after the change: {seen}"


@pytest.mark.parametrize("what", CHANGES)
def test_after_a_quiet_spell_the_first_reader_sees_a_change_at_once(stack, engine, what):
    make, path = CHANGES[what]
    change, marker = make(stack, engine)
    with requests.Session() as anonymous:
        assert not _shows(stack, anonymous, path, marker)
        assert not _shows(stack, anonymous, path, marker)  # the edge cache has the page
    time.sleep(QUIET)  # nobody reads for longer than any copy may be kept
    change()
    changed_at = time.monotonic()
    with requests.Session() as first:
        assert _shows(stack, first, path, marker), "the first reader got an old copy"
    assert time.monotonic() - changed_at < VALIDITY


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


def test_the_page_cache_and_the_rate_limits_have_a_redis_server_each(stack):
    import redis

    cache = redis.Redis.from_url(stack.cache_redis_url)
    limits = redis.Redis.from_url(stack.limits_redis_url)
    try:
        assert cache.config_get("maxmemory-policy")["maxmemory-policy"] == "allkeys-lru"
        assert limits.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
        # Each is used for its own job: a page read fills the cache, a form the limits.
        _anonymous_gets(stack, "/consultations/", times=1)
        with requests.Session() as reader:
            page = reader.get(stack.url + "/newsletter/", timeout=10)
            sent = reader.post(
                stack.url + "/newsletter/",
                data={
                    "csrf_token": _token(page.text),
                    "email": f"edge-{uuid.uuid4().hex[:8]}@example.com",
                    "website": "",
                },
                headers={"Referer": stack.url + "/newsletter/", "Origin": stack.url},
                allow_redirects=False,
                timeout=10,
            )
            assert sent.status_code == 303
        assert cache.dbsize() > 0 and limits.dbsize() > 0
        assert not set(cache.keys()) & set(limits.keys())
    finally:
        cache.close()
        limits.close()
    for index in range(len(stack.app_ports)):
        log = (stack.run_dir / f"app-{index}.log").read_text()
        assert "Booting worker" in log  # the instance's own log, as it started
        assert "use the same Redis server" not in log
