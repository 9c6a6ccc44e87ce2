"""Each page's words: the stored row when staff have saved one, else the first text below
(which the demo seed also stores). Saving renders the Markdown once and clears the page.
The About page also gives the author box under every post (``author_profile``)."""

import re
from dataclasses import dataclass

from flask import current_app, url_for
from markupsafe import Markup
from sqlalchemy import select

from blueprints.booking import policy
from blueprints.core.audit import record_staff_action
from blueprints.core.cache_tags import cached_value, invalidate_after_commit
from blueprints.core.markdown import render_post
from blueprints.core.types import utcnow
from blueprints.media.library import Picture, picture, sized_images
from blueprints.pages.cache_tags import PAGES_TAG, page_tag, page_tags
from blueprints.pages.models import SLUGS, Page
from extensions import db

_ABOUT = """\
Dr. Susan E. Brown, PhD, is a medical anthropologist and certified nutritionist. She
founded the Better Bones program to help women build and keep strong bones through
food, movement and daily habits, alongside the care of their own doctors.

## Her training

- PhD in medical anthropology, Syracuse University
- Certified nutritionist
- Author of *Better Bones, Better Body* and *The Acid Alkaline Food Guide*

## Her story

Dr. Brown first studied bone health among women in cultures where broken hips are rare.
What she learned there, that bones respond to how we eat and live, became the Better Bones
program. For more than thirty years she has taught it through books, classes and
one-to-one consultations.

She writes the [weekly blog]({blog}) and offers [consultations]({booking}) by phone and video.
"""

_CONTACT = """\
Use the form below to send Dr. Brown's office a message. A person reads every message and
answers by email, usually within two working days.

Please do not send medical emergencies here: call your doctor or your local emergency number.
"""

_PRIVACY = """\
We keep only what we need to send your order, hold your consultation, email you the weekly
blog and show your comments. We never sell it or share it for advertising.

## What we keep

- **Orders:** what you bought, what you paid, your name, your email address and, for things
  we post, your delivery address. Card payments are handled by Stripe: we never see your
  card number.
- **Consultations:** the time you booked, your name, email address, phone number and time
  zone, and the answers you chose to give about your bones.
- **Newsletter:** your email address and first name, and when you signed up.
- **Comments:** the name you gave, your comment, and your email address (never shown on
  the site).
- **Messages:** what you send us with the contact form, and your name and email address.

## Your health answers

Your DEXA T-scores, fractures, medications and goals are health information. We keep them
encrypted, with a key that is kept apart from the database, so a copy of the database alone
cannot be read. Only Dr. Brown, her staff and you can see them. We erase them
{retention_days} days after your consultation.

## Your data, your choice

Sign in to [My account]({sign_in}) with your email address to:

- **download your data:** one file with everything we hold about your email address;
- **delete your account:** we erase your name, addresses, phone number and health answers,
  cancel future consultations under the cancellation policy, take you off the newsletter,
  and show your comments as written by "a reader" or remove them, as you choose. The law
  asks us to keep the figures of each sale (items, amounts and dates), without your name
  or address. An order that is paid and waiting to ship must ship first (or you can ask
  us to cancel it), because we need your name and address to send it.

For both we email you a short code first, so that nobody else can do it for you.

## Questions

Reply to any email from us, or [write to us]({contact}), and a person will answer.
"""

_TERMS = """\
These terms apply when you buy from this site or book a consultation.

## Information, not medical advice

The articles, programs and consultations teach about bone health. They do not replace the
care of your own doctor. Please talk with your healthcare provider before you change your
medicines, diet or exercise.

## Orders

Prices are in US dollars. Your order is confirmed when your payment goes through and we
email you a receipt. See [Shipping and returns]({shipping}) for delivery and refunds.

## Consultations

You can move or cancel a consultation with the link in your confirmation email, up to
{free_change_hours} hours before it starts, for a full refund. Within {free_change_hours} hours of the start
we cannot refund or move it. The [consultations page]({booking}) shows the same policy
beside every booking.

## Your privacy

How we keep and use what you tell us is on our [privacy page]({privacy}).
"""

