"""The newsletter's links: confirm, unsubscribe, and the posts an issue lists.

Imported by both the services and the emails, so neither needs the other to build a
link. Every link is absolute on ``SITE_URL`` (``core.links.external_url``): the same in a
request and in the weekly cron job.
"""

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from blueprints.core.links import external_url

UNSUBSCRIBE_SALT = "newsletter-unsubscribe"


def _unsubscribe_serializer():
    # Not core.links.signer (timed): unsubscribe links never expire, and every token in
    # an email already sent was made by this untimed serializer; a timed one would
    # refuse them all.
    return URLSafeSerializer(current_app.secret_key, salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(subscriber_id):
    """A signed, never-expiring token naming one subscriber (old emails keep working)."""
    return _unsubscribe_serializer().dumps(subscriber_id)


def subscriber_id_from_unsubscribe_token(token):
    """The subscriber id a valid token names, or None for an altered or foreign token."""
    try:
        subscriber_id = _unsubscribe_serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(subscriber_id, int):
        return None
    return subscriber_id


def unsubscribe_url(subscriber_id):
    """The page where this subscriber leaves or pauses (also the one-click POST target)."""
    return external_url("newsletter.unsubscribe", token=unsubscribe_token(subscriber_id))


def confirm_url(token):
    """The double opt-in link carrying a confirmation token."""
    return external_url("newsletter.confirm", token=token)


def post_url(post):
    """The public page of a post, as an issue links it."""
    return external_url("blog.post", slug=post.slug)
