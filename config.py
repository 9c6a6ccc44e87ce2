"""Settings: safe defaults first, then every ``FLASK_<KEY>`` environment variable.

``FLASK_ENV_NAME=production`` switches on the strict checks: the site then refuses to
start without a secret key and a database URL, and never enables the Stripe emulator.
"""

from datetime import timedelta
from urllib.parse import urlsplit

DEV_SECRET_KEY = "dev-only-not-secret"


class DefaultConfig:
    ENV_NAME = "development"
    SECRET_KEY = DEV_SECRET_KEY
    # A relative SQLite path lands in the instance/ folder (Flask-SQLAlchemy's rule).
    SQLALCHEMY_DATABASE_URI = "sqlite:///better_bones.db"
    SQLALCHEMY_ENGINE_OPTIONS = {}
    # A pooled connection unused for this many seconds is checked before a request gets
    # it (blueprints/core/database.py); None never checks.
    DATABASE_PING_AFTER_IDLE = 10
    SITE_URL = "http://127.0.0.1:5000"
    # How many reverse proxies sit in front of the app (nginx: 1). 0 trusts no header.
    TRUSTED_PROXIES = 0
    # Seconds a shared cache in front (nginx's edge cache, deploy/nginx.conf) may keep a
    # public page: sent as ``s-maxage`` only on pages the page cache would share. 0: none.
    EDGE_CACHE_SECONDS = 2
    # Production settings over plain http on this machine's loopback address only
    # (scripts/run-stack): cookies without Secure or the __Host- name, no HSTS. Never on
    # a public server: it refuses to start unless SITE_URL is http on a loopback host.
    LOCAL_PLAIN_HTTP = False
    SITE_NAME = "Better Bones"

    # Mail: without MAIL_SERVER every message is written to the log instead.
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "Better Bones <hello@betterbones.example>"
    MAIL_TIMEOUT = 10

    # Sessions and cookies.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    MAX_CONTENT_LENGTH = 1024 * 1024

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    WTF_CSRF_CHECK_DEFAULT = False  # blueprints/core/csrf.py checks every form POST
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_ENABLED = True
    # Failed staff sign-ins allowed per IP address before 429 (successes do not count).
    STAFF_LOGIN_RATE_LIMIT = "10 per 15 minutes"

    # Stripe: keys come from the environment only. STRIPE_API_BASE points the SDK
    # at the bundled emulator (offline demo) or at a test server.
    STRIPE_SECRET_KEY = None
    STRIPE_WEBHOOK_SECRET = None
    STRIPE_API_BASE = None
    STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
    STRIPE_EMULATOR = False
    CURRENCY = "usd"
    # Seconds to wait for one Stripe API answer, and retries after a network failure.
    STRIPE_TIMEOUT_SECONDS = 10.0
    STRIPE_MAX_NETWORK_RETRIES = 1

    # Newsletter: the weekly sender's batch size, how long a claimed row stays with a
    # sender that stopped answering, and how often a temporary failure is retried.
    NEWSLETTER_BATCH_SIZE = 200
    NEWSLETTER_SMTP_CONNECTIONS = 4  # batches sent side by side, one connection each
    NEWSLETTER_CLAIM_LEASE_SECONDS = 600
    NEWSLETTER_MAX_ATTEMPTS = 5
    # SQLite only: outcomes committed per group. 1 keeps "exactly once" even when the
    # sender is killed; more is faster but may resend up to that many after a kill.
    NEWSLETTER_SQLITE_COMMIT_EVERY = 1
    NEWSLETTER_SIGNUP_LIMIT = "5/minute;30/hour"

    PRACTITIONER_TIMEZONE = "America/New_York"
    POSTS_PER_PAGE = 10
    COMMENT_RATE_LIMIT = "5 per minute;30 per day"  # per address, on the comment POST
    HSTS = False

    # The page cache (blueprints/core/cache.py). In-process by default; set
    # FLASK_CACHE_REDIS_URL=redis://127.0.0.1:6379/0 to share one cache between workers
    # (needed in production, so a change clears the page in every worker).
    PAGE_CACHE = True  # FLASK_PAGE_CACHE=false serves every page fresh
    PAGE_CACHE_TIMEOUT = 3600  # seconds; tags clear pages sooner when content changes
    CACHE_TYPE = "SimpleCache"
    CACHE_DEFAULT_TIMEOUT = 300
    CACHE_THRESHOLD = 1000  # entries per worker for the in-process cache
    CACHE_KEY_PREFIX = "bb:"
    CACHE_REDIS_URL = None
    # A slow or absent Redis must not hold pages up: they are served uncached instead.
    CACHE_REDIS_SOCKET_TIMEOUT = 0.5


class ProductionSettingsError(SystemExit):
    """Raised with a one-line message when production settings are incomplete."""


def load_config(app, overrides=None):
    """Fill ``app.config`` from the defaults, the environment, then ``overrides``."""
    app.config.from_object(DefaultConfig)
    app.config.from_prefixed_env()
    if overrides:
        app.config.update(overrides)
    _choose_cache_backend(app)
    if app.config["ENV_NAME"] == "production":
        _apply_production(app)


def _choose_cache_backend(app):
    """Redis when ``CACHE_REDIS_URL`` is set (unless another backend was chosen)."""
    if app.config.get("CACHE_REDIS_URL") and app.config["CACHE_TYPE"] == DefaultConfig.CACHE_TYPE:
        timeout = app.config["CACHE_REDIS_SOCKET_TIMEOUT"]
        app.config["CACHE_TYPE"] = "RedisCache"
        app.config["CACHE_OPTIONS"] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}


def _apply_production(app):
    missing = []
    if app.config["SECRET_KEY"] in (None, "", DEV_SECRET_KEY):
        missing.append("FLASK_SECRET_KEY")
    if app.config["SQLALCHEMY_DATABASE_URI"] == DefaultConfig.SQLALCHEMY_DATABASE_URI:
        missing.append("FLASK_SQLALCHEMY_DATABASE_URI")
    if missing:
        raise ProductionSettingsError(
            "Refusing to start in production: set " + " and ".join(missing) + "."
        )
    app.config.update(STRIPE_EMULATOR=False)
    if app.config["LOCAL_PLAIN_HTTP"]:
        _refuse_plain_http_off_this_machine(app)
        return
    app.config.update(
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_NAME="__Host-session",
        REMEMBER_COOKIE_SECURE=True,
        HSTS=True,
        PREFERRED_URL_SCHEME="https",
    )


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _refuse_plain_http_off_this_machine(app):
    """Plain http is for the production shape run on one machine (scripts/run-stack):
    cookies sent in the clear are harmless only when nothing leaves the machine."""
    site = urlsplit(app.config["SITE_URL"])
    if site.scheme != "http" or site.hostname not in LOOPBACK_HOSTS:
        raise ProductionSettingsError(
            "Refusing to start: FLASK_LOCAL_PLAIN_HTTP is for http://127.0.0.1 only "
            f"(FLASK_SITE_URL is {app.config['SITE_URL']}); never set it on a public server."
        )
