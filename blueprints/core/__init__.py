"""Shared pieces: layout, security, time zones, the outbox, Stripe plumbing, health."""

from flask import Blueprint

bp = Blueprint("core", __name__)

from blueprints.core import routes, stripe  # noqa: E402,F401  (routes attach to bp)
