"""Consultations with Dr. Brown: availability, paid booking, changes, reminders."""

from flask import Blueprint

bp = Blueprint("booking", __name__, url_prefix="/consultations", cli_group="bookings")

from blueprints.booking import routes  # noqa: E402,F401
