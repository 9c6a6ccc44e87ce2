"""Telling visitors without an account apart, for limits on what each may take.

A visitor is known two ways: by the client address (``request.remote_addr``, which
ProxyFix sets from nginx's X-Forwarded-For) and by a random id kept in her session.
Dropping cookies gives a new session but not a new address; moving between networks
gives a new address but not a new session: a limit counts both. Only keyed hashes of
the two are handed out, so a stored key names no address and cannot be forged.
"""

import hashlib
import hmac
import secrets
from typing import NamedTuple

from flask import current_app, request, session

# The random id that stands for this browser; it says nothing about the person, so it
# does not make the session private (cached pages are still served).
VISITOR_SESSION_KEY = "visitor"
_ID_BYTES = 16


class Visitor(NamedTuple):
    address_key: str
    session_key: str


def _keyed(kind, value):
    secret = current_app.secret_key
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def session_key():
    """This browser's key, or None when its session has no visitor id yet."""
    visitor_id = session.get(VISITOR_SESSION_KEY)
    if not isinstance(visitor_id, str) or len(visitor_id) != 2 * _ID_BYTES:
        return None
    return _keyed("session", visitor_id)


def current_visitor():
    """The keys of this request's visitor; gives her session an id the first time."""
    if session_key() is None:
        session[VISITOR_SESSION_KEY] = secrets.token_hex(_ID_BYTES)
    return Visitor(_keyed("address", request.remote_addr or ""), session_key())
