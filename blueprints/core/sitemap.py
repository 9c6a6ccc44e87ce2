"""The sitemap gathers the public pages each area lists.

Core names no area: an area registers its provider, a function returning ``[(absolute_url,
lastmod_datetime_or_None)]``, when its blueprint is registered (``register_sitemap``).
An area that has not moved to that yet is still read through ``sitemap_urls()`` in its
``services`` module.
"""

from flask import current_app

from blueprints import area_modules

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
    providers = list(_providers(current_app))
    for _area, services in area_modules("services"):
        provider = getattr(services, "sitemap_urls", None)
        if provider and provider not in providers:
            providers.append(provider)
    urls = []
    for provider in providers:
        urls.extend(provider())
    return urls
