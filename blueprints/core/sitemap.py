"""The sitemap gathers the public pages each area lists.

Core names no area: an area registers its provider, a function returning ``[(absolute_url,
lastmod_datetime_or_None)]``, when its blueprint is registered (``register_sitemap``).
"""

from flask import current_app

_EXTENSION = "better_bones_sitemap"


def _providers(app):
    return app.extensions.setdefault(_EXTENSION, [])


def register_sitemap(bp, provider, tags=()):
    """``provider()`` lists this blueprint's area's public pages in the sitemap; ``tags``
    are the page-cache tags of what it lists (a change to them clears the sitemap)."""

    def record(state):
        providers = _providers(state.app)
        if all(known is not provider for known, _ in providers):
            providers.append((provider, tuple(tags)))

    bp.record_once(record)


def sitemap_tags():
    """The cache tags of every area's listed pages."""
    return sorted({tag for _, tags in _providers(current_app) for tag in tags})


def collect_urls():
    """A list of ``(absolute_url, lastmod_datetime_or_None)`` for every public page."""
    urls = []
    for provider, _ in _providers(current_app):
        urls.extend(provider())
    return urls
