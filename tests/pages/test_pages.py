"""The practice's pages: first text, staff edits shown at once, safe Markdown, the
contact form (email to staff with Reply-To, honeypot, bad input, rate limit)."""

import re

import pytest
import sqlalchemy as sa

from blueprints.booking import policy
from blueprints.pages.content import save_page, seed_pages
from blueprints.pages.models import Page
from extensions import db
from tests.conftest import text_part
from tests.shop.conftest import add_to_cart, make_vest

PAGES = {
    "/about": "Dr. Susan E. Brown",
    "/contact": "Contact us",
    "/privacy": "encrypted",
    "/terms": "Terms of sale and use",
    "/shipping-returns": "Shipping and returns",
}


@pytest.fixture
def app_config():
    return {"PAGE_CACHE": True, "CACHE_TYPE": "SimpleCache", "CACHE_REDIS_URL": None}


@pytest.mark.parametrize(("url", "words"), PAGES.items())
def test_each_page_shows_its_first_text_before_anyone_edits_it(client, url, words):
    response = client.get(url)
    assert response.status_code == 200
    assert words in response.get_data(as_text=True)


def test_seeded_pages_are_stored_once_and_shown(client):
    with client.application.test_request_context("/"):
        seed_pages()
        seed_pages()
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Page)) == 5
    assert "erase them" in client.get("/privacy").get_data(as_text=True)


@pytest.mark.parametrize("hours", [None, 72])
def test_seeded_terms_state_the_consultation_policys_notice(client, monkeypatch, hours):
    """The Terms say what the booking page, its emails and its policy box say: the
    notice is the booking policy's, not a number of its own."""
    if hours is not None:
        monkeypatch.setattr(policy, "FREE_CHANGE_HOURS", hours)
    notice = policy.FREE_CHANGE_HOURS
    with client.application.test_request_context("/"):
        seed_pages()
    db.session.commit()
    terms = db.session.scalar(sa.select(Page).where(Page.slug == "terms")).body_md
    words = " ".join(terms.split())
    assert f"up to {notice} hours before it starts, for a full refund" in words
    assert f"Within {notice} hours of the start" in words
    assert f"up to {notice} hours before it starts" in policy.cancellation_policy()
    assert not any(f"{n} hours" in words for n in (24, 48, 72) if n != notice)
    page = " ".join(client.get("/terms").get_data(as_text=True).split())
    assert f"up to {notice} hours before it starts" in page


@pytest.mark.parametrize("url", PAGES)
def test_every_page_links_every_page_in_its_footer(client, url):
    page = client.get(url).get_data(as_text=True)
    for target in PAGES:
        assert f'href="{target}"' in page, (url, target)


def test_script_in_a_page_is_stripped_but_its_words_stay(client):
    with client.application.test_request_context("/"):
        save_page(
            "terms",
            "Terms",
            "Plain words.\n\n<script>alert(1)</script>\n\n[click](javascript:alert(1))",
        )
    db.session.commit()
    page = client.get("/terms").get_data(as_text=True)
    assert "Plain words." in page
    assert "<script>alert(1)" not in page
    assert 'href="javascript' not in page


def test_staff_edit_shows_on_the_cached_page_at_once(app, auth):
    reader = app.test_client()
    assert reader.get("/about").headers["X-Cache"] == "MISS"
    assert reader.get("/about").headers["X-Cache"] == "HIT"

    auth.login()
    response = auth._client.post(
        "/admin/pages/about",
        data={"title": "About Dr. Brown", "body_md": "## Her new story\n\nShe *loves* walking."},
    )
    assert response.status_code == 303

    page = reader.get("/about").get_data(as_text=True)
    assert "Her new story" in page
    assert "<em>loves</em>" in page
    assert "<title>About Dr. Brown |" in page
    sitemap = reader.get("/sitemap.xml").get_data(as_text=True)
    assert "/about" in sitemap and "/shipping-returns" in sitemap


