"""What a shared cache in front of the app (nginx's edge cache) may keep, said in headers.

Only pages the page cache shares (``blueprints/core/cache.py``: a ``cached_page`` view,
stored for a session that is not private) say ``public, s-maxage=...`` (see
:func:`shared_cache_control`); everything else stays private, as a browser-only or uncached response. nginx cannot read
the signed session, so a private session (signed in, a cart, a message waiting) also
carries a small non-secret cookie, ``bb_private``, for as long as it is private: nginx
neither serves a cached page to a request that sends it nor stores the answer
(``deploy/nginx.conf``). The rule is the page cache's own, ``session_is_private``.
"""

from flask import current_app, g, request, session

from blueprints.core.sessions import session_is_private

PRIVATE = "private, no-cache"
# Set while the session is private (signed in, a cart, a message waiting): nginx cannot
# read the signed session, so it skips its cache for any request that sends this.
PRIVATE_COOKIE = "bb_private"


def shared_cache_control(config):
    """``Cache-Control`` of a page the page cache shares: no reader of a shared cache in
    front is shown a copy older than ``EDGE_CACHE_SECONDS``; a browser must ask again (a
    304) before reusing it.

    nginx counts whole seconds, so a copy it may keep ``s-maxage=1`` is served until its
    clock has moved on twice: up to just under 2 seconds after the app made it, and a
    ``stale-while-revalidate`` window adds its full length to that. Of the seconds
    allowed, the copy is fresh 1 (the least nginx keeps) and may be served stale, while
    one request fetches the new one in the background, for the rest beyond 2: with 2,
    none (the first reader after that second waits for the app; nginx's cache lock holds
    the others meanwhile); with 3, one.
    """
    seconds = int(config.get("EDGE_CACHE_SECONDS") or 0)
    if seconds <= 0:
        return PRIVATE
    stale = seconds - 2
    if stale > 0:
        return f"public, max-age=0, s-maxage=1, stale-while-revalidate={stale}"
    return "public, max-age=0, s-maxage=1"


def mark_private_sessions(response):
    """Keep the ``bb_private`` cookie in step with the session, and keep every response
    that is not a page for everyone out of shared caches.

    The cookie lives as long as the session cookie, so a private session never reaches
    nginx without it; once the session is no longer private it is cleared. A response
    to a private session is marked ``private`` (unless the view said more, such as
    ``no-store``); one that sets a cookie or carries a CSP nonce is never ``public``,
    whatever the view said.
    """
    app = current_app
    private = session_is_private()
    marked = PRIVATE_COOKIE in request.cookies
    writes_session = app.session_interface.should_set_cookie(app, session)
    secure = app.config["SESSION_COOKIE_SECURE"]
    if private and (not marked or writes_session):
        expires = app.session_interface.get_expiration_time(app, session)
        response.set_cookie(
            PRIVATE_COOKIE, "1", expires=expires, httponly=True, secure=secure, samesite="Lax"
        )
    elif marked and not private:
        response.delete_cookie(PRIVATE_COOKIE, httponly=True, secure=secure, samesite="Lax")
    shared = response.cache_control.s_maxage is not None
    if private or marked:
        if shared or "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "private"
    elif shared and (writes_session or "Set-Cookie" in response.headers or "csp_nonce" in g):
        response.headers["Cache-Control"] = PRIVATE
    return response
