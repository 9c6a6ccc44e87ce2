"""Email the blog sends (queued in the outbox, sent after the commit)."""

import logging

from blueprints.account.services import staff_addresses
from blueprints.blog.links import moderation_url, post_url
from blueprints.core.outbox import queue_email

log = logging.getLogger(__name__)

EXCERPT_LENGTH = 600


def notify_staff_comment_pending(comment):
    """Tell every staff address that ``comment`` waits in the moderation queue."""
    addresses = staff_addresses()
    if not addresses:
        log.warning("Comment %s waits for moderation but there is no staff address", comment.id)
        return
    excerpt = comment.body_md.strip()
    if len(excerpt) > EXCERPT_LENGTH:
        excerpt = excerpt[:EXCERPT_LENGTH].rstrip() + "…"
    for address in addresses:
        queue_email(
            address,
            "comment_pending",
            # One line, whatever the title holds: it becomes a mail header.
            "A comment waits for moderation: " + " ".join(comment.post.title.split()),
            comment=comment,
            excerpt=excerpt,
            post_url=post_url(comment.post.slug),
            moderation_url=moderation_url(),
        )
