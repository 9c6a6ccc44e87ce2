"""Gunicorn settings for production: ``gunicorn 'app:create_app()'``.

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2))
# gunicorn's sync worker, sending each complete answer in one write: an instance killed
# in the middle of an answer has sent nothing of it, so nginx passes a GET to another
# instance instead of handing the reader a page cut short (deploy/gunicorn_worker.py).
worker_class = "deploy.gunicorn_worker.OneWriteSyncWorker"
# Load the app before the port opens: an instance that is starting (a restart, a
# deploy) refuses connections until it can answer, so nginx passes its requests to
# another instance at once instead of leaving them queued for the seconds the app takes
# to import. A new release needs a restart of gunicorn (a HUP keeps the loaded code).
preload_app = True
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never grow without bound (rarely: a
# new worker starts with an empty in-process cache).
max_requests = 100_000
max_requests_jitter = 10_000
# nginx in front keeps the access log (docs/deploy.md); GUNICORN_ACCESSLOG=- adds gunicorn's.
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
# Its lines show our links' tokens as [hidden] (a sign-in link is a key for ten minutes).
logger_class = "deploy.access_log.TokenHidingLogger"
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
