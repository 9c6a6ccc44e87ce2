"""The blog's page-cache tags, built only here: a misspelt name fails at import, where a
misspelt string would leave a stale page in the cache.

A cached page carries tags (``core.cache.cached_page``); a change clears every page that
carries one of its tags (``core.cache_tags.invalidate_after_commit``).
"""

from blueprints.pages.cache_tags import page_tag

# Every list of posts (home, index, topics, search, feed, the recent posts beside a post)
# and every count of them: publishing, editing or unpublishing any post clears them.
BLOG_TAG = "blog"


def post_page_tag(slug):
    """The tag of one post's page: its comments or its text changed."""
    return f"post:{slug}"


def post_page_tags(slug):
    """Every tag a post's page carries: its own, the lists' (its sidebar lists the
    neighbouring and recent posts), and the About page's (its author box)."""
    return [BLOG_TAG, post_page_tag(slug), page_tag("about")]
