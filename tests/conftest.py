"""Shared fixtures: the app on a clean database per test, a CSRF-aware client, a real
SMTP server, the fake Stripe API, staff sign-in, a SQL query counter, and (in
tests/browser) Chromium.

The database is SQLite in a temporary file by default and PostgreSQL when
TEST_DATABASE_URL is set. The schema is built once per run; every test starts with
empty tables.
"""

import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import g
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from app import create_app
from extensions import db
from tests.compile_caches import TemplateBytecode, memoize_url_builders
from tests.stripe_fake import FakeStripe

memoize_url_builders()
TEMPLATE_BYTECODE = TemplateBytecode()

# The PostgreSQL server to test on (TEST_DATABASE_URL names any database on it). Each
# run, and each xdist worker, creates a database of its own there and drops it at the
# end (pytest_configure / pytest_unconfigure), so two runs on one server never collide.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
_SERVER_URL = TEST_DATABASE_URL
STAFF_EMAIL = "staff@betterbones.example"
STAFF_PASSWORD = "correct horse battery staple"
ASSISTANT_EMAIL = "assistant@betterbones.example"
ASSISTANT_PASSWORD = "an assistant's long passphrase"


def _per_run_database_url(server_url):
    """A new, empty database on the server ``server_url`` names; its URL."""
    url = sa.engine.make_url(server_url)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"bb_test_{os.getpid()}_{worker}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_database(server_url, run_url):
    name = sa.engine.make_url(run_url).database
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def pytest_configure(config):
    global TEST_DATABASE_URL
    if _SERVER_URL and _SERVER_URL.startswith("postgresql"):
        TEST_DATABASE_URL = _per_run_database_url(_SERVER_URL)
        os.environ["TEST_DATABASE_URL"] = TEST_DATABASE_URL  # for subprocesses


def pytest_unconfigure(config):
    if _SERVER_URL and TEST_DATABASE_URL != _SERVER_URL:
        _drop_database(_SERVER_URL, TEST_DATABASE_URL)
        os.environ["TEST_DATABASE_URL"] = _SERVER_URL


def pytest_collection_modifyitems(config, items):
    if TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"):
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://..."
    )
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


def is_postgres():
    return bool(TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"))


# --- the SMTP server -------------------------------------------------------------


class Mailbox:
    """What a real SMTP server on 127.0.0.1 received, parsed into email messages."""

    def __init__(self):
        self.messages = []
        self._lock = threading.Lock()
        self.refuse_with = None  # e.g. "550 no such user" to answer RCPT with an error

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_with:
            return self.refuse_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted"

    def clear(self):
        with self._lock:
            self.messages.clear()
        self.refuse_with = None

    def wait_for(self, count, timeout=5.0):
        """Wait until ``count`` messages have arrived; return them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} message(s), got {len(self.messages)}")

    def to(self, address):
        return [m for m in self.messages if address in str(m["To"])]


def text_part(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message):
    return message.get_body(preferencelist=("html",)).get_content()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Stripe ---------------------------------------------------------------------------


@pytest.fixture
def stripe_api(httpserver):
    """The fake Stripe API (tests/stripe_fake.py). An area's ``app_config`` points the
    app at it with ``stripe_config(httpserver)``."""
    return FakeStripe(httpserver)


@pytest.fixture
def stalled_stripe(stripe_api):
    """A Stripe whose Checkout Session call does not answer until the test is over.

    The event it gives is set once it finally answers, so a test can tell that our own
    client timeout ended the call, without timing anything.
    """
    answered = stripe_api.stall_checkout()
    yield answered
    stripe_api.release()


@pytest.fixture(scope="session")
def smtp_controller():
    controller = Controller(Mailbox(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def mailbox(smtp_controller):
    """The real SMTP server's inbox, empty at the start of each test."""
    smtp_controller.handler.clear()
    return smtp_controller.handler


# --- Redis --------------------------------------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_or_skip():
    """A client of the machine's Redis, or skip the test when it is not running."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.exceptions.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379 (start redis-server to run this)")
    return client


# --- the app and its database -------------------------------------------------------


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if TEST_DATABASE_URL:
        yield TEST_DATABASE_URL
        return
    folder = _memory_backed_folder()
    if folder is None:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
        return
    yield "sqlite:///" + str(folder / "test.db")
    shutil.rmtree(folder, ignore_errors=True)


def _memory_backed_folder():
    """A new folder in /dev/shm (memory) when there is room, else None.

    SQLite syncs its file to disk at every commit, and the tests commit thousands of
    times: on a shared disk that is most of a request test's time. In memory the same
    file, the same settings and the same SQL cost no disk writes."""
    shm = Path("/dev/shm")
    try:
        if shutil.disk_usage(shm).free < 512 * 1024 * 1024:
            return None
        return Path(tempfile.mkdtemp(prefix="bb_test_", dir=shm))
    except OSError:
        return None


def make_config(database_url, smtp_controller, **extra):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SERVER_NAME": None,
        "SITE_URL": "http://localhost",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_controller.port,
        "MAIL_SUPPRESS_SEND": False,
        "ARGON2_FAST": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "STRIPE_SECRET_KEY": "sk_test_123",
        "STRIPE_WEBHOOK_SECRET": "whsec_test_secret",
    }
    config.update(extra)
    return config


@pytest.fixture(scope="session")
def _schema(database_url, smtp_controller):
    """Build the schema once per run, from the models."""
    app = create_app(make_config(database_url, smtp_controller))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    return True


def _empty_all_tables():
    """Every table empty again, and (PostgreSQL) every sequence back at its start, as
    after ``TRUNCATE ... RESTART IDENTITY``: the next test sees no row of this one's,
    and its ids start at 1 again.

    PostgreSQL: ``DELETE``, not ``TRUNCATE``. A ``TRUNCATE`` of every table gives each
    table and index a new file, 0.1 to 1 s a test on a busy disk; a ``DELETE`` of a few
    rows costs a millisecond. A table whose own triggers refuse a ``DELETE`` (the
    append-only audit log) is truncated instead, and only when it holds rows."""
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if db.engine.dialect.name != "postgresql":
            for table in tables:
                conn.execute(table.delete())
            return
        guarded = _tables_with_triggers(conn, tables)
        full = [
            name
            for name in guarded
            if conn.exec_driver_sql(f'SELECT EXISTS (SELECT 1 FROM "{name}")').scalar()
        ]
        if full:
            conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{name}"' for name in full) + " CASCADE")
        conn.exec_driver_sql(
            "; ".join(f'DELETE FROM "{t.name}"' for t in tables if t.name not in guarded)
        )
        # setval(..., false): the next value is the start value. Only sequences that
        # were used (a NULL last_value is one that never was, or was reset).
        conn.exec_driver_sql(
            "SELECT setval(quote_ident(schemaname) || '.' || quote_ident(sequencename),"
            " start_value, false) FROM pg_sequences"
            " WHERE schemaname = current_schema() AND last_value IS NOT NULL"
        )


_TRIGGERED_TABLES = {}


def _tables_with_triggers(conn, tables):
    """The names of ``tables`` that have triggers of their own (not the foreign keys'
    internal ones), looked up once per database."""
    url = conn.engine.url.render_as_string(hide_password=False)
    if url not in _TRIGGERED_TABLES:
        names = [t.name for t in tables]
        found = conn.execute(
            sa.text(
                "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
                " AND c.relname = ANY(:names)"
            ),
            {"names": names},
        ).scalars()
        _TRIGGERED_TABLES[url] = frozenset(found)
    return _TRIGGERED_TABLES[url]


class CSRFClient(FlaskClient):
    """A test client that sends a valid CSRF token with each form POST, as a browser
    with the page's form would. ``csrf=False`` sends none (to test the refusal)."""

    def csrf_token(self):
        with self.session_transaction() as session:
            if "csrf_token" not in session:
                session["csrf_token"] = os.urandom(20).hex()
            raw = session["csrf_token"]
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)

    def open(self, *args, csrf=True, **kwargs):
        # A WSGI server closes each response once it is sent, which starts the outbox's
        # delivery; the test client closes it at once only when it buffers.
        kwargs.setdefault("buffered", True)
        method = kwargs.get("method", "GET").upper()
        data = kwargs.get("data")
        unsafe = method in ("POST", "PUT", "PATCH", "DELETE")
        if csrf and unsafe and isinstance(data, dict) and "csrf_token" not in data:
            kwargs["data"] = {**data, "csrf_token": self.csrf_token()}
        return super().open(*args, **kwargs)


