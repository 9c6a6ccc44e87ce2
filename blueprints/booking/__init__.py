"""Consultations with Dr. Brown: availability, paid booking, changes, reminders."""

# webhooks registers the Stripe handlers for metadata.kind == "booking"; cli the commands.
from blueprints.booking import cli, routes, webhooks  # noqa: F401
from blueprints.booking.blueprint import bp
from blueprints.booking.cache_tags import types_page_tags
from blueprints.booking.services import sitemap_urls
from blueprints.core.sitemap import register_sitemap

register_sitemap(bp, sitemap_urls, tags=types_page_tags())
