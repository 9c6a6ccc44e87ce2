"""Consultations with Dr. Brown: availability, paid booking, changes, reminders."""

from flask import Blueprint

bp = Blueprint("booking", __name__, url_prefix="/consultations", cli_group="bookings")

# services registers the Stripe webhook handlers for metadata.kind == "booking".
from blueprints.booking import routes, services  # noqa: E402,F401
