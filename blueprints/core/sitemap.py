"""The sitemap gathers the public pages each area lists.

Core names no area: an area registers its provider, a function returning ``[(absolute_url,
lastmod_datetime_or_None)]``, when its blueprint is registered (``register_sitemap``).
"""

from flask import current_app

_EXTENSION = "better_bones_sitemap"


def _providers(app):
    return app.extensions.setdefault(_EXTENSION, [])


def register_sitemap(bp, provider):
    """``provider()`` lists this blueprint's area's public pages in the sitemap."""

    def record(state):
        providers = _providers(state.app)
        if provider not in providers:
            providers.append(provider)

    bp.record_once(record)


def collect_urls():
    """A list of ``(absolute_url, lastmod_datetime_or_None)`` for every public page."""
    urls = []
    for provider in _providers(current_app):
        urls.extend(provider())
    return urls
