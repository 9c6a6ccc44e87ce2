"""The free weekly newsletter: signup, double opt-in, unsubscribe, weekly send."""

from blueprints.newsletter import cli, routes  # noqa: F401
from blueprints.newsletter.blueprint import bp  # noqa: F401  (app.py registers it)
