"""Shop pages (placeholder until the shop lands)."""

from flask import render_template

from blueprints.shop import bp


@bp.get("/shop/")
def index():
    return render_template(
        "core/coming_soon.html",
        heading="Products and programs",
        message="Dr. Brown's programs and weighted vests will be for sale here soon.",
    )
