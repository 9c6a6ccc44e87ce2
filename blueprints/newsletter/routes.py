"""Newsletter pages (placeholder until the newsletter lands)."""

from flask import render_template

from blueprints.newsletter import bp


@bp.get("/")
def signup():
    return render_template(
        "core/coming_soon.html",
        heading="Sign up for our free weekly blog",
        message="Signup opens soon.",
    )
