"""The staff area: sign-in, dashboard, posts, comment moderation (and later the shop,
bookings and newsletter screens)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from blueprints.admin import routes  # noqa: E402,F401

# isort: split
from blueprints.admin import newsletter_views  # noqa: E402,F401
