"""The practice's pages, and the contact form.

Each page is cached for anonymous readers under its own tag; a staff edit clears it
(``content.save_page``). The contact form answers a filled honeypot with the same
thank-you page, and sends nothing.
"""

from flask import current_app, make_response, redirect, render_template, url_for

from blueprints.core.cache import cached_page
from blueprints.core.limits import count_as_accepted, limit_public_form, wait_in_words
from blueprints.pages import cache_tags
from blueprints.pages.blueprint import bp
from blueprints.pages.content import all_pages, page_for
from blueprints.pages.emails import send_contact_message
from blueprints.pages.forms import ContactForm
from extensions import db


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


def _contact_page(form, status=200, slow_down=None):
    return render_template(
        "pages/contact.html", page=page_for("contact"), form=form, slow_down=slow_down
    ), status


def _message_not_sent_yet(seconds):
    """Past the contact limit (``core/limits.py``): the contact page, 429, with her
    message still in the form and how long to wait."""
    slow_down = (
        "You have sent several messages in a short while. Please wait "
        f"{wait_in_words(seconds)}, then send this one again: your message is kept in "
        "the form below."
    )
    return make_response(_contact_page(ContactForm(), 429, slow_down))


@bp.route("/contact", methods=["GET", "POST"])
@limit_public_form(_contact_limit, on_breach=_message_not_sent_yet)
@cached_page(tags=cache_tags.page_tags("contact"))  # GET only: a POST is never cached
def contact():
    form = ContactForm()
    if form.validate_on_submit():
        if not form.website.data:  # a filled honeypot is a bot: it gets the page, no email
            send_contact_message(form.name.data, form.email.data, form.message.data)
            db.session.commit()
        count_as_accepted()
        return redirect(url_for("pages.contact_sent"), code=303)
    return _contact_page(form, 400 if form.is_submitted() else 200)


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