_SHIPPING = """\
## Shipping

We ship to the United States and Canada. Orders leave our office within two working days,
and you get an email when yours is on its way. The shipping cost is shown in your cart
before you pay.

Programs and downloads need no shipping: you get them by email right after payment.

## Returns

If something you bought is not right, send it back unused within 30 days and we refund
the price of the item. Please [write to us]({contact}) first so we can tell you where to
send it.

If an item arrives damaged, write to us within 14 days with a photo, and we send a new one
or refund you, as you prefer.
"""

_FIRST = {
    "about": ("About Dr. Susan E. Brown", _ABOUT),
    "contact": ("Contact us", _CONTACT),
    "privacy": ("Privacy: what we keep about you", _PRIVACY),
    "terms": ("Terms of sale and use", _TERMS),
    "shipping-returns": ("Shipping and returns", _SHIPPING),
}


def first_text(slug):
    """The page's words before staff have changed them: (title, Markdown)."""
    title, template = _FIRST[slug]
    return title, template.format(
        blog=url_for("blog.index"),
        booking=url_for("booking.index"),
        sign_in=url_for("account.sign_in"),
        contact=url_for("pages.contact"),
        privacy=url_for("pages.privacy"),
        shipping=url_for("pages.shipping_returns"),
        retention_days=current_app.config["INTAKE_RETENTION_DAYS"],
        # The booking policy's own number, so the Terms never promise another notice.
        free_change_hours=policy.FREE_CHANGE_HOURS,
    )


def stored_page(slug):
    return db.session.scalar(select(Page).where(Page.slug == slug))


def _first_page(slug):
    """An unsaved page holding the first text."""
    title, body_md = first_text(slug)
    return Page(
        slug=slug, title=title, body_md=body_md, body_html=sized_images(render_post(body_md))
    )


def page_for(slug):
    """The page to show: the stored one, or an unsaved one holding the first text."""
    return stored_page(slug) or _first_page(slug)


def all_pages():
    """Every page in footer order, stored or not (one query)."""
    stored = {page.slug: page for page in db.session.scalars(select(Page))}
    return [stored.get(slug) or _first_page(slug) for slug in SLUGS]


def save_page(slug, title, body_md, *, actor=None):
    """Store the page's new words (rendered and sanitised now) and clear its cached page.
    ``actor``: the staff account that wrote them (one audit entry), None for the demo
    seed. Flushes."""
    body_html = sized_images(render_post(body_md))  # reads the library: before the new row
    page = stored_page(slug)
    if page is None:
        page = Page(slug=slug)
        db.session.add(page)
    page.title = title
    page.body_md = body_md
    page.body_html = body_html
    page.updated_at = utcnow()
    db.session.flush()
    if actor is not None:
        record_staff_action(
            actor.id, "page.update", "page", page.id, {"slug": slug, "title": title}
        )
    invalidate_after_commit(PAGES_TAG, page_tag(slug))
    return page


def seed_pages():
    """Store the first text of every page not stored yet (the demo seed)."""
    for slug in SLUGS:
        if stored_page(slug) is None:
            save_page(slug, *first_text(slug))


# --- the author box -------------------------------------------------------------------------

# The media library's images are at /media/<id>-<digest>-<width>.<ext>.
_LIBRARY_IMAGE = re.compile(r"/media/([0-9]{1,9})-")
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)


@dataclass(frozen=True)
class AuthorProfile:
    """What the box under each post says about Dr. Brown, all from the About page, so it
    is written in one place: the page's title (the link's words), its first paragraph
    (her credentials, in a sentence or two) and its first picture (her photo), if any."""

    title: str
    summary: str
    photo: Picture | None


def _author_profile():
    about = page_for("about")
    summary = ""
    for paragraph in _PARAGRAPH.findall(about.body_html):
        summary = " ".join(Markup(paragraph).striptags().split())
        if summary:
            break
    photo = _LIBRARY_IMAGE.search(about.body_md)
    return AuthorProfile(
        title=about.title,
        summary=summary,
        photo=picture(int(photo[1])) if photo else None,
    )


def author_profile():
    """The About page's ``AuthorProfile``, kept in the cache until the page is edited."""
    return cached_value("pages:author", page_tags("about"), _author_profile)


def pages_using_image(image_id):
    """The About page, when it shows the media library's image ``image_id`` (its photo
    is also the author box's under every post), as the library names it."""
    about = stored_page("about")
    if about is None or f"/media/{image_id}-" not in about.body_md:
        return []
    return [f"the page “{about.title}” (and the author box under every post)"]
