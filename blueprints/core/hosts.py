"""The hosts the site answers as: its own (``SITE_URL``), any in ``ALLOWED_HOSTS``, and in
development the loopback names on any port. Every other ``Host`` gets 400 before the
page cache or Flask see the request.

Why: the page cache keys pages by host, so each made-up ``Host`` header used to be a new
copy of the page (1,100 of them turned every page into a miss), and a page rendered for
a made-up host could carry it in a link.

The host is compared, and used in cache keys, in one normal form: lower case, without a
trailing dot, without port 80 or 443. ``ALLOWED_HOSTS`` lists more names, each with a port
when it is not 80/443 (``["www.betterbones.example", "staging.example:8443"]``). In
development, ``localhost``, ``127.0.0.1`` and ``[::1]`` are answered on any port (the
dev server, the browser tests and the benchmarks pick their own). Health checks
(``/healthz``) are answered whatever the host: load balancers often send the machine's
own address.
"""

from functools import lru_cache
from urllib.parse import urlsplit

from werkzeug.wrappers import Response
from werkzeug.wsgi import get_host

ANY_HOST_PATHS = frozenset({"/healthz"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
_DEFAULT_PORTS = frozenset({80, 443})


def normal_host(host):
    """``host`` (``name`` or ``name:port``) in normal form, or None when it is not a host."""
    if not host or any(ch in host for ch in "/?#@\\ ") or not host.isascii():
        return None
    try:
        parts = urlsplit("//" + host)
        name, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number, or out of range
        return None
    if not name:
        return None
    name = name.rstrip(".")
    if ":" in name:  # IPv6, which urlsplit gives without its brackets
        name = f"[{name}]"
    return name if port is None or port in _DEFAULT_PORTS else f"{name}:{port}"


def _name(normal):
    return normal.rsplit(":", 1)[0] if not normal.endswith("]") else normal


@lru_cache(maxsize=32)
def _allowed(site_url, allowed_hosts, development):
    hosts = {normal_host(urlsplit(site_url or "").netloc)}
    hosts.update(normal_host(h) for h in allowed_hosts)
    hosts.discard(None)
    return frozenset(hosts), development


def _settings(config):
    extra = config.get("ALLOWED_HOSTS") or ()
    if isinstance(extra, str):  # FLASK_ALLOWED_HOSTS="a.example,b.example"
        extra = extra.split(",")
    return _allowed(
        config.get("SITE_URL"),
        tuple(h.strip() for h in extra if h.strip()),
        config.get("ENV_NAME") == "development",
    )


def request_host(environ, config):
    """The request's host in normal form when the site answers as it, else None."""
    host = normal_host(get_host(environ))
    if host is None:
        return None
    allowed, development = _settings(config)
    if host in allowed or (development and _name(host) in LOOPBACK_NAMES):
        return host
    return None


def refuse_unknown_host(environ, config):
    """A 400 response (a WSGI app) for a request to a host we do not answer as, else
    None. Called first thing by the page cache's middleware."""
    if environ.get("PATH_INFO") in ANY_HOST_PATHS or request_host(environ, config):
        return None
    return Response(
        "Bad Request: this site does not answer to that host name.\n",
        status=400,
        mimetype="text/plain",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
