"""Email the blog sends (queued in the outbox, sent after the commit)."""

import logging

from blueprints.account.services import staff_addresses
from blueprints.blog.links import (
    KNOWN_COMMENTER_LINK_LIFETIME,
    comment_url,
    known_commenter_url,
    moderation_url,
    post_url,
    reply_notices_off_url,
)
from blueprints.core.outbox import queue_email

log = logging.getLogger(__name__)

EXCERPT_LENGTH = 600


def _one_line(text):
    # Titles and names become mail headers: one line, whatever they hold.
    return " ".join(text.split())


def _excerpt(comment):
    excerpt = comment.body_md.strip()
    if len(excerpt) > EXCERPT_LENGTH:
        excerpt = excerpt[:EXCERPT_LENGTH].rstrip() + "…"
    return excerpt


def notify_staff_comment_pending(comment, reason):
    """Tell every staff address that ``comment`` waits in the moderation queue, and
    why it was not published at once (``reason``, one sentence)."""
    addresses = staff_addresses()
    if not addresses:
        log.warning("Comment %s waits for moderation but there is no staff address", comment.id)
        return
    for address in addresses:
        queue_email(
            address,
            "comment_pending",
            "A comment waits for moderation: " + _one_line(comment.post.title),
            comment=comment,
            excerpt=_excerpt(comment),
            reason=reason,
            post_url=post_url(comment.post.slug),
            moderation_url=moderation_url(),
        )


def notify_commenters_published(comments):
    """Tell each reader whose comment was just approved that it is published, once per
    address, with the link that proves the address is hers ("confirm it's you"): from
    the browser that follows it, her next comments appear without waiting."""
    by_address = {}
    for comment in comments:
        if not comment.by_staff:
            by_address.setdefault(comment.author_email, []).append(comment)
    for address, published in by_address.items():
        first = published[0]
        subject = (
            "Your comment on " + _one_line(first.post.title) + " is published"
            if len(published) == 1
            else "Your comments are published"
        )
        queue_email(
            address,
            "comment_published",
            subject,
            comments=published,
            comment_urls={c.id: comment_url(c.id) for c in published},
            confirm_url=known_commenter_url(address, first.post.slug),
            confirm_days=KNOWN_COMMENTER_LINK_LIFETIME.days,
        )


def notify_commenter_of_reply(answered, reply, published):
    """Tell the reader who wrote ``answered`` that Dr. Brown replied (one email per
    reply), with a link to stop such emails. ``published``: her comments this reply
    just published; then the email says so too, with her "confirm it's you" link."""
    post = answered.post
    queue_email(
        answered.author_email,
        "comment_reply",
        _one_line(reply.author_name) + " replied to your comment on " + _one_line(post.title),
        answered=answered,
        reply=reply,
        excerpt=_excerpt(reply),
        post_title=post.title,
        reply_url=comment_url(reply.id),
        published=published,
        confirm_url=known_commenter_url(answered.author_email, post.slug) if published else None,
        confirm_days=KNOWN_COMMENTER_LINK_LIFETIME.days,
        stop_url=reply_notices_off_url(answered.author_email),
    )
