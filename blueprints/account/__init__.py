"""Accounts: staff users (sign-in lives in admin) and, later, customer pages."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account", cli_group="users")

from blueprints.account import cli, routes, services  # noqa: E402,F401  (commands, routes, user loader)
from blueprints.core.sessions import mark_staff_only  # noqa: E402

mark_staff_only(bp)
