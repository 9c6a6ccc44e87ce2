"""The page cache: whole rendered pages for anonymous readers, cleared by tags.

A public view opts in with one decorator::

    @bp.get("/blog/<slug>")
    @cached_page(tags=lambda slug: ["blog", f"post:{slug}"])
    def post(slug): ...

and the service that changes what the page shows names the same tags::

    invalidate_after_commit("blog", f"post:{post.slug}")

How it stays correct:

- Tags are invalidated by version numbers kept in the cache. A stored page keeps the
  version of each of its tags at the time it was rendered, and is served only while
  every one is still current, so bumping a tag retires every page that carries it at
  once, with no scan over keys. A version is a random value, never a counter: a
  version that was evicted comes back as a fresh value, which again only retires
  pages, never resurrects an old one. (Deriving a lost version again, equal, would
  bring back pages stored under it before later bumps.)
- So losing a version costs each page that carries it one render, and no more: the
  render creates the version anew and stores the page under it. Versions are kept
  longer than any page (:data:`TAG_VERSION_TIMEOUT`), so a cache that makes room drops
  pages first: the in-process cache drops the entries closest to expiring (a version
  kept "forever" used to sort first, so a full cache dropped every version again at
  each store and every page stayed a miss), and Redis under ``allkeys-lru`` drops the
  least recently used keys, while every hit reads its page's versions.
- Only the site's own hosts are served (:mod:`blueprints.core.hosts`, checked first by
  the middleware) and the key holds the host in normal form; only query arguments the
  view declares, each at most once, are part of a stored page's key; and a view can say
  that an argument changed nothing (:func:`query_args_unused`: a reply link to a
  comment that does not exist), so made-up values make no entries.
- Tags are bumped only after the transaction commits (SQLAlchemy ``after_commit``),
  and a render reads the versions before it reads anything else. A reader who
  rendered the old content stores it with the old versions, so it is never served
  once the bump has happened.
- Nothing private is ever shared: pages are neither served from nor stored to the
  cache for a signed-in user, a session with a cart or flashed messages, a query
  argument the view did not allow, a response other than 200, a response that sets
  a cookie other than the session, or one marked ``private``/``no-store``.
- CSRF tokens: forms on these pages carry the shared, signed *page token*
  (``blueprints/core/csrf.py``), accepted only for sessions that are not private, so
  reading never makes a session or sets a cookie. Private sessions never see a cached
  page and keep their own Flask-WTF token. The token is replaced by a placeholder
  before storing, and each hit fills in the current one.
- Hits are answered by :class:`PageCacheMiddleware` before Flask dispatches: the stored
  bytes plus headers, with no request context.
- Conditional GET: a weak ETag from the stored body (and the hour), 304 when it matches.
- A shared cache in front (nginx, ``deploy/nginx.conf``) may keep exactly these pages:
  they say ``public, s-maxage=...`` (``edge.shared_cache_control``) and carry no
  per-response secret (no CSP nonce, the page token). Every other response stays private. nginx cannot read the
  session, so a private session also carries the ``bb_private`` cookie, and nginx
  neither serves nor stores a cached page for a request that sends it
  (:func:`mark_private_sessions`).

Several gunicorn workers must share one cache for invalidation to reach them all:
set ``FLASK_CACHE_REDIS_URL`` in production (the in-process default is per worker).
"""

import hashlib
import logging
import time
from functools import wraps
from urllib.parse import parse_qsl, urlsplit

from flask import current_app, g, make_response, request
from itsdangerous import BadSignature
from werkzeug.http import http_date, parse_cookie, parse_etags, unquote_etag
from werkzeug.wsgi import get_host

from blueprints.core.cache_tags import (
    CACHE_ERRORS,
    SITE_TAG,
    tag_versions,
    version_key,
)
from blueprints.core.csrf import page_token, use_page_token
from blueprints.core.database import read_without_transaction
from blueprints.core.edge import (
    PRIVATE,
    PRIVATE_COOKIE,
    mark_private_sessions,
    shared_cache_control,
)
from blueprints.core.hosts import normal_host, refuse_unknown_host
from blueprints.core.security import security_headers
from blueprints.core.sessions import data_is_private, session_is_private
from blueprints.core.timezones import TZ_COOKIE, parse_zone, reader_zone
from extensions import cache

