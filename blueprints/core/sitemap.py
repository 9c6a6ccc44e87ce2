"""The sitemap gathers ``sitemap_urls()`` from each area's services that define one."""

from blueprints import area_modules


def collect_urls():
    """A list of ``(absolute_url, lastmod_datetime_or_None)`` for every public page."""
    urls = []
    for _area, services in area_modules("services"):
        provider = getattr(services, "sitemap_urls", None)
        if provider:
            urls.extend(provider())
    return urls
