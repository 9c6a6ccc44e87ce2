"""The sitemap gathers ``sitemap_urls()`` from each area that defines one, in its
``sitemap.py`` or (an area not split yet) its ``services.py``."""

from blueprints import area_modules


def collect_urls():
    """A list of ``(absolute_url, lastmod_datetime_or_None)`` for every public page."""
    urls, seen = [], set()
    for name in ("sitemap", "services"):
        for area, module in area_modules(name):
            provider = getattr(module, "sitemap_urls", None)
            if provider and area not in seen:
                seen.add(area)
                urls.extend(provider())
    return urls
