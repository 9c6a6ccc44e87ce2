"""The practice's pages, and the contact form.

Each page is cached for anonymous readers under its own tag; a staff edit clears it
(``content.save_page``). The contact form answers a filled honeypot with the same
thank-you page, and sends nothing.
"""

from flask import current_app, make_response, redirect, render_template, session, url_for

from blueprints.core.cache import cached_page
from blueprints.core.errors import render_error
from blueprints.core.headers import no_store
from blueprints.core.limits import count_as_accepted, limit_public_form, wait_in_words
from blueprints.pages import cache_tags
from blueprints.pages.blueprint import bp
from blueprints.pages.content import all_pages, page_for
from blueprints.pages.emails import send_address_correction, send_contact_message
from blueprints.pages.forms import AddressCorrectionForm, ContactForm
from blueprints.pages.sent_notes import SentNote, read_sent_note, sent_note
from extensions import db

# Her name and the address she typed, shown once on the "thank you" page so that she can
# spot a typo: kept in her session (a private key: no cached page while it is there),
# never in a URL, on a page no cache keeps.
SENT_KEY = "contact_sent"
CORRECTION_OUT_OF_DATE = (
    "This form is out of date. If the address in your message was wrong, please send "
    "your message again from the contact page with the right one."
)


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
            # (Not for a bot: a correction would tell staff of a message never sent.)
            session[SENT_KEY] = [" ".join(form.name.data.split()), form.email.data.strip()]
        count_as_accepted()
        return redirect(url_for("pages.contact_sent"), code=303)
    return _contact_page(form, 400 if form.is_submitted() else 200)


def _sent_page(sent=None, form=None, status=200, slow_down=None):
    """The "thank you" page; with ``sent`` (a ``SentNote``), the address we will answer
    to and the form to correct it."""
    if sent is not None and form is None:
        form = AddressCorrectionForm(formdata=None, sent=sent_note(*sent))
    return render_template(
        "pages/contact_sent.html", sent=sent, form=form, slow_down=slow_down
    ), status


@bp.get("/contact/sent")
@no_store
def contact_sent():
    """After a message: the address she typed (once), with a form to correct it."""
    typed = session.pop(SENT_KEY, None)
    if isinstance(typed, list) and len(typed) == 2 and all(isinstance(v, str) for v in typed):
        return _sent_page(SentNote(*typed))
    return _sent_page()


def _correction_not_sent_yet(seconds):
    """Past the contact limit with a correction: the page again, 429, with what she
    typed and how long to wait."""
    form = AddressCorrectionForm()
    sent = read_sent_note(form.sent.data)
    if sent is None:
        return None
    slow_down = (
        "You have sent several corrections in a short while. Please wait "
        f"{wait_in_words(seconds)}, then send this one again: what you typed is kept below."
    )
    return make_response(_sent_page(sent, form, 429, slow_down))


@bp.post("/contact/sent/correct")
@limit_public_form(_contact_limit, on_breach=_correction_not_sent_yet)
@no_store
def correct_address():
    """The right address for the message she just sent: staff are emailed it, and the
    "thank you" page shows it."""
    form = AddressCorrectionForm()
    sent = read_sent_note(form.sent.data)
    if sent is None:
        return render_error(400, CORRECTION_OUT_OF_DATE)
    if not form.validate_on_submit():
        return _sent_page(sent, form, 400)
    right = form.email.data.strip()
    send_address_correction(sent.name, sent.email, right)
    db.session.commit()
    count_as_accepted()
    session[SENT_KEY] = [sent.name, right]
    return redirect(url_for("pages.contact_sent"), code=303)


def sitemap_urls():
    """Every page, with the date it last changed (None before staff saved it)."""
    return [
        (url_for(f"pages.{page.slug.replace('-', '_')}", _external=True), page.updated_at)
        for page in all_pages()
    ]
