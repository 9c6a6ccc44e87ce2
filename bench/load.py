"""Readers and writers together on the production configuration, then a check of
every write the site said it made.

    .venv/bin/python bench/load.py                    # 60 s, 8 readers + 4 writers
    .venv/bin/python bench/load.py --duration 10      # a short run while developing
    .venv/bin/python bench/load.py --stack            # through nginx, with failures


The site runs under gunicorn (sync workers, gunicorn.conf.py) with
FLASK_ENV_NAME=production on PostgreSQL, its page cache and Flask-Limiter's counters in
Redis, and pays through the bundled Stripe emulator. The database is dropped and
filled again (``db upgrade``, ``seed``) at the start, so the checks start from a known
state. Readers fetch the public pages; writers comment, sign up for the newsletter,
buy a vest and book a consultation, each iteration as a new visitor (own cookies, own
address). Afterwards the database must hold every write a writer was told succeeded,
exactly once, with no stock below zero and no time booked twice.

Prints a table per page and action, the writers' outcomes and the checks; exits 1 on
any 5xx, any connection error, any answer the writers did not expect, or a failed check.
Logs: bench/out/load-gunicorn.log (errors), load-access.log, load-emulator.log.

``--stack`` runs the same load through nginx against the production shape of
deploy/stack.py (two gunicorn instances with ``--workers`` split between them, the
stack's two Redis servers, the page cache's and the rate limiter's, the emulator's
webhooks through nginx too), on free ports, and breaks it on purpose: one app instance
is killed (SIGKILL, master and workers) at ``--kill-at`` (default a third of the run, 20
s of 60) and started again at ``--restart-at`` (two thirds, 40 s), and both Redis
servers are restarted, empty, at ``--redis-restart-at`` (half way, 30 s). Visitors play a load balancer in front of
nginx (FLASK_TRUSTED_PROXIES=2: their X-Forwarded-For is the client's address). A GET
must never see a 5xx or no answer (nginx passes it to the other instance); a POST that
fails (5xx or no answer) is counted, and the checks show it was done once or not at
all. Logs: bench/out/load-stack/ (nginx, each instance, each Redis, the emulator).
"""

import argparse
import base64
import hashlib
import itertools
import math
import os
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookiejar import DefaultCookiePolicy
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urljoin, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402  (the repository root must be importable first)
from common import (  # noqa: E402
    OUT,
    ROOT,
    VENV_BIN,
    fetch,
    fill_database,
    free_port,
    gunicorn,
    recreate_postgres_database,
    site_env,
    stop_process,
    workers,
)

from deploy.stack import Stack, shown_url, stack_database_url  # noqa: E402

# STACK_DATABASE_URL's server and user (deploy/stack.py), a database of its own.
DEFAULT_DATABASE = stack_database_url("bench_load")
# A Redis database of its own, and key prefixes of its own inside it: the run clears
# only keys under these prefixes, never the whole server.
DEFAULT_REDIS = "redis://127.0.0.1:6379/5"
CACHE_PREFIX = "load:"
LIMITER_PREFIX = "load"
WEBHOOK_SECRET = "whsec_load_bench"
STRIPE_KEY = "sk_test_load_bench"  # the emulator answers only the key it was given
SEED_POST = "/blog/how-to-increase-spinal-bone-density-with-exercise"
VEST = "/shop/weighted-walking-vest"
CONSULTATION_TYPES = ("initial-consultation", "follow-up-call")
MONTHS = 3  # the free-times calendar: a 60-day horizon touches three months at most
NEXT_MONTH_RE = re.compile(r'<a href="\?month=([0-9]{4}-[0-9]{2})">[^<]*&rarr;</a>')
# How often and how long a booking writer reloads the manage page while the webhook is
# on its way (the page itself refreshes every 4 s; a person would wait that long).
CONFIRM_POLLS = 40
CONFIRM_POLL_SECONDS = 0.25

READER_PAGES = [
    ("home", "/"),
    ("blog index", "/blog/"),
    ("seed post", SEED_POST),
    ("tag page", "/blog/tag/exercise"),
    ("shop", "/shop/"),
    ("vest product", VEST),
    ("consultation types", "/consultations/"),
    ("free times", "/consultations/initial-consultation/"),
]

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SLOT_RE = re.compile(r'href="(/consultations/[a-z-]+/book\?slot=[0-9A-Z:%-]+)"')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--readers", type=int, default=8, help="reader threads")
    parser.add_argument("--writers", type=int, default=4, help="writer threads")
    parser.add_argument("--workers", type=int, default=workers(), help="gunicorn workers")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE,
        help="PostgreSQL database (default: bench_load on STACK_DATABASE_URL's server)",
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="page cache and rate limits")
    parser.add_argument("--timeout", type=float, default=15, help="seconds per request")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument(
        "--stack", action="store_true", help="through nginx, killing an instance and Redis"
    )
    parser.add_argument("--kill-at", type=float, help="--stack: seconds (default duration/3)")
    parser.add_argument("--restart-at", type=float, help="--stack: seconds (duration*2/3)")
    parser.add_argument("--redis-restart-at", type=float, help="--stack: seconds (duration/2)")
    args = parser.parse_args(argv)
    args.kill_at = args.duration / 3 if args.kill_at is None else args.kill_at
    args.restart_at = args.duration * 2 / 3 if args.restart_at is None else args.restart_at
    if args.redis_restart_at is None:
        args.redis_restart_at = args.duration / 2
    if not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL URL (the production database)")
    return args


# --- what every request did --------------------------------------------------------------


