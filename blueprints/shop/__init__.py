"""The shop: programs and weighted vests, the cart, Stripe Checkout."""

from blueprints.core.sessions import keep_across_sign_in, mark_private_session_keys
from blueprints.core.sitemap import register_sitemap
from blueprints.media.uses import register_image_uses
from blueprints.shop import routes, webhooks  # noqa: F401  (views, Stripe handlers)
from blueprints.shop.blueprint import bp
from blueprints.shop.cache_tags import CATALOGUE
from blueprints.shop.cart import CART_SESSION_KEY, SHIP_TO_SESSION_KEY
from blueprints.shop.gallery import products_using_image
from blueprints.shop.sitemap import sitemap_urls

mark_private_session_keys(bp, CART_SESSION_KEY)  # a reader with a cart sees her own pages
keep_across_sign_in(bp, CART_SESSION_KEY, SHIP_TO_SESSION_KEY)  # her cart outlives signing in
register_sitemap(bp, sitemap_urls, tags=[CATALOGUE])
register_image_uses(bp, products_using_image)  # an image in a gallery is not deleted
