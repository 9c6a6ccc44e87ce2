"""What makes a reader's session private, and which blueprints are for staff only.

Core names no area: each area says what it keeps in the session, and whether its pages
are staff-only, when its blueprint is registered (``mark_private_session_keys``,
``mark_staff_only``). The page cache and the page token read the result.

A session is *private* when it holds something of one person: a signed-in user, a cart,
a flashed message. Such a reader never gets a cached page, and their forms need their own
CSRF token.
"""

from flask import current_app, session

# Flask-Login's key and Flask's flashed messages: part of every app, not of an area.
_BUILT_IN_PRIVATE_KEYS = ("_user_id", "_flashes")
_EXTENSION = "better_bones_sessions"


def _registry(app):
    return app.extensions.setdefault(
        _EXTENSION, {"private_keys": list(_BUILT_IN_PRIVATE_KEYS), "staff": set()}
    )


def mark_private_session_keys(bp, *keys):
    """Session ``keys`` this blueprint's area sets make the session private."""

    def record(state):
        known = _registry(state.app)["private_keys"]
        known.extend(key for key in keys if key not in known)

    bp.record_once(record)


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
