"""Settings: safe defaults first, then every ``FLASK_<KEY>`` environment variable.

``FLASK_ENV_NAME=production`` switches on the strict checks: the site then refuses to
start without a secret key and a database URL, and never enables the Stripe emulator.
In development without ``FLASK_SECRET_KEY`` a random key is made on the first start and
kept in ``instance/secret_key`` (readable by its owner only); likewise the key that
encrypts health answers, ``FLASK_DATA_KEY``, in ``instance/data_key``.
"""

import base64
import os
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

# The value the development key had when it was a constant in this file: public, so
# production refuses it even when someone sets it on purpose.
PUBLIC_DEV_SECRET_KEYS = frozenset({"dev-only-not-secret"})
DEV_SECRET_KEY_FILE = "secret_key"
# Development and tests only: the data key made on the first start (like the secret key).
DEV_DATA_KEY_FILE = "data_key"


class DefaultConfig:
    ENV_NAME = "development"
    SECRET_KEY = None  # FLASK_SECRET_KEY; development makes one in instance/ (below)
    # Fernet key(s) that encrypt health answers at rest (blueprints/core/crypto.py): one
    # key, or several separated by commas with the newest first (rotation). Development
    # makes one in instance/data_key; production refuses to start without FLASK_DATA_KEY.
    DATA_KEY = None
    # Days after a consultation ends before its intake answers are erased by
    # ``flask --app app privacy purge`` (cron, daily).
    INTAKE_RETENTION_DAYS = 365
    # A relative SQLite path lands in the instance/ folder (Flask-SQLAlchemy's rule).
    SQLALCHEMY_DATABASE_URI = "sqlite:///better_bones.db"
    SQLALCHEMY_ENGINE_OPTIONS = {}
    # A pooled connection unused for this many seconds is checked before a request gets
    # it (blueprints/core/database.py); None never checks.
    DATABASE_PING_AFTER_IDLE = 10
    SITE_URL = "http://127.0.0.1:5000"
    # Host names answered besides SITE_URL's ("name" or "name:port"; a list, or a comma
    # separated string in FLASK_ALLOWED_HOSTS). Any other Host header gets 400; in
    # development localhost, 127.0.0.1 and [::1] are answered on any port as well.
    ALLOWED_HOSTS = None
    # How many reverse proxies sit in front of the app (nginx: 1). 0 trusts no header.
    TRUSTED_PROXIES = 0
    # The longest a shared cache in front (nginx's edge cache, deploy/nginx.conf) may show
    # a reader a public page older than a change: ``s-maxage=1`` (nginx's whole-second
    # clock makes that up to 2 s), the seconds above 2 as ``stale-while-revalidate``; sent
    # only on pages the page cache would share (blueprints/core/edge.py). 0: none.
    EDGE_CACHE_SECONDS = 2
    # Production settings over plain http on this machine's loopback address only
    # (scripts/run-stack): cookies without Secure or the __Host- name, no HSTS. Never on
    # a public server: it refuses to start unless SITE_URL is http on a loopback host.
    LOCAL_PLAIN_HTTP = False
    SITE_NAME = "Better Bones"
    # The practice as every email names it: its header, and the footer's postal
    # address (one line per line; the law of most countries wants a real one in
    # marketing mail: set it in production) and contact address.
    PRACTICE_NAME = "Better Bones \u2014 Dr. Susan E. Brown, PhD"
    PRACTICE_POSTAL_ADDRESS = (
        "Better Bones (demo address)\n123 Example Street\nSyracuse, NY 13202, USA"
    )
    PRACTICE_CONTACT_EMAIL = "hello@betterbones.example"

    # Mail: without MAIL_SERVER every message is written to the log instead.
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "Better Bones <hello@betterbones.example>"
    # Without MAIL_SERVER, print each email (headers and text) to the console instead of
    # a one-line log entry: the demo's mail (scripts/run-demo). Off in production.
    MAIL_TO_CONSOLE = False
    MAIL_TIMEOUT = 10
    # MAIL_TIMEOUT bounds the connect and each read and write (blueprints/core/outbox.py).
    # Seconds for one message's whole SMTP exchange (kept below gunicorn's 30 s timeout).
    MAIL_SEND_DEADLINE = 20
    # After a timeout, responses leave their mail to cron (outbox send) this many seconds.
    MAIL_PAUSE_AFTER_TIMEOUT = 60

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
    # A customer's sign-in (/account/sign-in): codes emailed to one address (as typed,
    # normalised), and code requests, code tries and link uses from one client address.
    CUSTOMER_SIGN_IN_ADDRESS_LIMIT = "5 per 15 minutes;20 per day"
    CUSTOMER_SIGN_IN_CLIENT_LIMIT = "20 per 15 minutes;100 per day"
    # An assistant (staff role) may refund at most this much of one order or booking in
    # all; larger refunds are the owner's (blueprints/account/roles.py).
    ASSISTANT_REFUND_LIMIT_CENTS = 10000
    # How long the emailed link of a staff invitation works.
    STAFF_INVITATION_HOURS = 72
    # A limiter store that fails (Redis full or down) never turns a request into a 500:
    # public forms go through unlimited, and Flask-Limiter logs each failure...
    RATELIMIT_SWALLOW_ERRORS = True
    # ...but these endpoints are refused (503) while their attempts cannot be counted.
    RATELIMIT_FAIL_CLOSED_ENDPOINTS = ("admin.login", "admin.login_code")

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

    # Shop: what one visitor (session and client address) may hold unpaid, so nobody
    # can take the vests off the shelf with checkouts they never pay.
    SHOP_MAX_PER_OPTION = 3  # of one vest option (size and weight) per order
    SHOP_MAX_OPEN_CHECKOUTS = 3
    SHOP_MAX_HELD_UNITS = 10
    # The carrier's tracking page for a shipped order ("{number}": its tracking number),
    # linked from her account; empty: the number is shown without a link.
    SHOP_TRACKING_URL = "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}"
    # Shipping is free once the items of an order (the subtotal, in cents) come to this
    # much or more (FLASK_SHIPPING_FREE_ABOVE_CENTS); null: never free. The rates
    # themselves are rows staff edit (admin: Shipping).
    SHIPPING_FREE_ABOVE_CENTS = 20000

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
    # The video room of every video consultation that has no link of its own (an https
    # URL, e.g. Dr. Brown's standing Zoom room) until staff set the usual room in the
    # admin (Availability), which then wins; None: staff set one per booking.
    BOOKING_MEETING_URL = None
    # Consultations: how soon one may start, and how far ahead times are offered.
    BOOKING_MIN_NOTICE_HOURS = 24
    BOOKING_HORIZON_DAYS = 60
    # Unpaid holds one visitor (client address, or browser session) may keep at once.
    BOOKING_MAX_OPEN_HOLDS = 2
    POSTS_PER_PAGE = 10
    # The media library (blueprints/media): the largest upload, in bytes and in pixels
    # (a bigger image is refused, not shrunk), the widths served (never enlarged) and
    # the encoders' quality.
    MEDIA_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    MEDIA_MAX_PIXELS = 40_000_000
    MEDIA_MAX_SIDE = 12_000
    MEDIA_WIDTHS = (480, 960, 1600)
    MEDIA_JPEG_QUALITY = 82
    MEDIA_WEBP_QUALITY = 80
    COMMENT_RATE_LIMIT = "5 per minute;30 per day"  # per address, on the comment POST
    CONTACT_RATE_LIMIT = "5 per 10 minutes;20 per day"  # per visitor, on the contact POST
    # The comment, newsletter and contact limits above count only what was accepted (a
    # slip, such as an empty field, is free); every try, accepted or not, counts here.
    FORM_ATTEMPT_LIMIT = "20 per minute"
    # Names always held from the public comment form (blueprints/blog/commenters.py).
    # Titles, initials and suffixes are ignored when comparing, so "Susan E. Brown" also
    # covers "Dr. Susan Brown, PhD"; a one-word entry ("Dr. Brown" is "brown") matches
    # only a name of that one word.
    RESERVED_COMMENT_NAMES = (
        "Susan E. Brown",
        "Dr. Brown",
        "Better Bones",
        "Admin",
        "Administrator",
        "Moderator",
    )
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
    elif app.config["ENV_NAME"] == "development":
        if not app.config["SECRET_KEY"]:
            app.config["SECRET_KEY"] = _instance_secret_key(app.instance_path)
        if not app.config["DATA_KEY"]:
            # DEVELOPMENT AND TESTS ONLY: a key of this machine's instance/ folder.
            app.config["DATA_KEY"] = _instance_secret_key(
                app.instance_path, DEV_DATA_KEY_FILE, _new_data_key
            )


