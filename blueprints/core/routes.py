"""Site-wide endpoints that belong to no single area."""

from flask import Response, jsonify, render_template, url_for
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from blueprints.core.blueprint import bp
from blueprints.core.cache import cached_page
from blueprints.core.sitemap import collect_urls, sitemap_tags
from extensions import db, limiter


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """200 when the database answers, 503 when it does not (for load balancers)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="down"), 503, {"Retry-After": "30"}
    return jsonify(status="ok", database="up")


@bp.get("/robots.txt")
@cached_page()
def robots():
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /account/",
        "Disallow: /cart",
        f"Sitemap: {url_for('core.sitemap', _external=True)}",
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")


@bp.get("/sitemap.xml")
@cached_page(tags=sitemap_tags, timeout=300)
def sitemap():
    """Every public page we want indexed; each area lists its own URLs."""
    xml = render_template("core/sitemap.xml", urls=collect_urls())
    return Response(xml, mimetype="application/xml")
