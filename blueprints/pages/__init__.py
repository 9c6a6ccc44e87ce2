"""The practice's own pages (issue #19.4): About, Contact, Privacy, Terms, Shipping and
returns. Each is Markdown that staff edit (``admin/page_views.py``); Contact also has a
form that emails the staff through the outbox."""

from blueprints.core.sessions import mark_private_session_keys
from blueprints.core.sitemap import register_sitemap
from blueprints.media.uses import register_image_uses
from blueprints.pages import routes  # noqa: F401  (views attach to bp)
from blueprints.pages.blueprint import bp
from blueprints.pages.cache_tags import PAGES_TAG
from blueprints.pages.content import pages_using_image
from blueprints.pages.routes import SENT_KEY

# Her name and address after a contact message, until the "thank you" page shows them.
mark_private_session_keys(bp, SENT_KEY)
register_sitemap(bp, routes.sitemap_urls, tags=[PAGES_TAG])
register_image_uses(bp, pages_using_image)  # the About page's photo is not deleted
