"""Pooled connections are checked before use only after they sat idle: no extra round
trip per request, and a connection the database closed meanwhile never reaches a page.
Public pages read without a transaction on PostgreSQL; everything else keeps one."""

import pytest
from sqlalchemy import create_engine, event, select, text

from app import create_app
from blueprints.blog.models import Tag
from blueprints.core.database import WriteInReadOnlyRequest, read_without_transaction
from extensions import db
from tests.conftest import make_config


@pytest.fixture
def make_site(_schema, database_url, smtp_controller):
    """An app with no application context left open, so each request checks a
    connection out of the pool and back in, as under gunicorn."""
    made = []

    def make(**settings):
        app = create_app(make_config(database_url, smtp_controller, PAGE_CACHE=False, **settings))
        with app.app_context():
            engine = db.engine
        pings = []
        real_ping = engine.dialect.do_ping

        def counting_ping(dbapi_connection):
            pings.append(dbapi_connection)
            return real_ping(dbapi_connection)

        engine.dialect.do_ping = counting_ping
        made.append(engine)
        return app, engine, pings

    yield make
    for engine in made:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_checked_again(make_site):
    app, _engine, pings = make_site()
    client = app.test_client()
    for _ in range(3):
        assert client.get("/blog/").status_code == 200
    assert pings == []


def test_a_connection_idle_past_the_limit_is_checked_before_use(make_site):
    app, _engine, pings = make_site(DATABASE_PING_AFTER_IDLE=0)
    client = app.test_client()
    assert client.get("/blog/").status_code == 200
    assert client.get("/blog/").status_code == 200
    assert len(pings) == 2  # once per checkout: every request found its connection idle


def _backend_pid(app):
    with app.app_context():
        return db.session.scalar(text("SELECT pg_backend_pid()"))


def _terminate(database_url, pid):
    admin = create_engine(database_url)
    with admin.connect() as connection:
        assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


@pytest.mark.postgres_only
def test_a_connection_the_database_closed_while_idle_is_replaced_unseen(make_site, database_url):
    app, _engine, pings = make_site(DATABASE_PING_AFTER_IDLE=0)
    pid = _backend_pid(app)
    _terminate(database_url, pid)
    response = app.test_client().get("/blog/")
    assert response.status_code == 200
    assert pings  # the check found the closed connection, and the pool opened another
    assert _backend_pid(app) != pid


@pytest.mark.postgres_only
def test_without_the_check_a_closed_connection_costs_one_503_then_recovers(make_site, database_url):
    # What the check saves the reader from (and what happens when a connection dies while
    # in steady use): one styled 503, then the pool starts afresh.
    app, _engine, _pings = make_site(DATABASE_PING_AFTER_IDLE=None)
    _terminate(database_url, _backend_pid(app))
    client = app.test_client()
    assert client.get("/blog/").status_code == 503
    assert client.get("/blog/").status_code == 200


def _watch_transactions(engine):
    """For each statement: (its DBAPI connection, whether a transaction was open after it)."""
    seen = []

    def after(conn, cursor, statement, parameters, context, executemany):
        dbapi = conn.connection.dbapi_connection
        seen.append((dbapi, dbapi.info.transaction_status.name != "IDLE"))

    event.listen(engine, "after_cursor_execute", after)
    return seen


@pytest.mark.postgres_only
def test_a_public_page_reads_without_begin_or_rollback(make_site):
    app, engine, _pings = make_site()
    seen = _watch_transactions(engine)
    for url in ("/blog/", "/shop/", "/consultations/"):
        assert app.test_client().get(url).status_code == 200
    assert seen
    assert not any(in_transaction for _dbapi, in_transaction in seen)


@pytest.mark.postgres_only
def test_the_connection_goes_back_to_transactions_after_a_public_page(make_site):
    app, engine, _pings = make_site()
    seen = _watch_transactions(engine)
    assert app.test_client().get("/blog/").status_code == 200
    page_connection = seen[-1][0]
    seen.clear()
    with app.app_context():  # the next user of the pooled connection, e.g. a form post
        db.session.add(Tag(slug="calcium", name="Calcium"))
        db.session.flush()
        db.session.rollback()
        assert db.session.scalar(select(Tag).filter_by(slug="calcium")) is None
    assert seen[0][0] is page_connection  # the same connection, out of the pool again
    assert all(in_transaction for _dbapi, in_transaction in seen)


@pytest.mark.postgres_only
def test_reading_without_a_transaction_ends_with_the_request(app, client):
    # Here the application context, and so the session, outlives the request.
    seen = _watch_transactions(db.engine)
    assert client.get("/blog/").status_code == 200
    assert not seen[-1][1]
    seen.clear()
    db.session.add(Tag(slug="calcium", name="Calcium"))
    db.session.flush()  # allowed again, and inside a transaction
    assert seen and all(in_transaction for _dbapi, in_transaction in seen)
    db.session.rollback()
    assert db.session.scalar(select(Tag).filter_by(slug="calcium")) is None


@pytest.mark.postgres_only
def test_a_request_reading_without_a_transaction_cannot_save(app):
    with app.test_request_context("/blog/"):
        read_without_transaction()
        db.session.add(Tag(slug="calcium", name="Calcium"))
        with pytest.raises(WriteInReadOnlyRequest):
            db.session.flush()
        db.session.rollback()
    with app.app_context():
        assert db.session.scalar(select(Tag).filter_by(slug="calcium")) is None


def test_on_sqlite_a_public_page_keeps_its_transaction(app):
    # In-process SQLite has no round trips to save; switching modes would cost time.
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL reads without a transaction")
    with app.test_request_context("/blog/"):
        read_without_transaction()
        db.session.add(Tag(slug="calcium", name="Calcium"))
        db.session.flush()  # still one transaction: saving is allowed, and undone here
        db.session.rollback()
        assert db.session.scalar(select(Tag).filter_by(slug="calcium")) is None
