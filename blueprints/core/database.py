"""Database connections: check a pooled connection that has waited a while before a
request uses it, and let public pages read without a transaction.

SQLAlchemy's ``pool_pre_ping`` checks every connection on every checkout: one more round
trip per request, for a connection that the worker used a millisecond earlier. Here a
connection is checked only when it has sat in the pool for ``DATABASE_PING_AFTER_IDLE``
seconds or more, which is when a database restart, a failover or an idle timeout can
have closed it. SQLAlchemy documents this pattern ("Disconnect Handling - Pessimistic",
custom): a dead connection raises ``DisconnectionError`` at checkout, and the pool
replaces it before the request sees it. A connection that dies while in steady use is
found by the query that uses it: that request answers 503 (``core.errors``) and the pool
drops its connections, so the next request starts afresh.
"""

import time

from flask import current_app
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session

from extensions import READ_WITHOUT_TRANSACTION, db

_RETURNED_AT = "bb_returned_at"
_AUTOCOMMIT_TWINS = "better_bones.autocommit_engines"


def init_database(app):
    """Connection checks, and reading without a transaction (see below), for every
    engine of ``app``."""
    with app.app_context():
        engines = list(db.engines.values())
    init_connection_checks(app, engines)
    init_reading_without_transaction(app, engines)


def init_connection_checks(app, engines):
    """Listen on each engine; ``DATABASE_PING_AFTER_IDLE = None`` turns the check off
    (``SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}`` checks always)."""
    idle_seconds = app.config["DATABASE_PING_AFTER_IDLE"]
    if idle_seconds is None:
        return
    for engine in engines:
        event.listen(engine, "connect", _stamp)  # a new connection needs no check
        event.listen(engine, "checkin", _stamp)
        event.listen(engine, "checkout", _checker(engine.dialect, idle_seconds))


def _stamp(dbapi_connection, record):
    record.info[_RETURNED_AT] = time.monotonic()


def _checker(dialect, idle_seconds):
    def check_if_idle(dbapi_connection, record, proxy):
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is not None and time.monotonic() - returned_at < idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError("the database closed this connection") from error
            raise

    return check_if_idle


# --- pages that only read ------------------------------------------------------------


class WriteInReadOnlyRequest(RuntimeError):
    """A view that promised to only read tried to save something."""


def init_reading_without_transaction(app, engines):
    """Give each engine an autocommit twin: the same pool and events, and
    connections in autocommit until they go back to the pool, which restores the usual
    isolation level. SQLite gets none: in-process, it has no round trips to save, and
    switching its mode costs more than a ``BEGIN`` (measured: +0.1 to +0.3 ms a page)."""
    app.extensions[_AUTOCOMMIT_TWINS] = {
        engine: engine.execution_options(isolation_level="AUTOCOMMIT")
        for engine in engines
        if engine.dialect.name != "sqlite"
    }
    app.teardown_request(_end_reading_without_transaction)


def read_without_transaction():
    """Run the rest of this request's queries in autocommit: no transaction around them.

    For public pages, which only read. On a database server a transaction costs two
    round trips of its own (``BEGIN`` before the first query, ``ROLLBACK`` when the
    request ends); a page of four queries saves a third of its round trips. Each query
    then sees what was committed when it ran, not one snapshot for the page: the
    default of Django and of most drivers, harmless for a page that shows what is
    there. The request's first query still takes the connection (a page that reads
    nothing never connects), and when the request ends, the next transaction is an
    ordinary one again.

    A flush with changes in such a request raises :class:`WriteInReadOnlyRequest`
    rather than saving each statement on its own: a view that writes must not use this.
    """
    twins = current_app.extensions[_AUTOCOMMIT_TWINS]
    if not twins:  # SQLite
        return
    session = db.session()  # this request's Session, not the scoped proxy
    if not session.in_transaction():  # a transaction already begun is kept
        session.info[READ_WITHOUT_TRANSACTION] = twins


@event.listens_for(Session, "before_flush")
def _refuse_writes_when_read_only(session, flush_context, instances):
    if session.info.get(READ_WITHOUT_TRANSACTION) and (
        session.new or session.dirty or session.deleted
    ):
        raise WriteInReadOnlyRequest(
            "this request reads without a transaction (read_without_transaction) "
            "and cannot save changes"
        )


def _end_reading_without_transaction(_error=None):
    """The request is over, and its reads with it, also where the application context
    (and so the session) outlives the request: a test, or a command that makes requests."""
    if not db.session.registry.has():  # this request never used the database
        return
    session = db.session()
    if session.info.pop(READ_WITHOUT_TRANSACTION, None) and session.in_transaction():
        session.rollback()  # ends the (empty) transaction: the connection goes back
