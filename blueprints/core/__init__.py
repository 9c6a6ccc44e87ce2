"""Shared pieces: layout, security, time zones, the outbox, Stripe plumbing, health."""

from blueprints.core import routes, stripe  # noqa: F401  (routes attach to bp)
from blueprints.core.blueprint import bp  # noqa: F401  (app.py registers it)
