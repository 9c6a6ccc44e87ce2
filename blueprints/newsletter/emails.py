"""Single newsletter emails, written to the outbox (the weekly issue is sent in bulk)."""

from flask import current_app

from blueprints.core.outbox import queue_email
from blueprints.newsletter.links import confirm_url
from blueprints.newsletter.models import CONFIRM_LINK_HOURS


def queue_confirmation_email(subscriber, token):
    """Queue the double opt-in email with the subscriber's confirmation link."""
    queue_email(
        subscriber.email,
        "newsletter_confirm",
        f"Please confirm your {current_app.config['SITE_NAME']} newsletter signup",
        first_name=subscriber.first_name,
        confirm_url=confirm_url(token),
        hours=CONFIRM_LINK_HOURS,
    )
