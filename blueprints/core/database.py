"""Database connections: check a pooled connection that has waited a while before a
request uses it.

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

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError

from extensions import db

_RETURNED_AT = "bb_returned_at"


def init_connection_checks(app):
    """Listen on every engine of ``app``; ``DATABASE_PING_AFTER_IDLE = None`` turns the
    check off (``SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}`` checks always)."""
    idle_seconds = app.config["DATABASE_PING_AFTER_IDLE"]
    if idle_seconds is None:
        return
    with app.app_context():
        engines = list(db.engines.values())
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