@pytest.fixture
def app_config():
    """Settings a test module can override by redefining this fixture."""
    return {}


@pytest.fixture
def app(_schema, database_url, smtp_controller, app_config):
    app = create_app(make_config(database_url, smtp_controller, **app_config))
    app.test_client_class = CSRFClient
    app.jinja_env.bytecode_cache = TEMPLATE_BYTECODE  # tests/compile_caches.py
    with app.app_context():
        yield app
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- staff -------------------------------------------------------------------------


@pytest.fixture
def staff_user(app):
    from blueprints.account.services import create_staff

    user = create_staff(STAFF_EMAIL, STAFF_PASSWORD, name="Susan Brown")
    db.session.commit()
    return user


@pytest.fixture
def assistant(app):
    """Amy, an assistant: she refunds up to a limit and cannot manage staff."""
    from blueprints.account.services import create_staff

    user = create_staff(ASSISTANT_EMAIL, ASSISTANT_PASSWORD, name="Amy", role="assistant")
    db.session.commit()
    return user


@pytest.fixture
def each_request_loads_its_own_user(app):
    """A test's requests share its app context, and Flask-Login caches the signed-in user
    in that context's ``g``: with several clients, each request must load its own (as
    each request does in production). Use it with ``signed_in_client``; name it before
    any fixture that sends a request (Flask takes no new hooks after the first)."""

    @app.before_request
    def _forget_the_cached_user():
        g.pop("_login_user", None)


def signed_in_client(app, email=STAFF_EMAIL, password=STAFF_PASSWORD):
    """A client of its own, signed in as ``email`` through the staff sign-in form."""
    client = app.test_client()
    response = client.post("/admin/login", data={"email": email, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email=STAFF_EMAIL, password=STAFF_PASSWORD, next_url=None):
        url = "/admin/login" + (f"?next={next_url}" if next_url else "")
        return self._client.post(url, data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/admin/logout", data={})


@pytest.fixture
def auth(client, staff_user):
    return AuthActions(client)


# --- counting SQL ----------------------------------------------------------------------


class QueryCounter:
    def __init__(self):
        self.statements = []

    @property
    def count(self):
        return len(self.statements)

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)


@contextmanager
def empty_postgresql_schema():
    """The URL of a new, empty schema in the run's PostgreSQL database (its search path),
    for a test that builds a schema by migrations; the schema is dropped afterwards."""
    schema = f"mig_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(TEST_DATABASE_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in TEST_DATABASE_URL else "?"
    try:
        yield f"{TEST_DATABASE_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def count_queries(app):
    """``with count_queries() as counter: ...`` then ``counter.count``."""

    @contextmanager
    def counting():
        counter = QueryCounter()
        sa.event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counter)

    return counting