log = logging.getLogger(__name__)

CSRF_PLACEHOLDER = "__page-cache-csrf-token-7f3c9a1e__"
# Headers of a view's response that are kept with the stored page.
_STORED_HEADER_SKIP = {"set-cookie", "content-length", "etag", "vary", "x-cache"}
_UNUSED_ARGS = "bb.page_cache.unused_args"  # WSGI environ key: per request, never shared


def _enabled():
    return bool(current_app.config.get("PAGE_CACHE"))


# --- deciding whether a request may use the cache --------------------------------------


def _query_allowed(allow_args, max_arg_length):
    """True when every query argument is one the view uses, given once, and not too long
    (a view reads the first of repeated values: the others would only make new keys)."""
    seen = set()
    for key, value in request.args.items(multi=True):
        if key not in allow_args or key in seen or len(value) > max_arg_length:
            return False
        seen.add(key)
    return True


def query_args_unused(*names):
    """The view tells the cache that these query arguments of the request changed
    nothing on the page (``?reply_to=`` naming no comment): the page is then served but
    not stored under their values, so made-up values cannot fill the cache."""
    request.environ.setdefault(_UNUSED_ARGS, set()).update(names)


def page_address(environ, zone_name):
    """The cache key of a request's page: where it is and who may share it.

    Host (in normal form), path, the query arguments decoded and in a fixed order, and
    the reader's time zone (dates on the page are shown in it), all read from the WSGI
    ``environ`` so that the middleware and the view compute the same key. Tags are not
    part of it: a stored page carries the tag versions it was rendered under, and is
    served only while they are all current.
    """
    query = sorted(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    parts = [
        "GET",  # HEAD is answered from the same entry as GET
        normal_host(get_host(environ)) or "",
        environ.get("PATH_INFO", ""),
        repr(query),
        zone_name,
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"page:{digest}"


def _storable(response):
    if response.status_code != 200 or response.is_streamed:
        return False
    if response.cache_control.private or response.cache_control.no_store:
        return False
    if any(name in request.args for name in request.environ.get(_UNUSED_ARGS, ())):
        return False
    if "csp_nonce" in g:  # a per-response secret is never shared
        return False
    session_cookie = current_app.config["SESSION_COOKIE_NAME"]
    for header in response.headers.getlist("Set-Cookie"):
        if not header.startswith(session_cookie + "="):
            return False
    # The view itself may have flashed a message or signed someone in.
    return not session_is_private()


def _csrf_field():
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


# --- building responses ------------------------------------------------------------------


def _etag(body_digest):
    """A weak validator: the stored page (forms hold the page token, the same for every
    reader), and the hour, so that a copy kept by a browser never carries a page token
    much older than an hour (the token itself is good for a day)."""
    hour = int(time.time()) // 3600
    return 'W/"' + hashlib.sha256(f"{body_digest}\x1f{hour}".encode()).hexdigest()[:32] + '"'


def _finish(response, body_digest, outcome, shared=False):
    headers = response.headers
    headers["ETag"] = _etag(body_digest)
    # Browsers may keep the page and must ask again (a cheap 304) before reusing it;
    # shared caches only a page stored for everyone. (Headers are set as strings:
    # parsing them back costs more than the rest.)
    headers["Cache-Control"] = shared_cache_control(current_app.config) if shared else PRIVATE
    if "Vary" in headers:
        response.vary.add("Cookie")
    else:
        headers["Vary"] = "Cookie"
    headers["X-Cache"] = outcome
    return response.make_conditional(request)


def _store(key, response, tags, versions, timeout):
    body = response.get_data()
    token = g.get(_csrf_field())
    has_token = bool(token) and token.encode() in body
    stored = body.replace(token.encode(), CSRF_PLACEHOLDER.encode()) if has_token else body
    entry = {
        "body": stored,
        "has_token": has_token,
        "digest": hashlib.sha256(stored).hexdigest(),
        "headers": [
            (name, value)
            for name, value in response.headers.items()
            if name.lower() not in _STORED_HEADER_SKIP
        ],
        "tags": tags,
        "versions": versions,
    }
    try:
        cache.set(key, entry, timeout=timeout)
    except CACHE_ERRORS as error:
        log.warning("Could not store a page in the cache: %s", error)
    return entry


def cached_page(tags=None, timeout=None, allow_args=(), max_arg_length=100):
    """Keep this view's page for anonymous readers; :class:`PageCacheMiddleware` serves it.

    ``tags``: a list, or a callable taking the view's arguments (``lambda slug: [...]``)
    that names what the page shows; :data:`SITE_TAG` is always added.
    ``timeout``: seconds a stored page may live (default ``PAGE_CACHE_TIMEOUT``); use
    a short one for pages that change with the clock (free appointment times).
    ``allow_args``: query arguments the page uses (``("page",)``, ``("q",)``); any
    other argument, or a value longer than ``max_arg_length``, skips the cache, so
    made-up arguments cannot fill it.

    The view runs only when the middleware found no current copy: it renders, and the
    page is stored under :func:`page_address` with the tag versions read *before* the
    view read anything, so a change committed meanwhile leaves the copy stale at once.

    A public page only reads: on GET and HEAD its queries run without a transaction
    (:func:`~blueprints.core.database.read_without_transaction`), for every reader.
    """
    allow = frozenset(allow_args)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if request.method not in ("GET", "HEAD"):
                return _uncached(view, args, kwargs)
            read_without_transaction()  # a public page only reads
            if session_is_private():
                return _uncached(view, args, kwargs)
            use_page_token()
            if not _enabled() or not _query_allowed(allow, max_arg_length):
                return _uncached(view, args, kwargs)
            page_tags = list(tags(**kwargs) if callable(tags) else (tags or []))
            page_tags = sorted(set(page_tags) | {SITE_TAG})
            try:
                key = page_address(request.environ, reader_zone().key)
                versions = tag_versions(page_tags)
            except CACHE_ERRORS as error:
                # One line per request, not a traceback: an outage must not flood the log.
                log.warning("Page cache unavailable (%s); serving uncached", error)
                return _uncached(view, args, kwargs)

            response = make_response(view(*args, **kwargs))
            if not _storable(response):
                response.headers["X-Cache"] = "MISS"
                return response
            lifetime = timeout if timeout is not None else current_app.config["PAGE_CACHE_TIMEOUT"]
            entry = _store(key, response, page_tags, versions, lifetime)
            return _finish(response, entry["digest"], "MISS", shared=True)

        return wrapped

    return decorator


def _uncached(view, args, kwargs):
    """The view's own response, still with a validator for anonymous readers: one who
    has the page gets a 304 when it has not changed, also with the page cache off."""
    response = make_response(view(*args, **kwargs))
    if (
        response.status_code != 200
        or response.is_streamed
        or response.cache_control.no_store
        or session_is_private()
    ):
        response.headers["X-Cache"] = "MISS"
        return response
    body = response.get_data()
    token = g.get(_csrf_field())
    has_token = bool(token) and token.encode() in body
    if has_token:
        body = body.replace(token.encode(), CSRF_PLACEHOLDER.encode())
    digest = hashlib.sha256(body).hexdigest()
    return _finish(response, digest, "MISS")


# --- serving hits ------------------------------------------------------------------------


def _versions(store, entry):
    """The current versions of a stored page's tags. Compare only: a missing version means
    "changed", and the render that follows creates it (``tag_versions``)."""
    return store.get_many(*[version_key(tag) for tag in entry["tags"]])


class PageCacheMiddleware:
    """Answers page-cache hits before Flask dispatches the request, and first of all
    refuses, with 400, a request to a host the site does not answer as (so nothing is
    stored or served under a made-up host).

    A hit needs none of the request pipeline: no view, no database, no request context,
    no rate limiter (reads are never limited). For a reader whose session is not private
    (most have none at all) it sends the stored bytes with the page token in the forms
    and the security headers, and sets no cookie. Anything else (a POST, a private or
    unreadable session, no current copy, the cache unreachable) goes on to Flask.
    """

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self._session_serializer = None

    def __call__(self, environ, start_response):
        refused = refuse_unknown_host(environ, self.app.config)
        if refused is not None:
            return refused(environ, start_response)
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD") and self.app.config["PAGE_CACHE"]:
            served = self._serve_hit(environ, start_response)
            if served is not None:
                return served
        return self.wsgi_app(environ, start_response)

    def _shared_pages_allowed(self, session_cookie):
        """No session, or one that is not private (what ``session_is_private`` checks)."""
        if session_cookie is None:
            return True
        app = self.app
        if self._session_serializer is None:
            self._session_serializer = app.session_interface.get_signing_serializer(app)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data = self._session_serializer.loads(session_cookie, max_age=max_age)
        except BadSignature:
            return False  # Flask starts them a new session
        return not data_is_private(data, app)

    def _serve_hit(self, environ, start_response):
        app = self.app
        cookies = parse_cookie(environ)
        if PRIVATE_COOKIE in cookies:
            return None  # Flask clears the mark when the session is no longer private
        if not self._shared_pages_allowed(cookies.get(app.config["SESSION_COOKIE_NAME"])):
            return None
        zone = parse_zone(cookies.get(TZ_COOKIE))
        key = page_address(environ, zone.key if zone else app.config["PRACTITIONER_TIMEZONE"])
        backend = app.extensions["cache"][cache]  # what ``cache.get`` uses, without a context
        try:
            entry = backend.get(key)
            if entry is None or _versions(backend, entry) != entry["versions"]:
                return None
        except CACHE_ERRORS:
            return None  # the view serves it uncached and says so in the log
        body = entry["body"]
        if entry["has_token"]:
            body = body.replace(CSRF_PLACEHOLDER.encode(), page_token(app.secret_key).encode())
        etag = _etag(entry["digest"])
        headers = [
            *entry["headers"],
            ("ETag", etag),
            ("Cache-Control", shared_cache_control(app.config)),
            ("Vary", "Cookie"),
            ("X-Cache", "HIT"),
            ("Date", http_date()),
            *security_headers(app.config),
        ]
        if parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains_weak(unquote_etag(etag)[0]):
            start_response("304 NOT MODIFIED", [h for h in headers if h[0] != "Content-Type"])
            return []
        headers.append(("Content-Length", str(len(body))))
        start_response("200 OK", headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]


def init_page_cache(app):
    """Serve hits from :class:`PageCacheMiddleware`; warn when several workers would each
    keep their own copy of the cache, or when the cache and the rate limiter share one
    Redis server (its memory limit and eviction policy are the server's, not a
    database's: a cache that fills it would stop the limiter)."""
    app.wsgi_app = PageCacheMiddleware(app, app.wsgi_app)
    app.after_request(mark_private_sessions)
    config = app.config
    if config["ENV_NAME"] != "production" or not config.get("PAGE_CACHE"):
        return
    if config.get("CACHE_TYPE") in ("SimpleCache", "simple"):
        log.warning(
            "The page cache is in-process: with several workers a change clears the page "
            "only in the worker that made it. Set FLASK_CACHE_REDIS_URL to share one cache."
        )
    cache_server = _redis_server(config.get("CACHE_REDIS_URL"))
    if cache_server and cache_server == _redis_server(config.get("RATELIMIT_STORAGE_URI")):
        log.warning(
            "The page cache and the rate limiter use the same Redis server (%s:%s): give "
            "the cache its own server with maxmemory-policy allkeys-lru (docs/deploy.md).",
            *cache_server,
        )


def _redis_server(url):
    """``(host, port)`` of a ``redis://`` URL, else None."""
    if not url or not url.startswith(("redis://", "rediss://")):
        return None
    parts = urlsplit(url)
    return (parts.hostname, parts.port or 6379)
