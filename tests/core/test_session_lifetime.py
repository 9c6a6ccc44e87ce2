"""Sessions with a lifetime of their own (core/sessions.py): the usual one ends with the
browser and is refused once its signature is older than PERMANENT_SESSION_LIFETIME; one
kept with ``keep_session`` lasts until its own end, at most 30 days, and is refused after
it whatever the browser sends."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import session
from itsdangerous import TimestampSigner

from blueprints.core.sessions import KEPT_UNTIL_KEY, LONGEST_SESSION, keep_session

PAGE = "/t/session-for-test"


@pytest.fixture
def page(app):
    @app.get(PAGE)
    def show():
        return session.get("who", "nobody")

    return PAGE


def _cookie(app, data, signed_ago=timedelta(0), monkeypatch=None):
    """A session cookie holding ``data``, signed ``signed_ago``."""
    serializer = app.session_interface.get_signing_serializer(app)
    signed_at = int(time.time() - signed_ago.total_seconds())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at)
    value = serializer.dumps(data)
    monkeypatch.undo()
    return value


def _open(app, client, page, value):
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    return client.get(page).text


def test_the_usual_session_is_refused_once_older_than_the_usual_lifetime(
    app, client, page, monkeypatch
):
    lifetime = app.permanent_session_lifetime
    fresh = _cookie(app, {"who": "ann"}, lifetime - timedelta(minutes=5), monkeypatch)
    old = _cookie(app, {"who": "ann"}, lifetime + timedelta(minutes=5), monkeypatch)
    assert _open(app, client, page, fresh) == "ann"
    assert _open(app, client, page, old) == "nobody"


def test_a_kept_session_lasts_until_its_own_end(app, client, page, monkeypatch):
    until = int((datetime.now(UTC) + timedelta(days=10)).timestamp())
    kept = {"who": "ann", KEPT_UNTIL_KEY: until, "_permanent": True}
    value = _cookie(app, kept, timedelta(days=19), monkeypatch)
    assert _open(app, client, page, value) == "ann"


def test_a_kept_session_is_refused_after_its_end(app, client, page, monkeypatch):
    ended = int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())
    value = _cookie(app, {"who": "ann", KEPT_UNTIL_KEY: ended}, timedelta(hours=1), monkeypatch)
    assert _open(app, client, page, value) == "nobody"


def test_no_session_outlives_the_longest_lifetime(app, client, page, monkeypatch):
    # Even one that names a later end (it could only come from a bug: the end is signed).
    later = int((datetime.now(UTC) + timedelta(days=90)).timestamp())
    value = _cookie(
        app,
        {"who": "ann", KEPT_UNTIL_KEY: later},
        LONGEST_SESSION + timedelta(hours=1),
        monkeypatch,
    )
    assert _open(app, client, page, value) == "nobody"


def test_keep_session_sets_the_cookies_end_and_never_past_30_days(app):
    with app.test_request_context():
        keep_session(datetime.now(UTC) + timedelta(days=365))
        assert session.permanent
        expires = app.session_interface.get_expiration_time(app, session)
        assert expires - datetime.now(UTC) <= LONGEST_SESSION
        assert expires - datetime.now(UTC) > LONGEST_SESSION - timedelta(minutes=1)
        keep_session(None)
        assert not session.permanent and KEPT_UNTIL_KEY not in session
        assert app.session_interface.get_expiration_time(app, session) is None


def test_a_permanent_session_without_its_own_end_keeps_the_usual_lifetime(app):
    with app.test_request_context():
        session.permanent = True  # staff sign-in
        expires = app.session_interface.get_expiration_time(app, session)
        left = expires - datetime.now(UTC)
        assert app.permanent_session_lifetime - timedelta(minutes=1) < left
        assert left <= app.permanent_session_lifetime
