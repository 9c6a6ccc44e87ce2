"""The free weekly newsletter: signup, double opt-in, unsubscribe, weekly send."""

from blueprints.core.sessions import mark_private_session_keys
from blueprints.newsletter import cli, routes  # noqa: F401
from blueprints.newsletter.blueprint import bp  # app.py registers it
from blueprints.newsletter.routes import TYPED_KEY

# The address she just typed, until "Please check your inbox" shows it.
mark_private_session_keys(bp, TYPED_KEY)
