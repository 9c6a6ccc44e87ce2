"""Security defaults: response headers (a CSP nonce only on pages with an inline script),
safe redirects, and staff sign-in refused while the rate limiter cannot count attempts."""

import logging
import secrets
import time
from functools import cache
from urllib.parse import urlsplit

from flask import current_app, g, request

from blueprints.core.bodies import init_body_limits
from blueprints.core.csrf import init_csrf
from blueprints.core.errors import render_error
from blueprints.core.sessions import init_sessions
from extensions import limiter

log = logging.getLogger(__name__)

SIGN_IN_UNAVAILABLE = (
    "Sign-in is briefly unavailable while we fix a problem on our side. "
    "Please try again in a few minutes."
)
_LIMITER_PROBE_KEY = "fail-closed-probe"


def new_nonce():
    return secrets.token_urlsafe(16)


def csp_nonce():
    """The nonce for this response's inline scripts (made on first use). A page that asks
    for one is never shared by a cache (blueprints/core/cache.py), as the nonce is a
    per-response secret; a data block (JSON-LD) runs nothing and needs none."""
    if "csp_nonce" not in g:
        g.csp_nonce = new_nonce()
    return g.csp_nonce


@cache
def _header_templates(checkout_origin, hsts):
    """The Content-Security-Policy with a ``{nonce}`` slot (empty without a nonce), and the other headers, built
    once for each setting (they only change with the configuration)."""
    form_action = ["'self'"]
    # Checkout redirects the form's POST to Stripe; browsers apply form-action to it.
    if checkout_origin:
        form_action.append(checkout_origin)
    policy = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'{nonce}",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action " + " ".join(form_action),
        ]
    )
    fixed = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("X-Frame-Options", "DENY"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if hsts:
        fixed.append(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))
    return policy, tuple(fixed)


def security_headers(config, nonce=None):
    """The headers every response carries, as ``(name, value)`` pairs (the page cache's
    fast path sends them without a request context). ``nonce``: the one the page's inline
    scripts carry, or None when it has none (then the policy allows no inline script)."""
    policy, fixed = _header_templates(
        config.get("STRIPE_CHECKOUT_ORIGIN"), bool(config.get("HSTS"))
    )
    source = f" 'nonce-{nonce}'" if nonce else ""
    return [("Content-Security-Policy", policy.format(nonce=source)), *fixed]


def set_security_headers(response):
    # Added, not set: no view sets these, and adding skips a search of the headers.
    response.headers.extend(security_headers(current_app.config, g.get("csp_nonce")))
    return response


def is_safe_next(target):
    """True for a path on this site only: no scheme, no host, no tricks."""
    if not target or not isinstance(target, str):
        return False
    if any(ch in target for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in target):
        return False
    if not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(default):
    """The ``next`` argument of this request when it is a local path, else ``default``."""
    target = request.values.get("next")
    return target if is_safe_next(target) else default


def _refuse_nul_bytes():
    """A NUL character has no place in an address, and PostgreSQL refuses it in text (a
    DataError, so a 500) when a view looks the slug or token up: no page has such an
    address, so 404. Query strings and forms are left to the views, which answer with a
    message and what the person typed."""
    from flask import abort, request

    if "\x00" in request.path:
        abort(404)


READ_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


def _refuse_uncounted_sign_in():
    """Fail closed where guessing is the danger: a POST to an endpoint named in
    ``RATELIMIT_FAIL_CLOSED_ENDPOINTS`` (staff sign-in and its code step) is refused with
    a 503 page while the limiter's store cannot count an attempt (one increment of a
    probe key, which fails as the limiter's own counting would).

    Everywhere else a failing store is let through (``RATELIMIT_SWALLOW_ERRORS``): a
    comment or a signup is worth more than its limit for the minutes Redis is down, but
    unlimited password guesses are not worth a staff member's few minutes' wait.
    """
    config = current_app.config
    if request.method in READ_METHODS or not limiter.enabled:
        return None
    if request.endpoint not in config.get("RATELIMIT_FAIL_CLOSED_ENDPOINTS", ()):
        return None
    try:
        limiter.storage.incr(config.get("RATELIMIT_KEY_PREFIX", "") + _LIMITER_PROBE_KEY, 60)
    except Exception as error:  # any store, any failure: we cannot count, so we refuse
        log.error("Rate limit store unavailable, staff sign-in refused: %s", error)
        body, status = render_error(503, SIGN_IN_UNAVAILABLE)
        return body, status, {"Retry-After": "60"}
    return None


@limiter.request_filter  # once per process: the limiter instance is shared by every app
def _is_read():
    """Rate limits guard forms (POSTs): a read is never counted."""
    return request.method in READ_METHODS


def init_security(app):
    from flask_login import user_logged_in

    init_body_limits(app)  # first: the CSRF check reads the body
    init_csrf(app)
    init_sessions(app)
    app.before_request(_refuse_nul_bytes)
    app.before_request(_refuse_uncounted_sign_in)
    app.after_request(set_security_headers)
    app.before_request(_enforce_session_timeouts)
    user_logged_in.connect(_stamp_sign_in, app)
    app.jinja_env.globals["csp_nonce"] = csp_nonce


def staff_required(view):
    """Signed-in staff only: others go to the sign-in page (or get 403 if signed in)."""
    from functools import wraps

    from flask import abort
    from flask_login import current_user

    from extensions import login_manager

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


# Staff sessions end after 30 idle minutes and, whatever happens, 12 hours after sign-in.
IDLE_TIMEOUT_SECONDS = 30 * 60
ABSOLUTE_TIMEOUT_SECONDS = 12 * 60 * 60


def _stamp_sign_in(sender, user, **extra):
    from flask import session

    now = int(time.time())
    session["_login_at"] = now
    session["_seen_at"] = now


def _enforce_session_timeouts():
    from flask import flash, session
    from flask_login import current_user, logout_user

    if "_user_id" not in session:
        return
    now = int(time.time())
    if "_login_at" not in session:  # signed in before the stamps existed: start the clocks now
        session["_login_at"] = session["_seen_at"] = now
        return
    login_at = session["_login_at"]
    seen_at = session.get("_seen_at", login_at)
    if now - login_at > ABSOLUTE_TIMEOUT_SECONDS or now - seen_at > IDLE_TIMEOUT_SECONDS:
        if current_user.is_authenticated:
            # Whose session this was: this request's form was checked against its CSRF
            # token, so a view may still keep what she typed (the post editor does).
            g.idle_signed_out_user_id = current_user.id
            logout_user()
        session.clear()
        flash("You were signed out after a period of inactivity. Please sign in again.", "warning")
        return
    # Refresh at most once a minute, so ordinary browsing does not rewrite the cookie.
    if now - seen_at > 60:
        session["_seen_at"] = now
