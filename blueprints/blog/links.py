"""The blog's absolute links (feed, sitemap, emails), on ``SITE_URL`` whatever host
asked: imported by the blog's services, routes and emails."""

from blueprints.core.links import external_url


def post_url(slug):
    """The public address of the post with this slug."""
    return external_url("blog.post", slug=slug)


def tag_url(slug):
    """The public address of a topic's list of posts."""
    return external_url("blog.tag", tag=slug)


def moderation_url():
    """The staff page where comments wait for moderation."""
    return external_url("admin.comments")
