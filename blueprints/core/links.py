"""Absolute links on the public site, and the signed tokens inside them.

Every link that leaves the site (in an email, a feed, a Stripe return address) is built
here, on ``SITE_URL``: never on the host of whatever request happened to cause it, and
the same in a request, a webhook and a cron job. Each area keeps its own signed links
(manage, programs, unsubscribe, confirm) in its ``links.py`` on top of these.
"""

from flask import current_app
from itsdangerous import URLSafeTimedSerializer


def site_url():
    """``SITE_URL`` without a trailing slash (scheme and host of every absolute link)."""
    return current_app.config["SITE_URL"].rstrip("/")


def site_path(endpoint, **values):
    """The path of ``endpoint`` on this site, in a request or outside one (a webhook's
    email, a cron job): for a ``next`` inside an absolute link."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def external_url(endpoint, **values):
    """The absolute address of ``endpoint`` on ``SITE_URL``."""
    return site_url() + site_path(endpoint, **values)


def signer(salt):
    """A serializer for one kind of signed link (``salt`` keeps kinds apart)."""
    return URLSafeTimedSerializer(current_app.secret_key, salt=salt)
