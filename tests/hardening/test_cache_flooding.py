"""Made-up hosts and query values cannot fill the page cache, a lost tag version costs
one render and no more, and a failing rate-limit store never turns a request into a 500
(issue #17, finding 3)."""

import random
import uuid

import pytest
from sqlalchemy import func, select

from blueprints.blog.models import Comment
from blueprints.blog.seed import SPINE_SLUG
from blueprints.blog.seed import seed as seed_blog
from blueprints.newsletter.models import Subscriber
from extensions import cache, db, limiter
from tests.conftest import REDIS_URL, STAFF_EMAIL, STAFF_PASSWORD, redis_or_skip

SEED_POST = f"/blog/{SPINE_SLUG}"


@pytest.fixture(params=["in-process", "redis"])
def backend(request):
    """The page cache in the worker's memory, or in Redis under a prefix of this run's own."""
    if request.param == "in-process":
        yield {"settings": {"CACHE_REDIS_URL": None, "CACHE_TYPE": "SimpleCache"}, "keys": None}
        return
    client = redis_or_skip()
    prefix = f"test-flood-{uuid.uuid4().hex}:"
    yield {
        "settings": {"CACHE_REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix},
        "keys": lambda: list(client.scan_iter(match=prefix + "*", count=1000)),
    }
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def app_config(backend):
    return {"PAGE_CACHE": True, **backend["settings"]}


def _entries(backend):
    """How many keys the page cache holds now."""
    if backend["keys"]:
        return len(backend["keys"]())
    return len(cache.cache._cache)  # cachelib's SimpleCache: one dict entry per key


@pytest.fixture
def seeded_blog(app):
    seed_blog()
    db.session.commit()


def test_random_hosts_and_reply_to_values_leave_the_seed_post_cached_and_the_cache_small(
    app, backend, seeded_blog
):
    assert app.test_client().get(SEED_POST).headers["X-Cache"] == "MISS"
    assert app.test_client().get(SEED_POST).headers["X-Cache"] == "HIT"
    before = _entries(backend)

    attacker = app.test_client()
    hosts = {
        attacker.get(SEED_POST, headers={"Host": f"{uuid.uuid4().hex}.example"}).status_code
        for _ in range(2000)
    }
    assert hosts == {400}
    rng = random.Random(17)
    for _ in range(500):
        response = attacker.get(f"{SEED_POST}?reply_to={rng.randrange(10**6, 10**9)}")
        assert response.status_code == 200

    assert app.test_client().get(SEED_POST).headers["X-Cache"] == "HIT"
    assert _entries(backend) - before < 50


def test_the_sites_own_host_and_loopback_in_development_are_served(app, seeded_blog):
    for host in ("localhost", "LOCALHOST", "127.0.0.1:5000", "localhost:8000", "[::1]:5000"):
        assert app.test_client().get(SEED_POST, headers={"Host": host}).status_code == 200, host
    # The cache key is the normal form of the host: one copy for both spellings.
    app.test_client().get(SEED_POST, headers={"Host": "localhost"})
    assert (
        app.test_client().get(SEED_POST, headers={"Host": "LocalHost"}).headers["X-Cache"] == "HIT"
    )


def test_production_answers_only_its_own_hosts_and_health_checks_from_anywhere(app, seeded_blog):
    app.config.update(
        ENV_NAME="production",
        SITE_URL="https://betterbones.example",
        ALLOWED_HOSTS=["www.betterbones.example"],
    )
    client = app.test_client()
    for host in ("betterbones.example", "www.betterbones.example", "betterbones.example:443"):
        assert client.get(SEED_POST, headers={"Host": host}).status_code == 200, host
    for host in ("localhost", "127.0.0.1", "betterbones.example:8443", "evil.example"):
        refused = client.get(SEED_POST, headers={"Host": host})
        assert refused.status_code == 400, host
        assert "X-Cache" not in refused.headers
    # The load balancer checks a machine by its own address.
    assert client.get("/healthz", headers={"Host": "10.0.0.5:8000"}).status_code == 200


def test_a_reply_link_to_a_real_comment_is_cached_and_a_missing_one_is_not(app, seeded_blog):
    comment_id = db.session.scalar(select(func.min(Comment.id)))
    for _ in range(2):
        assert app.test_client().get(f"{SEED_POST}?reply_to=999999").headers["X-Cache"] == "MISS"
    app.test_client().get(f"{SEED_POST}?reply_to={comment_id}")
    assert app.test_client().get(f"{SEED_POST}?reply_to={comment_id}").headers["X-Cache"] == "HIT"
    # Repeating an argument (the view reads only the first) is not a new copy either.
    for _ in range(2):
        repeated = app.test_client().get(f"{SEED_POST}?reply_to={comment_id}&reply_to=7")
        assert repeated.headers["X-Cache"] == "MISS"


class TestALostTagVersion:
    @pytest.fixture
    def app_config(self):
        return {"CACHE_REDIS_URL": None, "CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 20}

    def test_a_full_cache_costs_the_seed_post_one_render_not_every_visit(self, app, seeded_blog):
        reader = app.test_client()
        reader.get(SEED_POST)
        # Readers search for forty different words: more pages than the cache keeps.
        for number in range(40):
            assert reader.get(f"/blog/search?q=bone{number}").status_code == 200
        cache.delete(f"tagv:post:{SPINE_SLUG}")  # and a version is lost as well

        outcomes = [reader.get(SEED_POST).headers["X-Cache"] for _ in range(3)]
        assert outcomes in (["MISS", "HIT", "HIT"], ["HIT", "HIT", "HIT"])


class TestLimiterStoreFails:
    """The limiter's store refuses every command, as a full Redis with ``noeviction`` does."""

    @pytest.fixture
    def app_config(self):
        return {"CACHE_REDIS_URL": None, "CACHE_TYPE": "SimpleCache"}

    @pytest.fixture(params=["store raises", "store unreachable"])
    def broken_store(self, request, app, monkeypatch):
        if request.param == "store unreachable":
            app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:1/0"
            limiter.init_app(app)
            yield
            app.config["RATELIMIT_STORAGE_URI"] = "memory://"
            limiter.init_app(app)
            return

        def refuse(*args, **kwargs):
            raise OSError("OOM command not allowed when used memory > 'maxmemory'.")

        for name in ("incr", "get", "get_expiry", "clear", "check", "acquire_entry"):
            if hasattr(limiter.storage, name):
                monkeypatch.setattr(limiter.storage, name, refuse)
        yield

    def test_comments_and_signups_still_work_and_staff_sign_in_is_refused_clearly(
        self, app, client, seeded_blog, staff_user, broken_store
    ):
        comment = client.post(
            SEED_POST,
            data={"name": "Joan Smith", "email": "joan@example.com", "body": "Thank you!"},
        )
        assert comment.status_code == 303
        assert db.session.scalar(select(Comment).where(Comment.author_email == "joan@example.com"))

        signup = app.test_client().post("/newsletter/", data={"email": "ruth@example.com"})
        assert signup.status_code == 303
        assert db.session.scalar(select(Subscriber).where(Subscriber.email == "ruth@example.com"))

        assert app.test_client().get(SEED_POST).status_code == 200  # reads are never limited

        staff = app.test_client()
        for password in (STAFF_PASSWORD, "a wrong password"):
            refused = staff.post("/admin/login", data={"email": STAFF_EMAIL, "password": password})
            assert refused.status_code == 503
            assert "Sign-in is briefly unavailable" in refused.text
            assert "Retry-After" in refused.headers
        with staff.session_transaction() as session:
            assert "_user_id" not in session
        assert staff.get("/admin/").status_code in (302, 303)  # still signed out
