"""Fingerprinted static files: cached by browsers for a year, never stale.

``url_for('static', filename='css/site.css')`` gives ``/static/css/site.css?v=<hash>``,
where the hash is taken from the file's content once per process. A request whose
``v`` matches the current content is answered with a one-year ``immutable`` lifetime;
without ``v`` (or with an old one) the lifetime is short, so a changed file is seen soon.
"""

import hashlib

from flask import request
from werkzeug.security import safe_join

LONG_LIFETIME = "public, max-age=31536000, immutable"
SHORT_LIFETIME = "public, max-age=300"
_HASH_LENGTH = 10


def _file_hash(app, filename, memo):
    """The short content hash of a static file, or None when there is no such file."""
    if not app.debug and filename in memo:
        return memo[filename]
    path = safe_join(app.static_folder, filename)
    try:
        if path is None:
            raise FileNotFoundError(filename)
        with open(path, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()[:_HASH_LENGTH]
    except OSError:
        digest = None  # unknown or unsafe name: no fingerprint, the 404 stays a 404
    memo[filename] = digest
    return digest


def init_static(app):
    memo = {}  # filename -> hash; a process never serves two versions of one file

    @app.url_defaults
    def _fingerprint(endpoint, values):
        if endpoint != "static" or "v" in values:
            return
        filename = values.get("filename")
        if filename:
            digest = _file_hash(app, filename, memo)
            if digest:
                values["v"] = digest

    @app.after_request
    def _static_lifetime(response):
        if request.endpoint != "static" or response.status_code not in (200, 206, 304):
            return response
        filename = (request.view_args or {}).get("filename", "")
        current = _file_hash(app, filename, memo)
        fingerprinted = current is not None and request.args.get("v") == current
        response.headers["Cache-Control"] = LONG_LIFETIME if fingerprinted else SHORT_LIFETIME
        return response
