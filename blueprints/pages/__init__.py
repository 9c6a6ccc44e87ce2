"""The practice's own pages (issue #19.4): About, Contact, Privacy, Terms, Shipping and
returns. Each is Markdown that staff edit (``admin/page_views.py``); Contact also has a
form that emails the staff through the outbox."""

from blueprints.core.sitemap import register_sitemap
from blueprints.media.uses import register_image_uses
from blueprints.pages import routes  # noqa: F401  (views attach to bp)
from blueprints.pages.blueprint import bp
from blueprints.pages.cache_tags import PAGES_TAG
from blueprints.pages.content import pages_using_image

register_sitemap(bp, routes.sitemap_urls, tags=[PAGES_TAG])
register_image_uses(bp, pages_using_image)  # the About page's photo is not deleted
