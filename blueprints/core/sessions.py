"""What makes a reader's session private, and which blueprints are for staff only.

Core names no area: each area says what it keeps in the session, what of it survives a
customer's sign-in and sign-out, and whether its pages are staff-only, when its blueprint
is registered (``mark_private_session_keys``, ``keep_across_sign_in``,
``mark_staff_only``). The page cache, the page token and the sign-in read the result.

A session is *private* when it holds something of one person: a signed-in user, a cart,
a flashed message. Such a reader never gets a cached page, and their forms need their own
CSRF token.

How long a session lasts is chosen per session: the usual one ends with the browser (and
``PERMANENT_SESSION_LIFETIME`` after its last change); one kept with :func:`keep_session`
("keep me signed in for 30 days") ends at its own time (:class:`SessionInterface`).
"""

from datetime import UTC, datetime, timedelta

from flask import current_app, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

# Flask-Login's key and Flask's flashed messages: part of every app, not of an area.
_BUILT_IN_PRIVATE_KEYS = ("_user_id", "_flashes")
_EXTENSION = "better_bones_sessions"


def _registry(app):
    return app.extensions.setdefault(
        _EXTENSION,
        {"private_keys": list(_BUILT_IN_PRIVATE_KEYS), "kept_keys": [], "staff": set()},
    )


def mark_private_session_keys(bp, *keys):
    """Session ``keys`` this blueprint's area sets make the session private."""

    def record(state):
        known = _registry(state.app)["private_keys"]
        known.extend(key for key in keys if key not in known)

    bp.record_once(record)


def keep_across_sign_in(bp, *keys):
    """Session ``keys`` this blueprint's area sets that a customer's sign-in and sign-out
    carry over into the new session (the cart she filled before): everything else goes."""

    def record(state):
        known = _registry(state.app)["kept_keys"]
        known.extend(key for key in keys if key not in known)

    bp.record_once(record)


def kept_across_sign_in(app=None):
    """The session keys a customer's sign-in and sign-out keep (``keep_across_sign_in``)."""
    return tuple(_registry(app or current_app)["kept_keys"])


def mark_staff_only(bp):
    """Forms of this blueprint never accept the shared page token."""
    bp.record_once(lambda state: _registry(state.app)["staff"].add(bp.name))


def private_session_keys(app=None):
    return _registry(app or current_app)["private_keys"]


def staff_blueprints(app=None):
    return _registry(app or current_app)["staff"]


def session_is_private():
    keys = private_session_keys()
    return any(key in session for key in keys)


def data_is_private(data, app=None):
    """The same test on a session's data as loaded (before ``session`` exists)."""
    return any(key in data for key in private_session_keys(app))


# --- how long a session lasts ------------------------------------------------------------

# The longest a session may be kept ("keep me signed in"): also the oldest signature a
# session cookie may carry at all.
LONGEST_SESSION = timedelta(days=30)
# When a kept session ends (seconds since the epoch), in the signed session itself.
KEPT_UNTIL_KEY = "_kept_until"


def keep_session(until=None):
    """Keep this browser's session until ``until`` (an aware datetime at most
    :data:`LONGEST_SESSION` ahead), across browser restarts; ``None``: the usual session,
    whose cookie ends when the browser closes (and whose signature is good for
    ``PERMANENT_SESSION_LIFETIME`` after its last change)."""
    if until is None:
        session.pop(KEPT_UNTIL_KEY, None)
        session.permanent = False
        return
    latest = datetime.now(UTC) + LONGEST_SESSION
    session[KEPT_UNTIL_KEY] = int(min(until, latest).timestamp())
    session.permanent = True


def _kept_until(data):
    value = data.get(KEPT_UNTIL_KEY)
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return None


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with a lifetime per session.

    Flask gives every permanent session one lifetime (``PERMANENT_SESSION_LIFETIME``,
    counted from its last change). A session kept by :func:`keep_session` carries its own
    end instead: its cookie expires then, and a cookie presented later (a copy, a clock
    set back) is refused here, on the server, whatever the browser does. The signature's
    age is checked too: at most ``PERMANENT_SESSION_LIFETIME`` for the usual session, at
    most :data:`LONGEST_SESSION` for a kept one.
    """

    def get_expiration_time(self, app, session):
        if not session.permanent:
            return None
        kept = _kept_until(session)
        if kept is not None:
            return kept
        return datetime.now(UTC) + app.permanent_session_lifetime

    def open_session(self, app, request):
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        longest = max(LONGEST_SESSION, app.permanent_session_lifetime)
        try:
            data, signed_at = serializer.loads(
                value, max_age=int(longest.total_seconds()), return_timestamp=True
            )
        except BadSignature:
            return self.session_class()
        if not isinstance(data, dict):
            return self.session_class()
        now = datetime.now(UTC)
        kept = _kept_until(data)
        if kept is not None:
            if now >= kept:
                return self.session_class()
        elif now - signed_at > app.permanent_session_lifetime:
            return self.session_class()
        return self.session_class(data)


def init_sessions(app):
    app.session_interface = SessionInterface()