def _new_data_key():
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def _instance_secret_key(instance_path, name=DEV_SECRET_KEY_FILE, make=None):
    """The development secret key kept in ``instance/secret_key``, made on first use.

    A constant key in the code would let anyone who read it sign a session or a
    link for any demo site. The file is created whole under another name and linked into
    place, so two processes starting at once (a reloader, several workers) agree on one
    key and never read half a file.
    """
    path = os.path.join(instance_path, name)
    try:
        with open(path) as handle:
            key = handle.read().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    os.makedirs(instance_path, exist_ok=True)
    draft = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write((make() if make else secrets.token_urlsafe(48)) + "\n")
    try:
        os.link(draft, path)  # fails if another process got there first: keep theirs
    except FileExistsError:
        pass
    finally:
        os.unlink(draft)
    with open(path) as handle:
        return handle.read().strip()


def _choose_cache_backend(app):
    """Redis when ``CACHE_REDIS_URL`` is set (unless another backend was chosen)."""
    if app.config.get("CACHE_REDIS_URL") and app.config["CACHE_TYPE"] == DefaultConfig.CACHE_TYPE:
        timeout = app.config["CACHE_REDIS_SOCKET_TIMEOUT"]
        app.config["CACHE_TYPE"] = "RedisCache"
        app.config["CACHE_OPTIONS"] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}


