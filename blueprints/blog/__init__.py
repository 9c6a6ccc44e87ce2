"""The blog: home page, posts, tags, search, feed, comments."""

from blueprints.blog import routes  # noqa: F401
from blueprints.blog.blueprint import bp
from blueprints.blog.cache_tags import BLOG_TAG
from blueprints.blog.posts import sitemap_urls
from blueprints.blog.routes import NOTICE_KEY
from blueprints.core.sessions import mark_private_session_keys
from blueprints.core.sitemap import register_sitemap

mark_private_session_keys(bp, NOTICE_KEY)  # "your comment is waiting", shown once
register_sitemap(bp, sitemap_urls, tags=[BLOG_TAG])
