"""A WSGI app whose instance dies in the middle of an answer, for tests/stack/test_failover.py.

Served by two gunicorn instances behind the stack's nginx, as the site is. ``/healthz``
answers 200. ``/dies-mid-answer/<name>`` answers a page of :data:`PAGE_SIZE` bytes in
two pieces, except for the first request to reach any instance for that name: that one
gets its head and first piece written and then SIGKILLs its whole instance (master and
workers, its process group), as ``Stack.kill_app`` does, before the second piece.
Every arrival is recorded as a line ``<method> <pid>`` in ``<DYING_APP_DIR>/<name>``.
"""

import os
import signal
from pathlib import Path

PAGE_SIZE = 60_000
PAGE = (b"<p>" + b"bone " * (PAGE_SIZE // 5))[:PAGE_SIZE]


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]
    if not path.startswith("/dies-mid-answer/"):
        start_response("404 Not Found", [("Content-Length", "0")])
        return []
    environ["wsgi.input"].read()  # a POST's body: nothing left unread on the socket
    record = Path(os.environ["DYING_APP_DIR"]) / path.rsplit("/", 1)[1]
    with record.open("a") as arrivals:
        first = arrivals.tell() == 0
        arrivals.write(f"{environ['REQUEST_METHOD']} {os.getpid()}\n")
    start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(PAGE_SIZE))])
    return _pieces(first)


def _pieces(dies):
    half = PAGE_SIZE // 2
    yield PAGE[:half]
    if dies:
        os.killpg(os.getpgrp(), signal.SIGKILL)
    yield PAGE[half:]
