"""A WSGI app that takes :data:`LOAD_SECONDS` to import, as the site takes a few seconds
to load: tests/perf/test_gunicorn_conf.py starts gunicorn with it."""

import time

LOAD_SECONDS = 3
time.sleep(LOAD_SECONDS)


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"ready"]
