"""The shop: programs and weighted vests, the cart, Stripe Checkout."""

from flask import Blueprint

bp = Blueprint("shop", __name__)

from blueprints.shop import routes, webhooks  # noqa: E402,F401  (views, Stripe handlers)
