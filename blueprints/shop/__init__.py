"""The shop: programs and weighted vests, the cart, Stripe Checkout."""

from flask import Blueprint

bp = Blueprint("shop", __name__)

from blueprints.core.sessions import mark_private_session_keys  # noqa: E402
from blueprints.core.sitemap import register_sitemap  # noqa: E402
from blueprints.shop import routes, webhooks  # noqa: E402,F401  (views, Stripe handlers)
from blueprints.shop.cart import CART_SESSION_KEY  # noqa: E402
from blueprints.shop.sitemap import sitemap_urls  # noqa: E402

mark_private_session_keys(bp, CART_SESSION_KEY)  # a reader with a cart sees her own pages
register_sitemap(bp, sitemap_urls)
