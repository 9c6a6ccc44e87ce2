"""The free weekly newsletter: signup, double opt-in, unsubscribe, weekly send."""

from flask import Blueprint

bp = Blueprint("newsletter", __name__, url_prefix="/newsletter", cli_group="newsletter")

from blueprints.newsletter import cli, routes  # noqa: E402,F401
