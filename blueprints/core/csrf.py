"""The page token: the CSRF token of forms on public pages that may be cached.

A page in the page cache is the same bytes for every reader whose session is not
private. Giving each of them a token of their own would mean giving each a session (a
cookie, and two signatures per page view) just for reading. Their forms carry instead
a *page token*: signed with the secret key, dated, the same for everyone at a minute.

A page token says "this form came from one of our pages"; it cannot say "this person
meant to send it", because there is no person yet. So it is accepted only where no
person's authority is at stake, and everywhere else Flask-WTF's per-session token is
required as before:

- the session is not private: nobody is signed in, no cart, nothing flashed (a reader
  who has any of these has a session, and their pages carry their own token);
- the form is not a staff form (the admin area never accepts one);
- the browser says the form was sent from this site (``Origin``, else ``Referer``);
- the token is at most :data:`PAGE_TOKEN_MAX_AGE` old.

A reader with a private session (signed in, a cart, a message waiting) never gets a
cached page: their forms carry their own token, which is then the only one accepted.
"""

import time

from flask import current_app, g, request
from itsdangerous import BadData, URLSafeTimedSerializer

from blueprints.core.sessions import session_is_private, staff_blueprints
from extensions import csrf

PAGE_TOKEN_SALT = "better-bones-page-form"
PAGE_TOKEN_MAX_AGE = 24 * 60 * 60  # a reader may take a day to write a comment
_PAGE_TOKEN_VALUE = "page-form"
_memo = {}  # (secret key, minute) -> token, per process


def _serializer(secret_key):
    return URLSafeTimedSerializer(secret_key, salt=PAGE_TOKEN_SALT)


def page_token(secret_key=None):
    """This minute's page token (signed once a minute per process, not per page view)."""
    secret_key = secret_key or current_app.secret_key
    minute = int(time.time()) // 60
    token = _memo.get((secret_key, minute))
    if token is None:
        _memo.clear()
        token = _memo[(secret_key, minute)] = _serializer(secret_key).dumps(_PAGE_TOKEN_VALUE)
    return token


def use_page_token():
    """Render this request's forms with the page token (for a page that may be cached,
    read by someone whose session is not private).

    Flask-WTF's ``generate_csrf`` returns the token already in ``g`` without touching the
    session, so every form and ``csrf_token()`` on the page picks this one up.
    """
    g.csrf_token = page_token()


def _sent_from_this_site():
    expected = request.host_url.rstrip("/")
    origin = request.headers.get("Origin")
    if origin:
        return origin == expected
    referrer = request.referrer or ""
    return referrer == expected or referrer.startswith(expected + "/")


def accepts_page_token(token):
    """True when ``token`` is a valid page token and this request may be sent with one."""
    if not token or not isinstance(token, str) or request.blueprint in staff_blueprints():
        return False
    if session_is_private() or not _sent_from_this_site():
        return False
    try:
        value = _serializer(current_app.secret_key).loads(token, max_age=PAGE_TOKEN_MAX_AGE)
    except BadData:
        return False
    return value == _PAGE_TOKEN_VALUE


def check_csrf():
    """Every form POST carries a valid token: the page token where one is accepted,
    else Flask-WTF's per-session token (``CSRFProtect.protect``, which also honours
    ``@csrf.exempt``). Flask-WTF's own hook is off (``WTF_CSRF_CHECK_DEFAULT``)."""
    config = current_app.config
    if not config["WTF_CSRF_ENABLED"] or request.method not in config["WTF_CSRF_METHODS"]:
        return
    if request.endpoint and accepts_page_token(request.form.get(config["WTF_CSRF_FIELD_NAME"])):
        g.csrf_valid = True  # what Flask-WTF records, so forms skip a second check
        return
    csrf.protect(apply_exemptions=True)


def init_csrf(app):
    app.before_request(check_csrf)
