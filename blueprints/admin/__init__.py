"""The staff area: sign-in, dashboard, posts, comment moderation (and later the shop,
bookings and newsletter screens)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from blueprints.admin import booking_views, routes, shop_views  # noqa: E402,F401  (views attach to bp)
