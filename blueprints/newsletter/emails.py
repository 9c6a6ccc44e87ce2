"""Single newsletter emails, written to the outbox (the weekly issue is sent in bulk).

A signup writes exactly one of the first two below, whatever the address's state, so
the request does the same work for a member as for a stranger; ``withheld`` records it
without sending when the address already had one within the day. A confirmation writes
the welcome email.
"""

from flask import current_app

from blueprints.core.links import external_url
from blueprints.core.outbox import queue_email
from blueprints.newsletter.links import confirm_url, unsubscribe_url
from blueprints.newsletter.models import CONFIRM_LINK_HOURS


def queue_confirmation_email(subscriber, token, withheld=None):
    """Queue the double opt-in email with the subscriber's confirmation link."""
    queue_email(
        subscriber.email,
        "newsletter_confirm",
        f"Please confirm your {current_app.config['SITE_NAME']} newsletter signup",
        withheld=withheld,
        first_name=subscriber.first_name,
        confirm_url=confirm_url(token),
        hours=CONFIRM_LINK_HOURS,
    )


def queue_already_subscribed_email(subscriber, withheld=None):
    """Queue the note to a confirmed subscriber who signed up again: they are already
    on the list, nothing changed, and here is how to leave."""
    queue_email(
        subscriber.email,
        "newsletter_already_subscribed",
        f"You are already on the {current_app.config['SITE_NAME']} newsletter list",
        withheld=withheld,
        first_name=subscriber.first_name,
        unsubscribe_url=unsubscribe_url(subscriber.id),
    )


def queue_welcome_email(subscriber):
    """Queue the welcome to a subscriber who has just confirmed her signup, with the
    blog's address and her way to leave (also as a one-click List-Unsubscribe)."""
    leave_url = unsubscribe_url(subscriber.id)
    queue_email(
        subscriber.email,
        "newsletter_welcome",
        f"Welcome to the {current_app.config['SITE_NAME']} weekly blog",
        headers={
            "List-Unsubscribe": f"<{leave_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        first_name=subscriber.first_name,
        blog_url=external_url("blog.index"),
        unsubscribe_url=leave_url,
    )