def _apply_production(app):
    missing = []
    if not app.config["SECRET_KEY"] or app.config["SECRET_KEY"] in PUBLIC_DEV_SECRET_KEYS:
        missing.append("FLASK_SECRET_KEY")
    if app.config["SQLALCHEMY_DATABASE_URI"] == DefaultConfig.SQLALCHEMY_DATABASE_URI:
        missing.append("FLASK_SQLALCHEMY_DATABASE_URI")
    if not app.config["DATA_KEY"]:
        missing.append("FLASK_DATA_KEY")
    if missing:
        raise ProductionSettingsError(
            "Refusing to start in production: set " + " and ".join(missing) + "."
        )
    _refuse_malformed_data_key(app.config["DATA_KEY"])
    app.config.update(STRIPE_EMULATOR=False, MAIL_TO_CONSOLE=False)
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


def _refuse_malformed_data_key(setting):
    """Every key of ``DATA_KEY`` must be a Fernet key: a typo found at start, not at the
    first booking."""
    from cryptography.fernet import Fernet

    parts = setting if isinstance(setting, list | tuple) else str(setting).split(",")
    for position, part in enumerate((p.strip() for p in parts if str(p).strip()), start=1):
        try:
            Fernet(part.encode())
        except (ValueError, TypeError):
            raise ProductionSettingsError(
                f"Refusing to start: FLASK_DATA_KEY key {position} is not a Fernet key "
                "(see docs/deploy.md for how to make one)."
            ) from None


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
