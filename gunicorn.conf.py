"""Gunicorn settings for production: ``gunicorn 'app:create_app()'``.

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "sync"
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never grow without bound (rarely: a
# new worker starts with an empty in-process cache and imports the whole app again).
max_requests = 100_000
max_requests_jitter = 10_000
# nginx in front keeps the access log (docs/deploy.md); GUNICORN_ACCESSLOG=- adds gunicorn's.
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Hide what the worker loaded at start (the app, SQLAlchemy's mappers, a hundred
    thousand objects and more) from the garbage collector. Left in view, they are walked
    by every full collection, a pause of tens of milliseconds now and then in the middle
    of a request; frozen, a full collection walks only what requests left behind.
    (Python's documentation suggests the same for forked servers: ``gc.freeze``.)
    Garbage left from start-up is collected first, so none of it is kept for good."""
    gc.collect()
    gc.freeze()
