"""The blog: home page, posts, tags, search, feed, comments."""

from flask import Blueprint

bp = Blueprint("blog", __name__)

from blueprints.blog import routes  # noqa: E402,F401
from blueprints.blog.commenters import register_settings  # noqa: E402
from blueprints.blog.posts import sitemap_urls  # noqa: E402
from blueprints.blog.routes import NOTICE_KEY  # noqa: E402
from blueprints.core.sessions import mark_private_session_keys  # noqa: E402
from blueprints.core.sitemap import register_sitemap  # noqa: E402

mark_private_session_keys(bp, NOTICE_KEY)  # "your comment is waiting", shown once
register_sitemap(bp, sitemap_urls)
bp.record_once(register_settings)  # RESERVED_COMMENT_NAMES, unless settings name others
