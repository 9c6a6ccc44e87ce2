"""Consultations with Dr. Brown: availability, paid booking, changes, reminders."""

from flask import Blueprint

bp = Blueprint("booking", __name__, url_prefix="/consultations", cli_group="bookings")

# webhooks registers the Stripe handlers for metadata.kind == "booking"; cli the commands.
from blueprints.booking import cli, routes, webhooks  # noqa: E402,F401
from blueprints.booking.services import sitemap_urls  # noqa: E402
from blueprints.core.sitemap import register_sitemap  # noqa: E402

register_sitemap(bp, sitemap_urls)
