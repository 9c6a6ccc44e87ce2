"""The practice's pages, and the contact form.

Each page is cached for anonymous readers under its own tag; a staff edit clears it
(``content.save_page``). The contact form answers a filled honeypot with the same
thank-you page, and sends nothing.
"""

from flask import current_app, redirect, render_template, url_for

from blueprints.core.cache import cached_page
from blueprints.pages import cache_tags
from blueprints.pages.blueprint import bp
from blueprints.pages.content import all_pages, page_for
from blueprints.pages.emails import send_contact_message
from blueprints.pages.forms import ContactForm
from extensions import db, limiter


def _contact_limit():
    return current_app.config["CONTACT_RATE_LIMIT"]


def _show(slug):
    return render_template("pages/page.html", page=page_for(slug))


@bp.get("/about")
@cached_page(tags=cache_tags.page_tags("about"))
def about():
    return _show("about")


@bp.get("/privacy")
@cached_page(tags=cache_tags.page_tags("privacy"))
def privacy():
    """What the site keeps about a person, how, and for how long, in plain words."""
    return _show("privacy")


@bp.get("/terms")
@cached_page(tags=cache_tags.page_tags("terms"))
def terms():
    return _show("terms")


@bp.get("/shipping-returns")
@cached_page(tags=cache_tags.page_tags("shipping-returns"))
def shipping_returns():
    return _show("shipping-returns")


@bp.route("/contact", methods=["GET", "POST"])
@limiter.limit(_contact_limit, methods=["POST"])
@cached_page(tags=cache_tags.page_tags("contact"))  # GET only: a POST is never cached
def contact():
    form = ContactForm()
    if form.validate_on_submit():
        if not form.website.data:  # a filled honeypot is a bot: it gets the page, no email
            send_contact_message(form.name.data, form.email.data, form.message.data)
            db.session.commit()
        return redirect(url_for("pages.contact_sent"), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("pages/contact.html", page=page_for("contact"), form=form), status


@bp.get("/contact/sent")
@cached_page(tags=[cache_tags.PAGES_TAG])
def contact_sent():
    return render_template("pages/contact_sent.html")


def sitemap_urls():
    """Every page, with the date it last changed (None before staff saved it)."""
    return [
        (url_for(f"pages.{page.slug.replace('-', '_')}", _external=True), page.updated_at)
        for page in all_pages()
    ]