class Stats:
    """Status and latency of every request, by label (a page or a step of a write)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)  # label -> [seconds]
        self.statuses = defaultdict(lambda: defaultdict(int))  # label -> class -> count
        self.errors = []  # (label, message) of the first few 5xx and connection errors
        # method -> 5xx answers and requests with no answer, to the site (through nginx
        # with --stack); the emulator's are counted as "<method> (emulator)".
        self.failed = Counter()

    def record(self, label, status, seconds, note="", method="GET"):
        if status == 0:
            kind = "err"
        elif status == 429:
            kind = "429"
        else:
            kind = f"{status // 100}xx"
        with self.lock:
            self.latencies[label].append(seconds)
            self.statuses[label][kind] += 1
            if kind in ("5xx", "err"):
                self.failed[method] += 1
                if len(self.errors) < 20:
                    self.errors.append((label, f"{status or 'no answer'} {note}".strip()))

    def total(self, kind):
        return sum(s[kind] for s in self.statuses.values())


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


# --- a visitor: one person's cookies and address ---------------------------------------


class Visitor:
    """One simulated person behind the reverse proxy.

    The site runs with FLASK_TRUSTED_PROXIES=1, as behind nginx, and this client plays
    the proxy: it speaks plain http to 127.0.0.1 and adds ``X-Forwarded-Proto: https``
    and ``X-Forwarded-For`` with this visitor's own address (so per-address rate limits
    count people, not the benchmark). The production session cookie is
    ``__Host-session`` with ``Secure``, which Python's cookie jars never send over
    http, so the visitor keeps its cookies itself (name -> value, from Set-Cookie) and
    sends them with every request to the site; the emulator gets none. Links to
    SITE_URL (https://127.0.0.1:PORT, as the site writes them) go to the same port
    over http, as the proxy would forward them.

    Through nginx (``--stack``) the visitor plays a load balancer in front of it instead:
    SITE_URL is the plain-http address of nginx itself, and nginx sets the scheme.
    """

    def __init__(self, http, stats, site, emulator, ip, timeout, public=None):
        self.http = http  # a requests.Session: the thread's keep-alive connections
        self.stats = stats
        self.site = site  # http://127.0.0.1:PORT
        self.public = public or "https://" + urlsplit(site).netloc  # SITE_URL
        self.emulator = emulator
        self.ip = ip
        self.timeout = timeout
        self.cookies = {}

    def _to_site(self, url):
        return url.startswith(self.site) or url.startswith(self.public)

    def absolute(self, url):
        if url.startswith(self.public):
            return self.site + url[len(self.public) :]
        return url if "://" in url else self.site + url

    def request(self, label, method, url, *, data=None, referer=None):
        """One request, never following redirects; ``(status, headers, text)``.

        A connection failure or timeout is recorded as status 0 and returned as such."""
        url = self.absolute(url)
        headers = {}
        if self._to_site(url):
            headers["X-Forwarded-For"] = self.ip
            if self.public.startswith("https:"):
                headers["X-Forwarded-Proto"] = "https"
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if referer:
                # Flask-WTF checks the Referer of every POST made over https.
                headers["Referer"] = self.public + referer
        # The site's failures by method; the emulator's apart (nginx is not in its way).
        counted_as = method if self._to_site(url) else f"{method} (emulator)"
        started = time.perf_counter()
        try:
            response = self.http.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
            text = response.text
        except requests.RequestException as exc:
            note = f"{type(exc).__name__} {method} {url}"
            self.stats.record(label, 0, time.perf_counter() - started, note, counted_as)
            return 0, {}, ""
        self.stats.record(
            label,
            response.status_code,
            time.perf_counter() - started,
            f"{method} {url}",
            counted_as,
        )
        if self._to_site(url):
            self._keep_cookies(response)
        return response.status_code, response.headers, text

    def _keep_cookies(self, response):
        for header in response.raw.headers.getlist("Set-Cookie"):
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel.value == "" or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def get(self, label, url):
        return self.request(label, "GET", url)

    def post(self, label, url, data, referer):
        return self.request(label, "POST", url, data=data, referer=referer)

    def location(self, headers):
        return urljoin(self.public + "/", headers.get("Location", ""))


def visitor_connection():
    """A thread's keep-alive connections, shared by the visitors it plays one after
    another. Its cookie jar keeps nothing: each visitor keeps her own cookies (above),
    and through the stack (plain http, no Secure) the jar would otherwise hand the last
    visitor's session, and her cart, to the next."""
    http = requests.Session()
    http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return http


def csrf_token(text):
    match = CSRF_RE.search(text)
    return match.group(1) if match else None


def session_cart_token(cookies):
    """The cart token in a visitor's session cookie, or None. Flask's session cookie is
    signed, not secret: what it holds can be read without the key (nothing here trusts
    it; the token only names the cart in the database's check)."""
    from flask.json.tag import TaggedJSONSerializer
    from itsdangerous import URLSafeTimedSerializer

    reader = URLSafeTimedSerializer(
        "not the site's key",
        salt="cookie-session",
        serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    for value in cookies.values():
        _, data = reader.loads_unsafe(value)
        if isinstance(data, dict) and data.get("cart_token"):
            return data["cart_token"]
    return None


# --- the writers' record: what the site told them ----------------------------------------


@dataclass
class Outcome:
    attempts: int = 0
    succeeded: int = 0
    refused: int = 0  # sold out, time taken: a correct "no"
    limited: int = 0  # 429
    failed: int = 0  # the POST answered 5xx or nothing (an instance died under it)
    unexpected: int = 0
    notes: list = field(default_factory=list)
    refusals: Counter = field(default_factory=Counter)  # "step status" -> count


class Ledger:
    """Every write a writer was told succeeded, and how the other attempts ended."""

    def __init__(self, run_id):
        self.run_id = run_id
        self.lock = threading.Lock()
        self.outcomes = {name: Outcome() for name in ("comment", "signup", "order", "booking")}
        self.comments = []  # markers in the bodies
        self.signups = []  # addresses
        self.orders = []  # (Stripe session id, variant id)
        self.bookings = []  # Stripe session ids
        # action -> what names each failed POST: a comment's marker, a signup's or a
        # booking's address, an order's (step, variant id or cart token)
        self.failed = defaultdict(list)
        self.counter = itertools.count(1)

    def next_number(self):
        with self.lock:
            return next(self.counter)

    def succeeded(self, action, listing, item):
        with self.lock:
            self.outcomes[action].succeeded += 1
            listing.append(item)

    def count(self, action, how, note=None):
        with self.lock:
            outcome = self.outcomes[action]
            setattr(outcome, how, getattr(outcome, how) + 1)
            if how == "refused":
                outcome.refusals[note] += 1
            elif note and len(outcome.notes) < 5:
                outcome.notes.append(note)

    def attempt(self, action):
        with self.lock:
            self.outcomes[action].attempts += 1


def _refusal_or_unexpected(ledger, action, status, step, refusals=(409, 422), item=None):
    if status == 429:
        ledger.count(action, "limited")
    elif status == 0 or status >= 500:
        # Counted, not excused: the checks show the write was done once or not at all.
        ledger.count(action, "failed", f"{step}: {status or 'no answer'}")
        if item is not None:
            with ledger.lock:
                ledger.failed[action].append(item)
    elif status in refusals:
        ledger.count(action, "refused", f"{step} {status}")
    else:
        ledger.count(action, "unexpected", f"{step}: {status or 'no answer'}")


def write_comment(v, ledger, rng):
    status, _, page = v.get("comment: post page", SEED_POST)
    token = csrf_token(page) if status == 200 else None
    if not token:
        return ledger.count("comment", "unexpected", f"post page: {status}, token {bool(token)}")
    marker = f"[{ledger.run_id}-c{ledger.next_number()}]"
    form = {
        "csrf_token": token,
        "name": "Load Reader",
        "email": f"reader-{ledger.next_number()}@example.com",
        "body": f"Thank you, this helped me plan my walks. {marker}",
        "parent_id": "",
        "website": "",  # the honeypot stays empty, as a person leaves it
    }
    status, headers, _ = v.post("comment: POST", SEED_POST, form, referer=SEED_POST)
    if status == 303 and headers.get("Location", "").endswith("#comment-notice"):
        ledger.succeeded("comment", ledger.comments, marker)
        v.get("comment: post after", v.location(headers).split("#")[0])
    else:
        _refusal_or_unexpected(ledger, "comment", status, "POST", refusals=(), item=marker)


def write_signup(v, ledger, rng):
    status, _, page = v.get("signup: form", "/newsletter/")
    token = csrf_token(page) if status == 200 else None
    if not token:
        return ledger.count("signup", "unexpected", f"form: {status}")
    address = f"{ledger.run_id}-s{ledger.next_number()}@example.com"
    form = {"csrf_token": token, "email": address, "first_name": "Load", "website": ""}
    status, headers, _ = v.post("signup: POST", "/newsletter/", form, referer="/newsletter/")
    if status == 303 and headers.get("Location", "").endswith("/newsletter/check-your-inbox"):
        status, _, page = v.get("signup: check your inbox", v.location(headers))
        if status == 200:
            ledger.succeeded("signup", ledger.signups, address.lower())
            return None
    return _refusal_or_unexpected(
        ledger, "signup", status, "POST", refusals=(), item=address.lower()
    )


def _pay_in_emulator(v, label, pay_url, email, shipping=False):
    """The hosted page's Pay button: the emulator sends the signed webhook, then
    redirects to the site's success URL. ``(status, success URL)``."""
    form = {"action": "pay", "email": email, "name": "Load Buyer"}
    if shipping:
        form.update(
            line1="1 Test Street", city="Syracuse", state="NY", postal_code="13202", country="US"
        )
    status, headers, _ = v.post(label, pay_url, form, referer=None)
    return status, headers.get("Location") if status == 303 else None


def write_order(v, ledger, rng, variants):
    variant_id = rng.choice(variants)
    status, _, page = v.get("order: product page", VEST)
    token = csrf_token(page) if status == 200 else None
    if not token:
        return ledger.count("order", "unexpected", f"product page: {status}")
    form = {"csrf_token": token, "variant_id": str(variant_id), "quantity": "1"}
    status, headers, _ = v.post("order: add to cart", "/cart/add", form, referer=VEST)
    if status != 303:
        # No answer, so no session cookie: the cart it may have made is found by its line.
        item = ("add to cart", variant_id)
        return _refusal_or_unexpected(ledger, "order", status, "add to cart", item=item)
    status, _, page = v.get("order: cart", v.location(headers))
    token = csrf_token(page) if status == 200 else None
    if not token:
        return ledger.count("order", "unexpected", f"cart: {status}")
    status, headers, _ = v.post(
        "order: checkout", "/cart/checkout", {"csrf_token": token}, referer="/cart"
    )
    pay_url = headers.get("Location", "") if status == 303 else ""
    if not pay_url.startswith(v.emulator + "/pay/"):
        item = ("checkout", session_cart_token(v.cookies))
        return _refusal_or_unexpected(ledger, "order", status, "checkout", item=item)
    session_id = pay_url.rsplit("/", 1)[1]
    status, success = _pay_in_emulator(
        v, "order: emulator Pay", pay_url, f"{ledger.run_id}-o@example.com", shipping=True
    )
    if not success:
        return ledger.count("order", "unexpected", f"emulator Pay: {status}")
    # The success page asks Stripe itself, so it rarely has to wait for the webhook;
    # when it does it says so, and a reload asks again.
    status, confirmed = _wait_for_confirmation(
        v, "order: success page", success, "Your payment went through"
    )
    if confirmed:
        ledger.succeeded("order", ledger.orders, (session_id, variant_id))
        return None
    ledger.count("order", "unexpected", f"success page: {status}, not told paid")
    return None


def _wait_for_confirmation(v, label, url, done):
    """Reload ``url`` while it says the payment is being confirmed, as the page itself
    does; ``(last status, True)`` once it shows ``done``."""
    status = None
    for _ in range(CONFIRM_POLLS):
        status, _, page = v.get(label, url)
        if status == 200 and done in page:
            return status, True
        if status != 200 or "We are confirming your payment" not in page:
            break
        time.sleep(CONFIRM_POLL_SECONDS)
    return status, False


def _free_times(v, rng, slug):
    """The free times of the first day that has some: the month calendar shows the
    month's first free day's times; a full month links to the next one."""
    path = f"/consultations/{slug}/"
    for _month in range(MONTHS):
        status, _, page = v.get("booking: free times", path)
        if status != 200:
            return status, []
        slots = SLOT_RE.findall(page)
        if slots:
            return status, slots
        later = NEXT_MONTH_RE.search(page)
        if not later:
            break
        path = f"/consultations/{slug}/?month={later.group(1)}"
    return 200, []


def write_booking(v, ledger, rng):
    slug = rng.choice(CONSULTATION_TYPES)
    status, slots = _free_times(v, rng, slug)
    if status != 200:
        return ledger.count("booking", "unexpected", f"free times: {status}")
    if not slots:
        return ledger.count("booking", "refused", "calendar full")
    # The first few free times: several writers want the same ones.
    form_path = rng.choice(slots[:3]).replace("&amp;", "&")
    status, _, page = v.get("booking: form", form_path)
    token = csrf_token(page) if status == 200 else None
    if not token:
        return _refusal_or_unexpected(ledger, "booking", status, "form")
    slot = form_path.split("slot=", 1)[1].replace("%3A", ":")
    number = ledger.next_number()
    form = {
        "csrf_token": token,
        "slot": slot,
        "name": "Load Client",
        "email": f"{ledger.run_id}-b{number}@example.com",
        "phone": "+1 315 555 0100",
        "timezone": "America/New_York",
        "call_type": "phone",
        "age_range": "60-69",
        "accept_policy": "y",
    }
    post_path = form_path.split("?", 1)[0]
    status, headers, _ = v.post("booking: hold (POST)", post_path, form, referer=form_path)
    pay_url = headers.get("Location", "") if status == 303 else ""
    if not pay_url.startswith(v.emulator + "/pay/"):
        item = form["email"].lower()
        return _refusal_or_unexpected(ledger, "booking", status, "hold", item=item)
    session_id = pay_url.rsplit("/", 1)[1]
    status, success = _pay_in_emulator(v, "booking: emulator Pay", pay_url, form["email"])
    if not success:
        return ledger.count("booking", "unexpected", f"emulator Pay: {status}")
    # The webhook races the redirect (as with Stripe): until it lands, the page says
    # "we are confirming your payment" and refreshes itself, as this client does.
    status, confirmed = _wait_for_confirmation(
        v, "booking: manage page", success, '<span class="status">Confirmed</span>'
    )
    if confirmed:
        ledger.succeeded("booking", ledger.bookings, session_id)
        return None
    ledger.count("booking", "unexpected", f"manage page: {status}, not confirmed")
    return None


# --- the threads -----------------------------------------------------------------------


class Addresses:
    """A distinct client address for every visitor (10.x.y.z)."""

    def __init__(self):
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def next(self):
        with self._lock:
            n = next(self._numbers)
        return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def reader(index, ctx):
    rng = random.Random(ctx.seed * 1000 + index)
    with visitor_connection() as http:
        visitor = Visitor(
            http, ctx.stats, ctx.site, ctx.emulator, ctx.ips.next(), ctx.timeout, ctx.public
        )
        while time.monotonic() < ctx.deadline:
            label, path = rng.choice(READER_PAGES)
            visitor.get(label, path)


def writer(index, ctx):
    rng = random.Random(ctx.seed * 1000 + 500 + index)
    actions = [
        ("comment", write_comment),
        ("signup", write_signup),
        ("order", lambda v, ledger, r: write_order(v, ledger, r, ctx.variant_choices)),
        ("booking", write_booking),
    ]
    with visitor_connection() as http:
        # Each writer starts on a different action, so all four run side by side.
        for turn in itertools.count(index):
            if time.monotonic() >= ctx.deadline:
                break
            name, action = actions[turn % len(actions)]
            visitor = Visitor(
                http, ctx.stats, ctx.site, ctx.emulator, ctx.ips.next(), ctx.timeout, ctx.public
            )
            ctx.ledger.attempt(name)
            action(visitor, ctx.ledger, rng)


@dataclass
class Context:
    site: str
    emulator: str
    stats: Stats
    ledger: Ledger
    ips: Addresses
    deadline: float
    timeout: float
    seed: int
    variant_choices: list
    public: str | None = None  # SITE_URL when it is not https on the site's own port


# --- setting up: database, Redis, the emulator ---------------------------------------------


def clear_redis(url):
    """Delete this benchmark's keys (page cache and rate-limit counters), nothing else."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    deleted = 0
    for pattern in (f"{CACHE_PREFIX}*", f"*{LIMITER_PREFIX}/*"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        for start in range(0, len(keys), 500):
            deleted += client.delete(*keys[start : start + 500])
    client.close()
    return deleted


def vest_stock(engine):
    """``{variant id: stock}`` of the vest's limited variants."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT v.id, v.stock FROM variant v JOIN product p ON p.id = v.product_id "
                "WHERE p.slug = 'weighted-walking-vest' AND v.stock IS NOT NULL ORDER BY v.id"
            )
        ).all()
    return dict(rows)


