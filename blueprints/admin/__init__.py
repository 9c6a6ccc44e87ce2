"""The staff area: sign-in, dashboard, posts, comment moderation, and each area's
staff screens (``<area>_views.py``)."""

from blueprints.admin import (  # noqa: F401  (views attach to bp)
    booking_views,
    customer_views,
    dashboard_panels,
    errors,
    media_views,
    newsletter_views,
    page_views,
    post_views,
    routes,
    shipping_views,
    shop_views,
    staff_views,
    two_factor,
)
from blueprints.admin.blueprint import bp
from blueprints.core.sessions import mark_staff_only

mark_staff_only(bp)