def test_staff_edit_with_no_text_is_refused_with_what_was_typed(auth):
    auth.login()
    response = auth._client.post(
        "/admin/pages/terms", data={"title": "My terms typed", "body_md": "   "}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "My terms typed" in page
    assert "write the page" in page
    assert db.session.scalar(sa.select(Page).filter_by(slug="terms")) is None


def test_staff_see_every_page_in_the_list_and_unknown_pages_are_404(auth):
    auth.login()
    listing = auth._client.get("/admin/pages").get_data(as_text=True)
    for slug in ("about", "contact", "privacy", "terms", "shipping-returns"):
        assert f'href="/admin/pages/{slug}"' in listing
    assert auth._client.get("/admin/pages/secrets").status_code == 404


def test_readers_cannot_edit_a_page(client):
    assert client.get("/admin/pages/about").status_code in (302, 303)
    response = client.post("/admin/pages/about", data={"title": "Hacked", "body_md": "Hacked"})
    assert response.status_code in (302, 303, 403)
    assert db.session.scalar(sa.select(Page)) is None
    assert "Hacked" not in client.get("/about").get_data(as_text=True)


def _message(**overrides):
    data = {"name": "Ruth Okafor", "email": "ruth@example.com", "message": "Is the vest washable?"}
    data.update(overrides)
    return data


def test_a_message_reaches_every_staff_address_with_reply_to_her(client, staff_user, mailbox):
    response = client.post("/contact", data=_message())
    assert response.status_code == 303
    assert response.location == "/contact/sent"
    assert "Thank you for your message" in client.get(response.location).get_data(as_text=True)

    (message,) = mailbox.wait_for(1)
    assert message["To"] == staff_user.email
    assert message["Reply-To"] == "Ruth Okafor <ruth@example.com>"
    assert "Ruth Okafor" in message["Subject"]
    assert "Is the vest washable?" in text_part(message)


def test_filled_honeypot_gets_the_thank_you_page_and_sends_nothing(client, staff_user, mailbox):
    response = client.post("/contact", data=_message(website="http://spam.example"))
    assert response.status_code == 303
    assert response.location == "/contact/sent"
    page = client.get(response.location).get_data(as_text=True)
    assert "Thank you for your message" in page
    assert "Is the address wrong?" not in page  # no correction of a message never sent
    assert mailbox.messages == []


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("email", "not-an-email", "check your email address"),
        ("name", "", "tell us your name"),
        ("message", "", "write your message"),
        ("message", "x" * 5001, "under 5,000 characters"),
        ("name", "Ruth\nBcc: everyone@example.com", "one line"),
    ],
)
def test_bad_input_is_refused_with_what_she_typed(client, staff_user, mailbox, field, value, words):
    data = _message(**{field: value})
    response = client.post("/contact", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert words in page
    assert "Is the vest washable?" in page or field == "message"
    assert mailbox.messages == []


def test_contact_form_is_rate_limited(client, staff_user, mailbox):
    codes = [client.post("/contact", data=_message()).status_code for _ in range(6)]
    assert codes[:5] == [303] * 5
    assert codes[5] == 429


def test_refused_messages_do_not_count_toward_the_limit(client, staff_user, mailbox):
    for _ in range(5):
        assert client.post("/contact", data=_message(email="ruth@")).status_code == 400
    assert client.post("/contact", data=_message()).status_code == 303
    assert len(mailbox.wait_for(1)) == 1


def test_past_the_limit_her_message_comes_back_in_the_form(client, staff_user, mailbox):
    for n in range(5):
        client.post("/contact", data=_message(message=f"Question {n}"))
    refused = client.post("/contact", data=_message(message="My long question & more."))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "not sent yet" in html and "Please wait" in html
    assert "My long question &amp; more.</textarea>" in html
    assert 'value="ruth@example.com"' in html and 'value="Ruth Okafor"' in html


def test_the_thank_you_page_shows_her_address_and_takes_a_correction(client, staff_user, mailbox):
    response = client.post("/contact", data=_message(email="ruth@exmaple.com"))
    assert response.location == "/contact/sent"  # no address in the URL
    page = client.get("/contact/sent")
    html = page.get_data(as_text=True)
    assert "We will answer to <strong>ruth@exmaple.com</strong>" in html
    assert "no-store" in page.headers["Cache-Control"]
    assert page.headers.get("X-Cache") != "HIT"
    assert "Is the address wrong?" in html
    token = re.search(r'name="sent" type="hidden" value="([^"]+)"', html).group(1)
    mailbox.wait_for(1)

    corrected = client.post(
        "/contact/sent/correct", data={"sent": token, "email": "ruth@example.com"}
    )
    assert corrected.status_code == 303
    assert corrected.location == "/contact/sent"
    html = client.get("/contact/sent").get_data(as_text=True)
    assert "We will answer to <strong>ruth@example.com</strong>" in html
    [_, note] = mailbox.wait_for(2)
    assert note["To"] == staff_user.email
    assert note["Reply-To"] == "Ruth Okafor <ruth@example.com>"
    text = text_part(note)
    assert "ruth@exmaple.com" in text and "ruth@example.com" in text
    # Shown once: another reader of the page, or a reload, sees no address.
    assert "ruth@" not in client.get("/contact/sent").get_data(as_text=True)


def test_a_correction_needs_the_signed_note_of_her_message(client, staff_user, mailbox):
    for sent in ("", "forged.token", None):
        data = {"email": "ruth@example.com"} | ({"sent": sent} if sent is not None else {})
        response = client.post("/contact/sent/correct", data=data)
        assert response.status_code == 400
    assert mailbox.messages == []


def test_a_mistyped_correction_is_refused_with_what_she_typed(client, staff_user, mailbox):
    client.post("/contact", data=_message(email="ruth@exmaple.com"))
    html = client.get("/contact/sent").get_data(as_text=True)
    token = re.search(r'name="sent" type="hidden" value="([^"]+)"', html).group(1)
    refused = client.post("/contact/sent/correct", data={"sent": token, "email": "ruth@"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "check your email address" in page
    assert 'value="ruth@"' in page and "ruth@exmaple.com" in page
    assert "no-store" in refused.headers["Cache-Control"]


def test_the_cart_links_to_shipping_returns_and_terms(client):
    vest = make_vest()
    add_to_cart(client, vest.variants[0])
    page = client.get("/cart").get_data(as_text=True)
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    assert 'href="/shipping-returns"' in main
    assert 'href="/terms"' in main
