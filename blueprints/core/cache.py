"""The page cache: whole rendered pages for anonymous readers, cleared by tags.

A public view opts in with one decorator::

    @bp.get("/blog/<slug>")
    @cached_page(tags=lambda slug: ["blog", f"post:{slug}"])
    def post(slug): ...

and the service that changes what the page shows names the same tags::

    invalidate_after_commit("blog", f"post:{post.slug}")

How it stays correct:

- Tags are invalidated by version numbers kept in the cache. A page's key contains
  the current version of each of its tags, so bumping a tag makes every page that
  carries it unreachable at once, with no scan over keys. A version is a random
  value, never a counter: a version that was evicted comes back as a fresh value,
  which again only makes pages unreachable, never resurrects an old one.
- Tags are bumped only after the transaction commits (SQLAlchemy ``after_commit``),
  and a request computes its key, versions included, before it reads anything. A
  reader who rendered the old content stores it under the old versions, which
  nobody asks for once the bump has happened.
- Nothing private is ever shared: pages are neither served from nor stored to the
  cache for a signed-in user, a session with a cart or flashed messages, a query
  argument the view did not allow, a response other than 200, a response that sets
  a cookie other than the session, or one marked ``private``/``no-store``.
- CSRF tokens: the visitor's token is replaced by a placeholder before storing, and
  a hit fills in a token made for the reader (``generate_csrf()``, which also gives
  them a session), so cached forms still validate.
- Conditional GET: a weak ETag from the stored body and the reader's own CSRF secret
  (the filled-in token is re-signed with a timestamp on every request, so the bytes
  differ while the meaning does not: hence weak), and 304 when it matches.

Several gunicorn workers must share one cache for invalidation to reach them all:
set ``FLASK_CACHE_REDIS_URL`` in production (the in-process default is per worker).
"""

import hashlib
import logging
import secrets
from functools import wraps

from flask import current_app, g, make_response, request, session
from sqlalchemy import event
from sqlalchemy.orm import Session

from blueprints.core.timezones import reader_zone
from extensions import cache, db

log = logging.getLogger(__name__)

# Every cached page carries this tag: ``invalidate_after_commit(SITE_TAG)`` clears all.
SITE_TAG = "site"
CSRF_PLACEHOLDER = "__page-cache-csrf-token-7f3c9a1e__"
# Session keys that make a page personal: a signed-in user, a cart, flashed messages,
# the blog's "your comment is waiting" notice (shown once on the post after commenting).
PRIVATE_SESSION_KEYS = ("_user_id", "cart_token", "_flashes", "blog_comment_notice")
# Headers of a view's response that are kept with the stored page.
_STORED_HEADER_SKIP = {"set-cookie", "content-length", "etag", "vary", "x-cache"}
_PENDING_TAGS = "page_cache_pending_tags"

try:  # the Redis client is optional: only the Redis backend can raise its errors
    from redis.exceptions import RedisError

    CACHE_ERRORS = (OSError, RedisError)
except ImportError:  # pragma: no cover
    CACHE_ERRORS = (OSError,)


def _enabled():
    return bool(current_app.config.get("PAGE_CACHE"))


# --- tag versions ---------------------------------------------------------------------


def _version_key(tag):
    return f"tagv:{tag}"


def tag_versions(tags):
    """The current version of each tag (a missing one is created, never reused)."""
    keys = [_version_key(tag) for tag in tags]
    versions = cache.get_many(*keys)
    for index, value in enumerate(versions):
        if value is None:
            fresh = secrets.token_hex(8)
            # ``add`` only sets a missing key, so two workers agree on one value.
            if not cache.add(keys[index], fresh, timeout=0):
                fresh = cache.get(keys[index]) or fresh
            versions[index] = fresh
    return versions


def bump_tags(*tags):
    """Make every page carrying any of ``tags`` unreachable now.

    Services call :func:`invalidate_after_commit` instead; this is for code outside a
    transaction (a CLI command, a test).
    """
    for tag in set(tags):
        cache.set(_version_key(tag), secrets.token_hex(8), timeout=0)


def invalidate_after_commit(*tags):
    """Clear the pages carrying ``tags`` once the current transaction commits.

    Call it from the service that makes the change, next to the change itself. A
    rollback forgets the tags, so a failed change clears nothing.
    """
    db.session.info.setdefault(_PENDING_TAGS, set()).update(tags)


@event.listens_for(Session, "after_commit")
def _bump_committed_tags(session):
    tags = session.info.pop(_PENDING_TAGS, None)
    if not tags:
        return
    try:
        bump_tags(*tags)
    except CACHE_ERRORS:
        # The change is saved; the pages expire with their timeout instead.
        log.exception("Could not clear cached pages for tags %s", sorted(tags))


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_tags(session):
    session.info.pop(_PENDING_TAGS, None)


# --- derived values --------------------------------------------------------------------


def cached_value(name, tags, compute, timeout=None):
    """A value computed from the data (a count, a list of topics), kept in the cache
    until one of ``tags`` is bumped, exactly like the pages that show it.

    Used for aggregates that grow with the data (counting 10,000 posts), so that even an
    uncached page render stays constant-time. ``compute`` must return something picklable
    (plain tuples, not ORM objects). Any cache error computes the value afresh.
    """
    try:
        versions = tag_versions(sorted(tags))
        key = (
            "value:"
            + hashlib.sha256("\x1f".join([name, *sorted(tags), *versions]).encode()).hexdigest()
        )
        value = cache.get(key)
    except CACHE_ERRORS as error:
        log.warning("Value cache unavailable (%s); computing %s", error, name)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(key, value, timeout=timeout)
        except CACHE_ERRORS as error:
            log.warning("Could not store %s in the cache: %s", name, error)
    return value


