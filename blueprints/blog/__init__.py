"""The blog: home page, posts, tags, search, feed, comments."""

from flask import Blueprint

bp = Blueprint("blog", __name__)

from blueprints.blog import routes  # noqa: E402,F401
