"""The shop: programs and weighted vests, the cart, Stripe Checkout."""

from flask import Blueprint

bp = Blueprint("shop", __name__, cli_group="shop")

from blueprints.shop import cli, routes, webhooks  # noqa: E402,F401  (commands, views, Stripe handlers)