# --- deciding whether a request may use the cache --------------------------------------


def _session_is_private():
    return any(key in session for key in PRIVATE_SESSION_KEYS)


def _allowed_query(allow_args, max_arg_length):
    """The sorted query arguments, or None when one of them is not allowed."""
    items = sorted(request.args.items(multi=True))
    for key, value in items:
        if key not in allow_args or len(value) > max_arg_length:
            return None
    return items


def _page_key(tags, query):
    versions = tag_versions(tags)
    parts = [
        "GET",  # HEAD is answered from the same entry as GET
        request.host,
        request.path,
        repr(query),
        reader_zone().key,  # dates on the page are in the reader's zone
        repr(list(zip(tags, versions, strict=True))),
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"page:{digest}"


def _storable(response):
    if response.status_code != 200 or response.is_streamed:
        return False
    if response.cache_control.private or response.cache_control.no_store:
        return False
    session_cookie = current_app.config["SESSION_COOKIE_NAME"]
    for header in response.headers.getlist("Set-Cookie"):
        if not header.startswith(session_cookie + "="):
            return False
    # The view itself may have flashed a message or signed someone in.
    return not _session_is_private()


def _csrf_field():
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


# --- building responses ------------------------------------------------------------------


def _etag(body_digest, has_token):
    """A weak validator: the stored page plus, when it holds a form, the reader's secret."""
    parts = [body_digest]
    if has_token:
        parts.append(str(session.get(_csrf_field(), "")))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _finish(response, body_digest, has_token, outcome):
    headers = response.headers
    headers["ETag"] = f'W/"{_etag(body_digest, has_token)}"'
    # The body holds this reader's token: browsers may keep it, shared caches may not,
    # and either must ask again (a cheap 304) before reusing it. (Headers are set as
    # strings: this runs on every hit, and parsing them back costs more than the rest.)
    headers["Cache-Control"] = "private, no-cache"
    if "Vary" in headers:
        response.vary.add("Cookie")
    else:
        headers["Vary"] = "Cookie"
    headers["X-Cache"] = outcome
    return response.make_conditional(request)


def _response_from_entry(entry):
    body = entry["body"]
    if entry["has_token"]:
        from flask_wtf.csrf import generate_csrf

        # The token must come from this reader's session, never from an earlier request
        # that shared this app context (as tests do).
        g.pop(_csrf_field(), None)
        body = body.replace(CSRF_PLACEHOLDER.encode(), generate_csrf().encode())
    response = current_app.response_class(body, status=200, headers=entry["headers"])
    return _finish(response, entry["digest"], entry["has_token"], "HIT")


def _store(key, response, timeout):
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
    }
    try:
        cache.set(key, entry, timeout=timeout)
    except CACHE_ERRORS as error:
        log.warning("Could not store a page in the cache: %s", error)
    return entry


def cached_page(tags=None, timeout=None, allow_args=(), max_arg_length=100):
    """Serve this view's page from the cache to anonymous readers.

    ``tags``: a list, or a callable taking the view's arguments (``lambda slug: [...]``)
    that names what the page shows; :data:`SITE_TAG` is always added.
    ``timeout``: seconds a stored page may live (default ``PAGE_CACHE_TIMEOUT``); use
    a short one for pages that change with the clock (free appointment times).
    ``allow_args``: query arguments the page uses (``("page",)``, ``("q",)``); any
    other argument, or a value longer than ``max_arg_length``, skips the cache, so
    made-up arguments cannot fill it.
    """
    allow = frozenset(allow_args)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not _enabled() or request.method not in ("GET", "HEAD") or _session_is_private():
                return _uncached(view, args, kwargs)
            query = _allowed_query(allow, max_arg_length)
            if query is None:
                return _uncached(view, args, kwargs)
            page_tags = list(tags(**kwargs) if callable(tags) else (tags or []))
            page_tags = sorted(set(page_tags) | {SITE_TAG})
            try:
                key = _page_key(page_tags, query)
                entry = cache.get(key)
            except CACHE_ERRORS as error:
                # One line per request, not a traceback: an outage must not flood the log.
                log.warning("Page cache unavailable (%s); serving uncached", error)
                return _uncached(view, args, kwargs)
            if entry is not None:
                return _response_from_entry(entry)

            response = make_response(view(*args, **kwargs))
            if not _storable(response):
                response.headers["X-Cache"] = "MISS"
                return response
            lifetime = timeout if timeout is not None else current_app.config["PAGE_CACHE_TIMEOUT"]
            entry = _store(key, response, lifetime)
            return _finish(response, entry["digest"], entry["has_token"], "MISS")

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
        or _session_is_private()
    ):
        response.headers["X-Cache"] = "MISS"
        return response
    body = response.get_data()
    token = g.get(_csrf_field())
    has_token = bool(token) and token.encode() in body
    if has_token:
        body = body.replace(token.encode(), CSRF_PLACEHOLDER.encode())
    digest = hashlib.sha256(body).hexdigest()
    return _finish(response, digest, has_token, "MISS")


def init_page_cache(app):
    """Warn when several workers would each keep their own copy of the cache."""
    in_process = app.config.get("CACHE_TYPE") in ("SimpleCache", "simple")
    if app.config.get("PAGE_CACHE") and in_process and app.config["ENV_NAME"] == "production":
        log.warning(
            "The page cache is in-process: with several workers a change clears the page "
            "only in the worker that made it. Set FLASK_CACHE_REDIS_URL to share one cache."
        )
