"""The blog's absolute links (feed, sitemap, emails), on ``SITE_URL`` whatever host
asked, and the signed "confirm it's you" link: imported by the blog's services, routes
and emails."""

from datetime import timedelta
from typing import NamedTuple

from itsdangerous import BadData, SignatureExpired

from blueprints.core.addresses import normalise_email
from blueprints.core.links import external_url, signer

KNOWN_COMMENTER_SALT = "blog-known-commenter-link"
REPLY_NOTICES_OFF_SALT = "blog-reply-notices-off"
# The link in a "your comment is published" email works this long.
KNOWN_COMMENTER_LINK_LIFETIME = timedelta(days=14)


def post_url(slug):
    """The public address of the post with this slug."""
    return external_url("blog.post", slug=slug)


def comment_url(comment_id):
    """The lasting address of one comment (in emails): it finds, when followed, the page
    of the post's comments that shows it (ten threads to a page, so the post's own
    address may not)."""
    return external_url("blog.comment_link", comment_id=comment_id)


def tag_url(slug):
    """The public address of a topic's list of posts."""
    return external_url("blog.tag", tag=slug)


def moderation_url():
    """The staff page where comments wait for moderation."""
    return external_url("admin.comments")


def known_commenter_url(email, slug):
    """The emailed link by which a commenter proves ``email`` is hers: confirming it
    sets the known-commenter cookie in her browser and shows her the post ``slug``."""
    token = signer(KNOWN_COMMENTER_SALT).dumps({"email": normalise_email(email), "post": slug})
    return external_url("blog.known_commenter", token=token)


class KnownCommenterLink(NamedTuple):
    """What a valid confirm link names; ``expired`` when it is older than
    ``KNOWN_COMMENTER_LINK_LIFETIME``."""

    email: str
    slug: str
    expired: bool = False


def read_known_commenter_link(token):
    """The ``KnownCommenterLink`` a token names, or None for an altered or foreign one."""
    max_age = int(KNOWN_COMMENTER_LINK_LIFETIME.total_seconds())
    expired = False
    try:
        data = signer(KNOWN_COMMENTER_SALT).loads(token, max_age=max_age)
    except SignatureExpired as error:
        data, expired = error.payload, True
        if data is not None:
            data = signer(KNOWN_COMMENTER_SALT).load_payload(data)
    except BadData:
        return None
    if not (isinstance(data, dict) and {"email", "post"} <= data.keys()):
        return None
    email, slug = data["email"], data["post"]
    if not (isinstance(email, str) and isinstance(slug, str)):
        return None
    return KnownCommenterLink(email, slug, expired)


def reply_notices_off_url(email):
    """The link in a "Dr. Brown replied" email that stops such emails to ``email``. It
    never expires: an old email's link still works."""
    token = signer(REPLY_NOTICES_OFF_SALT).dumps(normalise_email(email))
    return external_url("blog.reply_notices_off", token=token)


def read_reply_notices_off_link(token):
    """The address a stop link names, or None for an altered or foreign one."""
    try:
        email = signer(REPLY_NOTICES_OFF_SALT).loads(token)
    except BadData:
        return None
    return email if isinstance(email, str) and "@" in email else None
