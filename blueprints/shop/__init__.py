"""The shop: programs and weighted vests, the cart, Stripe Checkout."""

from blueprints.core.sessions import mark_private_session_keys
from blueprints.core.sitemap import register_sitemap
from blueprints.shop import routes, webhooks  # noqa: F401  (views, Stripe handlers)
from blueprints.shop.blueprint import bp
from blueprints.shop.cache_tags import CATALOGUE
from blueprints.shop.cart import CART_SESSION_KEY
from blueprints.shop.sitemap import sitemap_urls

mark_private_session_keys(bp, CART_SESSION_KEY)  # a reader with a cart sees her own pages
register_sitemap(bp, sitemap_urls, tags=[CATALOGUE])