def start_emulator(port, webhook_url, log_path):
    """``python -m stripe_emulator`` on ``port``; it refuses production settings, so it
    gets an environment without FLASK_ENV_NAME (it is not the site)."""
    env = {k: v for k, v in os.environ.items() if k != "FLASK_ENV_NAME"}
    log = open(log_path, "wb")  # noqa: SIM115 (closed in stop_emulator)
    process = subprocess.Popen(
        [
            str(VENV_BIN / "python"),
            "-m",
            "stripe_emulator",
            "--port",
            str(port),
            "--webhook-url",
            webhook_url,
            "--webhook-secret",
            WEBHOOK_SECRET,
            "--api-key",
            STRIPE_KEY,
            # As with Stripe, the event does not wait for the customer's redirect (or the
            # other way round): the success page and the webhook race.
            "--async-webhooks",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the Stripe emulator exited with status {process.returncode}")
        try:
            fetch(base + "/", timeout=2)
            return process, log, base
        except OSError:
            time.sleep(0.2)
    process.terminate()
    sys.exit("the Stripe emulator did not start within 20 s")


def stop_emulator(process, log):
    stop_process(process)
    log.close()


# --- the checks --------------------------------------------------------------------------


class Checks:
    def __init__(self):
        self.results = []

    def add(self, name, ok, detail):
        self.results.append((name, ok, detail))

    @property
    def failed(self):
        return [r for r in self.results if not r[1]]


ONCE_OR_NOT_AT_ALL = "whose POST failed are there once or not at all"


def check_database(engine, ledger, initial_stock, since):
    """The checks of what the database holds; ``since``: when the load began (UTC)."""
    import sqlalchemy as sa

    checks = Checks()
    run = ledger.run_id
    with engine.connect() as conn:
        # Comments: each marker the writers were told was stored, stored exactly once.
        bodies = conn.scalars(
            sa.text("SELECT body_md FROM comment WHERE body_md LIKE :pattern"),
            {"pattern": f"%[{run}-c%"},
        ).all()
        found = defaultdict(int)
        for body in bodies:
            for marker in re.findall(rf"\[{re.escape(run)}-c\d+\]", body):
                found[marker] += 1
        told = ledger.comments
        missing = [m for m in told if found[m] == 0]
        doubled = [m for m, n in found.items() if n > 1]
        checks.add(
            "comments told stored are there exactly once",
            not missing and not doubled,
            f"{len(told)} told, {len(missing)} missing, {len(doubled)} doubled, "
            f"{len(found)} in the database",
        )

        failed = ledger.failed["comment"]
        twice = [m for m in failed if found[m] > 1]
        once = sum(1 for m in failed if found[m] == 1)
        checks.add(
            f"comments {ONCE_OR_NOT_AT_ALL}",
            not twice,
            f"{len(failed)} failed: {once} stored once, {len(failed) - once - len(twice)} not "
            f"stored, {len(twice)} more than once",
        )

        # Newsletter signups: one pending (or confirmed) subscriber per address.
        rows = conn.execute(
            sa.text(
                "SELECT email_normalized, status FROM subscriber "
                "WHERE email_normalized LIKE :pattern"
            ),
            {"pattern": f"{run}-s%"},
        ).all()
        by_address = defaultdict(list)
        for address, status in rows:
            by_address[address].append(status)
        missing = [a for a in ledger.signups if not by_address.get(a)]
        doubled = [a for a, s in by_address.items() if len(s) > 1]
        wrong = [a for a in ledger.signups if by_address.get(a, ["pending"])[0] != "pending"]
        checks.add(
            "signups told received are there exactly once (pending)",
            not missing and not doubled and not wrong,
            f"{len(ledger.signups)} told, {len(missing)} missing, {len(doubled)} doubled, "
            f"{len(wrong)} in another state, {len(by_address)} in the database",
        )

        failed = ledger.failed["signup"]
        twice = [a for a in failed if len(by_address.get(a, [])) > 1]
        once = sum(1 for a in failed if len(by_address.get(a, [])) == 1)
        checks.add(
            f"signups {ONCE_OR_NOT_AT_ALL}",
            not twice,
            f"{len(failed)} failed: {once} stored once, {len(failed) - once - len(twice)} not "
            f"stored, {len(twice)} more than once",
        )

        # Orders: every one told paid is paid once, on its own Stripe session.
        rows = conn.execute(
            sa.text(
                "SELECT o.stripe_session_id, o.status, o.stripe_payment_intent_id, "
                "(SELECT count(*) FROM order_event e WHERE e.order_id = o.id "
                "AND e.kind = 'paid') FROM \"order\" o WHERE o.stripe_session_id IS NOT NULL"
            )
        ).all()
        orders = {r[0]: r for r in rows}
        told = [session_id for session_id, _ in ledger.orders]
        missing = [s for s in told if s not in orders]
        not_paid = [s for s in told if s in orders and orders[s][1] not in ("paid", "fulfilled")]
        paid_twice = [s for s in told if s in orders and orders[s][3] != 1]
        no_intent = [s for s in told if s in orders and not orders[s][2]]
        paid_untold = [
            s for s, r in orders.items() if r[1] in ("paid", "fulfilled") and s not in set(told)
        ]
        checks.add(
            "orders told paid are paid exactly once, one Stripe session each",
            not (missing or not_paid or paid_twice or no_intent or len(set(told)) != len(told)),
            f"{len(told)} told paid, {len(missing)} missing, {len(not_paid)} not paid, "
            f"{len(paid_twice)} with other than one 'paid' event, {len(no_intent)} without a "
            f"payment intent; {len(paid_untold)} paid without the writer being told",
        )

        # Orders whose POST failed. Each visitor adds one vest once, so a failed "add to
        # cart" done twice would leave a line of two in a cart of this run; a failed
        # checkout, named by the cart token in the visitor's session, placed at most one
        # order from that cart.
        failed = ledger.failed["order"]
        added = [variant for step, variant in failed if step == "add to cart"]
        doubled_lines = conn.scalar(
            sa.text(
                "SELECT count(*) FROM cart_line l JOIN cart c ON c.id = l.cart_id "
                "WHERE c.created_at >= :since AND l.quantity > 1"
            ),
            {"since": since},
        )
        tokens = [token for step, token in failed if step == "checkout"]
        placed = dict(
            conn.execute(
                sa.text(
                    'SELECT c.token, count(o.id) FROM cart c LEFT JOIN "order" o '
                    "ON o.cart_id = c.id WHERE c.token IN :tokens GROUP BY c.token"
                ).bindparams(sa.bindparam("tokens", expanding=True)),
                {"tokens": [t for t in tokens if t] or [""]},
            ).all()
        )
        unnamed = sum(1 for t in tokens if not t)
        twice = sum(1 for t in tokens if t and placed.get(t, 0) > 1)
        once = sum(1 for t in tokens if t and placed.get(t, 0) == 1)
        checks.add(
            f"orders {ONCE_OR_NOT_AT_ALL}",
            not doubled_lines and not twice and not unnamed,
            f"{len(added)} failed adds to cart, {doubled_lines} cart lines of this run "
            f"holding more than one; {len(tokens)} failed checkouts: {once} placed once, "
            f"{len(tokens) - once - twice - unnamed} not placed, {twice} more than once, "
            f"{unnamed} without a cart token",
        )

        # Stock: never below zero, and what is left plus what orders hold is what we had.
        stock = dict(
            conn.execute(sa.text("SELECT id, stock FROM variant WHERE stock IS NOT NULL")).all()
        )
        held = dict(
            conn.execute(
                sa.text(
                    "SELECT variant_id, coalesce(sum(quantity), 0) FROM order_line "
                    "WHERE stock_held GROUP BY variant_id"
                )
            ).all()
        )
        negative = {v: s for v, s in stock.items() if s < 0}
        unbalanced = {
            v: (stock.get(v), held.get(v, 0), initial)
            for v, initial in initial_stock.items()
            if stock.get(v, 0) + held.get(v, 0) != initial
        }
        sold = sum(held.values())
        checks.add(
            "no stock below zero",
            not negative,
            f"{len(stock)} limited variants, lowest {min(stock.values(), default=0)}",
        )
        checks.add(
            "stock left + stock held by orders == stock at the start",
            not unbalanced,
            f"{sum(initial_stock.values())} at the start, {sold} held by orders, "
            f"{sum(stock.get(v, 0) for v in initial_stock)} left; "
            f"{sum(1 for s in stock.values() if s == 0)} variants sold out"
            + (f"; unbalanced (left, held, start): {unbalanced}" if unbalanced else ""),
        )
        paid_held = conn.scalar(
            sa.text(
                "SELECT coalesce(sum(l.quantity), 0) FROM order_line l "
                'JOIN "order" o ON o.id = l.order_id '
                "WHERE l.stock_held AND o.status IN ('paid', 'fulfilled')"
            )
        )
        checks.add(
            "every vest told paid holds its unit of stock",
            paid_held >= len(ledger.orders),
            f"{paid_held} units held by paid orders, {len(ledger.orders)} orders told paid",
        )

        # Bookings: no two live bookings overlap (appointment plus buffer).
        overlaps = conn.execute(
            sa.text(
                "SELECT a.id, b.id FROM booking a JOIN booking b ON a.id < b.id "
                "AND a.starts_at < b.buffer_ends_at AND b.starts_at < a.buffer_ends_at "
                "WHERE a.status IN ('held', 'confirmed') AND b.status IN ('held', 'confirmed')"
            )
        ).all()
        live = conn.scalar(
            sa.text("SELECT count(*) FROM booking WHERE status IN ('held', 'confirmed')")
        )
        checks.add(
            "no time booked twice (live bookings never overlap)",
            not overlaps,
            f"{live} live bookings, {len(overlaps)} overlapping pairs",
        )
        rows = conn.execute(
            sa.text(
                "SELECT b.stripe_session_id, b.status, b.paid_cents, "
                "(SELECT count(*) FROM booking_event e WHERE e.booking_id = b.id "
                "AND e.kind = 'confirmed') FROM booking b WHERE b.stripe_session_id IS NOT NULL"
            )
        ).all()
        bookings = {r[0]: r for r in rows}

        # Bookings whose hold POST failed (each its own address): one booking or none.
        failed = ledger.failed["booking"]
        made = dict(
            conn.execute(
                sa.text(
                    "SELECT lower(email), count(*) FROM booking WHERE lower(email) IN :emails "
                    "GROUP BY lower(email)"
                ).bindparams(sa.bindparam("emails", expanding=True)),
                {"emails": failed or [""]},
            ).all()
        )
        twice = [a for a in failed if made.get(a, 0) > 1]
        once = sum(1 for a in failed if made.get(a, 0) == 1)
        checks.add(
            f"bookings {ONCE_OR_NOT_AT_ALL}",
            not twice,
            f"{len(failed)} failed: {once} held once, {len(failed) - once - len(twice)} not "
            f"held, {len(twice)} more than once",
        )

        told = ledger.bookings
        missing = [s for s in told if s not in bookings]
        wrong = [s for s in told if s in bookings and bookings[s][1] != "confirmed"]
        twice = [s for s in told if s in bookings and bookings[s][3] != 1]
        unpaid = [s for s in told if s in bookings and not bookings[s][2]]
        checks.add(
            "bookings told confirmed are confirmed exactly once",
            not (missing or wrong or twice or unpaid or len(set(told)) != len(told)),
            f"{len(told)} told confirmed, {len(missing)} missing, {len(wrong)} not confirmed, "
            f"{len(twice)} with other than one 'confirmed' event, {len(unpaid)} unpaid",
        )
    return checks


# --- output --------------------------------------------------------------------------


def fmt_ms(seconds):
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


def print_table(stats, elapsed):
    kinds = ("2xx", "3xx", "4xx", "429", "5xx", "err")
    header = (
        f"{'page or step':<28} {'count':>6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        + " ".join(f"{k:>5}" for k in kinds)
    )
    print(header)
    print("-" * len(header))
    reader_labels = [label for label, _ in READER_PAGES]
    others = sorted(label for label in stats.latencies if label not in reader_labels)
    everything = []
    for label in [*reader_labels, *others]:
        values = sorted(stats.latencies.get(label, []))
        everything.extend(values)
        counts = stats.statuses.get(label, {})
        print(
            f"{label:<28} {len(values):>6} {len(values) / elapsed:>7.1f} "
            f"{fmt_ms(percentile(values, 0.5)):>7} {fmt_ms(percentile(values, 0.99)):>7} "
            + " ".join(f"{counts.get(k, 0):>5}" for k in kinds)
        )
    everything.sort()
    print("-" * len(header))
    print(
        f"{'all requests':<28} {len(everything):>6} {len(everything) / elapsed:>7.1f} "
        f"{fmt_ms(percentile(everything, 0.5)):>7} {fmt_ms(percentile(everything, 0.99)):>7} "
        + " ".join(f"{stats.total(k):>5}" for k in kinds)
    )


def print_outcomes(ledger):
    print(
        f"\n{'write':<10} {'tries':>6} {'told ok':>8} {'refused':>8} {'429':>5} {'failed':>7} "
        f"{'unexpected':>11}"
    )
    for name, o in ledger.outcomes.items():
        refusals = ", ".join(f"{step}: {n}" for step, n in sorted(o.refusals.items()))
        print(
            f"{name:<10} {o.attempts:>6} {o.succeeded:>8} {o.refused:>8} {o.limited:>5} "
            f"{o.failed:>7} {o.unexpected:>11}  {'; '.join(filter(None, [refusals, *o.notes]))}"
        )
    print(
        "(refused: sold out or time taken, a correct answer; failed: a POST answered 5xx or "
        "nothing; an attempt still running at the end of the run counts as a try only)"
    )


def tail(path, lines=40):
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


# --- the run ---------------------------------------------------------------------------


@contextmanager
def direct_site(args, logs):
    """The site under gunicorn (production settings), with the client as its proxy."""
    print(f"Recreating {shown_url(args.database_url)} (db upgrade, seed) ...", flush=True)
    recreate_postgres_database(args.database_url)
    fill_database(args.database_url, "demo")
    print(f"Cleared {clear_redis(args.redis_url)} old keys of this benchmark in Redis.")
    site_port, emulator_port = free_port(), free_port()
    site = f"http://127.0.0.1:{site_port}"
    emulator_process, emulator_log_file, emulator = start_emulator(
        emulator_port, f"{site}/stripe/webhook", logs["emulator"]
    )
    env = site_env(
        args.database_url,
        redis_url=args.redis_url,
        FLASK_ENV_NAME="production",
        FLASK_CACHE_KEY_PREFIX=CACHE_PREFIX,
        FLASK_RATELIMIT_STORAGE_URI=args.redis_url,
        FLASK_RATELIMIT_KEY_PREFIX=LIMITER_PREFIX,
        FLASK_TRUSTED_PROXIES="1",
        # What the site calls itself: https, as the proxy serves it. The client maps it
        # back to the plain-http port (see Visitor).
        FLASK_SITE_URL=f"https://127.0.0.1:{site_port}",
        # Production talks to "Stripe" only through these; FLASK_STRIPE_EMULATOR (the
        # test-mode banner) stays off, as production forces.
        FLASK_DATA_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        FLASK_STRIPE_SECRET_KEY=STRIPE_KEY,
        FLASK_STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        FLASK_STRIPE_API_BASE=emulator,
        FLASK_STRIPE_CHECKOUT_ORIGIN=emulator,
    )
    print(
        f"gunicorn {args.workers} sync workers (production settings, PostgreSQL, Redis), "
        f"{args.readers} readers + {args.writers} writers for {args.duration:g} s",
        flush=True,
    )
    try:
        with gunicorn(
            "app:create_app()",
            env=env,
            n_workers=args.workers,
            port=site_port,
            log_path=logs["gunicorn"],
            extra_args=("--access-logfile", str(logs["access"])),
        ):
            yield {"site": site, "emulator": emulator, "public": None, "stack": None}
    finally:
        stop_emulator(emulator_process, emulator_log_file)


@contextmanager
def stack_site(args):
    """The stack (deploy/stack.py) on free ports: nginx in front of two instances."""
    per_instance = max(1, args.workers // 2)
    stack = Stack.free(
        OUT / "load-stack",
        args.database_url,
        workers=per_instance,
        # The visitors play a load balancer in front of nginx: their X-Forwarded-For
        # names each visitor, so rate limits count people, as in production.
        trusted_proxies=2,
    )
    where = shown_url(args.database_url)
    print(f"Starting the stack on {stack.url} ({where}: db upgrade, seed) ...")
    with stack:
        print(
            f"nginx in front of 2 gunicorn instances x {per_instance} sync workers "
            f"(production settings, PostgreSQL, the stack's two Redis servers), "
            f"{args.readers} readers + "
            f"{args.writers} writers for {args.duration:g} s; instance 0 killed at "
            f"{args.kill_at:g} s and started again at {args.restart_at:g} s, Redis restarted "
            f"at {args.redis_restart_at:g} s",
            flush=True,
        )
        yield {
            "site": stack.url,
            "emulator": stack.emulator_url,
            "public": stack.url,
            "stack": stack,
        }


def break_things(stack, args, started, events):
    """The failures of ``--stack``, each at its second of the run (``events`` records
    when each happened and how long it took)."""
    plan = sorted(
        [
            (args.kill_at, "kill app instance 0 (SIGKILL)", lambda: stack.kill_app(0)),
            (args.redis_restart_at, "restart both Redis servers", stack.restart_redis),
            (args.restart_at, "start app instance 0 again", lambda: stack.start_app(0)),
        ],
        key=lambda step: step[0],
    )
    for at, what, action in plan:
        time.sleep(max(0.0, started + at - time.monotonic()))
        begun = time.monotonic()
        try:
            action()
            outcome = f"done in {time.monotonic() - begun:.1f} s"
        except Exception as error:  # noqa: BLE001 (reported with the checks)
            outcome = f"FAILED: {error}"
        events.append((begun - started, what, outcome))


def main(argv=None):
    args = parse_args(argv)
    import sqlalchemy as sa

    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    OUT.mkdir(parents=True, exist_ok=True)
    logs = {
        "gunicorn": OUT / "load-gunicorn.log",
        "access": OUT / "load-access.log",
        "emulator": OUT / "load-emulator.log",
    }
    logs["access"].unlink(missing_ok=True)  # gunicorn appends to it

    stats, ledger = Stats(), Ledger(f"load-{uuid.uuid4().hex[:8]}")
    events = []
    print(f"Random seed {seed}")
    setup = stack_site(args) if args.stack else direct_site(args, logs)
    with setup as where:
        engine = sa.create_engine(args.database_url)
        initial_stock = vest_stock(engine)
        # Half the buyers want the scarcest vests (4 or fewer at the start, one already
        # sold out), so several writers race for the same last units; the rest pick any.
        scarce = [v for v, s in initial_stock.items() if s <= 4]
        variant_choices = list(initial_stock) + scarce * max(1, len(initial_stock) // len(scarce))
        ctx = Context(
            site=where["site"],
            emulator=where["emulator"],
            stats=stats,
            ledger=ledger,
            ips=Addresses(),
            deadline=time.monotonic() + args.duration,
            timeout=args.timeout,
            seed=seed,
            variant_choices=variant_choices,
            public=where["public"],
        )
        threads = [
            threading.Thread(target=reader, args=(i, ctx), name=f"reader-{i}", daemon=True)
            for i in range(args.readers)
        ] + [
            threading.Thread(target=writer, args=(i, ctx), name=f"writer-{i}", daemon=True)
            for i in range(args.writers)
        ]
        started = time.monotonic()
        started_at = datetime.now(UTC)
        for thread in threads:
            thread.start()
        if where["stack"]:
            chaos = threading.Thread(
                target=break_things, args=(where["stack"], args, started, events), daemon=True
            )
            chaos.start()
        # A write under way at the deadline finishes (each request has a timeout).
        for thread in threads:
            thread.join(timeout=args.duration + 10 * args.timeout)
        elapsed = time.monotonic() - started
        stuck = [t.name for t in threads if t.is_alive()]
        if where["stack"]:
            chaos.join(timeout=120)

    print(f"\n{elapsed:.1f} s of load\n")
    print_table(stats, elapsed)
    print_outcomes(ledger)
    if events:
        print("\nFailures made on purpose")
        for at, what, outcome in events:
            print(f"  {at:6.1f} s  {what}: {outcome}")

    checks = check_database(engine, ledger, initial_stock, started_at)
    engine.dispose()
    errors = stats.total("err")
    unexpected = sum(o.unexpected for o in ledger.outcomes.values())
    if args.stack:
        gets = stats.failed["GET"]
        posts = stats.failed["POST"]
        named = sum(len(items) for items in ledger.failed.values())
        once_or_not = [ok for name, ok, _ in checks.results if name.endswith(ONCE_OR_NOT_AT_ALL)]
        checks.add(
            "no GET answered 5xx or nothing (nginx tried the other instance)", gets == 0, f"{gets}"
        )
        checks.add(
            "every POST to the site that failed (5xx or no answer) is named, and was done "
            "once or not at all",
            named == posts and len(once_or_not) == 4 and all(once_or_not),
            f"{posts} failed POSTs, {named} named ("
            + ", ".join(f"{name} {len(ledger.failed[name])}" for name in ledger.outcomes)
            + f"); {sum(once_or_not)} of {len(once_or_not)} once-or-not-at-all checks passed",
        )
        planned = len(events) == 3 and all(o.startswith("done") for _, _, o in events)
        checks.add("every failure was made and recovered from", planned, f"{events}")
    else:
        fives = stats.total("5xx")
        checks.add("no 5xx answers", fives == 0, f"{fives}")
        checks.add("no connection errors or timeouts", errors == 0, f"{errors}")
    checks.add("no answer the writers did not expect", unexpected == 0, f"{unexpected}")
    if stuck:
        checks.add("every thread finished", False, ", ".join(stuck))
    print("\nChecks")
    for name, ok, detail in checks.results:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}")
    if stats.errors:
        print("\nFirst 5xx and connection errors:")
        for label, message in stats.errors:
            print(f"  {label}: {message}")
    log_hint = OUT / "load-stack" if args.stack else logs["gunicorn"]
    if checks.failed:
        if not args.stack:
            print(f"\nLast lines of {logs['gunicorn']}:\n{tail(logs['gunicorn'])}")
        print(f"\nFAILED: {len(checks.failed)} check(s); logs: {log_hint}")
        return 1
    print(f"\nAll checks passed. Logs: {log_hint}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
