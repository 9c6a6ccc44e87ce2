"""Blog pages (placeholder routes until the blog lands)."""

from flask import render_template

from blueprints.blog import bp


@bp.get("/")
def home():
    return render_template("core/coming_soon.html", heading="Better Bones", message="Welcome.")


@bp.get("/blog/")
def index():
    return render_template("core/coming_soon.html", heading="Blog", message="Posts are coming.")


@bp.get("/blog/feed.xml")
def feed():
    return render_template("core/coming_soon.html", heading="Feed", message="Coming.")
