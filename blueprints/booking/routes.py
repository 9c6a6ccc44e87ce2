"""Consultation pages (placeholder until booking lands)."""

from flask import render_template

from blueprints.booking import bp


@bp.get("/")
def index():
    return render_template(
        "core/coming_soon.html",
        heading="Consult with Dr. Susan E. Brown, PhD",
        message="Phone and video consultations can be booked here soon.",
    )
