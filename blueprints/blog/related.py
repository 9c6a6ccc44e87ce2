"""Posts related to something outside the blog (a shop product), by shared tags."""

from sqlalchemy import bindparam, exists, select

from blueprints.blog.models import Post, PostStatus, post_tag
from blueprints.core.types import utcnow
from extensions import db

# The page-cache tag of every page that lists posts: a page that shows related posts
# carries it, so a new or changed post clears it.
POSTS_TAG = "blog"

_post = Post.__table__.c
# Built once. Newest published posts first, each kept when it has one of the tags: the
# (status, published_at) index stops after a few posts, where "every post of these
# tags, then sort" reads thousands of rows for a common tag.
_RELATED_POSTS = (
    select(_post.slug, _post.title)
    .where(
        _post.status == PostStatus.PUBLISHED,
        _post.published_at <= bindparam("now"),
        exists().where(
            post_tag.c.post_id == _post.id,
            post_tag.c.tag_id.in_(bindparam("tag_ids", expanding=True)),
        ),
    )
    .order_by(_post.published_at.desc())
    .limit(bindparam("limit"))
)


def related_posts(tag_ids, limit=3):
    """Published posts with any of ``tag_ids``, newest first (slug and title)."""
    if not tag_ids:
        return []
    params = {"now": utcnow(), "tag_ids": tag_ids, "limit": limit}
    return db.session.execute(_RELATED_POSTS, params).all()
