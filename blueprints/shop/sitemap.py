"""The shop's pages in the sitemap."""

from blueprints.core.links import external_url
from blueprints.shop.catalogue import active_products


def sitemap_urls():
    """The shop page and every active product page, for the sitemap."""
    products = active_products()
    urls = [(external_url("shop.index"), max((p.updated_at for p in products), default=None))]
    urls += [(external_url("shop.product", slug=p.slug), p.updated_at) for p in products]
    return urls
