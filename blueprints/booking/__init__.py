"""Consultations with Dr. Brown: availability, paid booking, changes, reminders."""

from flask import Blueprint

bp = Blueprint("booking", __name__, url_prefix="/consultations", cli_group="bookings")

# webhooks registers the Stripe handlers for metadata.kind == "booking"; cli the commands.
from blueprints.booking import cli, routes, webhooks  # noqa: E402,F401
