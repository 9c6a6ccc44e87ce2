"""The blog: home page, posts, tags, search, feed, comments."""

from blueprints.blog import cli, routes  # noqa: F401
from blueprints.blog.blueprint import bp
from blueprints.blog.cache_tags import BLOG_TAG
from blueprints.blog.editing import posts_using_image
from blueprints.blog.posts import sitemap_urls
from blueprints.blog.routes import NOTICE_KEY, PENDING_KEY
from blueprints.core.sessions import mark_private_session_keys
from blueprints.core.sitemap import register_sitemap
from blueprints.media.uses import register_image_uses

# "Your comment is waiting" (shown once) and her own waiting comments (shown to her only).
mark_private_session_keys(bp, NOTICE_KEY, PENDING_KEY)
register_sitemap(bp, sitemap_urls, tags=[BLOG_TAG])
register_image_uses(bp, posts_using_image)  # an image a post shows is not deleted
