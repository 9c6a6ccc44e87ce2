"""The staff area: sign-in, dashboard, posts, comment moderation, and each area's
staff screens (``<area>_views.py``)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from blueprints.admin import (  # noqa: E402,F401  (views attach to bp)
    booking_views,
    newsletter_views,
    routes,
    shop_views,
    two_factor,
)
from blueprints.core.sessions import mark_staff_only  # noqa: E402

mark_staff_only(bp)
