"""Signing up: one answer for everyone, one email a day at most, bots turned away."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from blueprints.core.types import utcnow
from blueprints.newsletter.models import Subscriber, SubscriberStatus
from extensions import db
from tests.conftest import text_part
from tests.factories import make_subscriber


def _subscribers():
    return db.session.scalars(sa.select(Subscriber)).all()


def _page_without_token(response):
    return re.sub(rb'name="csrf_token" value="[^"]+"', b"", response.data)


def test_new_pending_and_confirmed_addresses_get_the_same_answer(client, mailbox):
    confirmed = make_subscriber("kept@example.com", first_name="Kate")
    confirmed_at = confirmed.confirmed_at
    make_subscriber(
        "waiting@example.com", status=SubscriberStatus.PENDING, confirm_sent_at=utcnow()
    )

    answers, pages = [], []
    for address in ("new@example.com", "waiting@example.com", "kept@example.com"):
        answers.append(
            client.post("/newsletter/", data={"email": address, "first_name": "Someone"})
        )
        # Each page shows the address typed (so she can spot a typo), and nothing else
        # that differs: it never tells whether the address was on the list.
        page = _page_without_token(client.get(answers[-1].location))
        pages.append(page.replace(address.encode(), b"ADDRESS"))

    assert {(r.status_code, r.location) for r in answers} == {(303, "/newsletter/check-your-inbox")}
    assert b"<strong>ADDRESS</strong>" in pages[0]
    assert pages[0] == pages[1] == pages[2]
    # The new address gets its link; the confirmed one a note that it is already on the
    # list (no link); the pending one nothing, as it had its email today.
    messages = {str(m["To"]): text_part(m) for m in mailbox.wait_for(2)}
    assert sorted(messages) == ["kept@example.com", "new@example.com"]
    assert "/newsletter/confirm/" in messages["new@example.com"]
    assert "/newsletter/confirm/" not in messages["kept@example.com"]
    assert "already on the list" in messages["kept@example.com"]
    db.session.expire_all()
    kept = db.session.scalar(sa.select(Subscriber).filter_by(email="kept@example.com"))
    assert kept.status == SubscriberStatus.CONFIRMED
    assert kept.first_name == "Kate"
    assert kept.confirmed_at == confirmed_at
    assert kept.confirm_token_hash is None


def test_at_most_one_confirmation_email_per_address_per_day(client, mailbox):
    for _ in range(3):
        client.post("/newsletter/", data={"email": "Ann@Example.com"})
    client.post("/newsletter/", data={"email": "ann@example.com"})  # same person, other case
    mailbox.wait_for(1)
    assert len(mailbox.messages) == 1
    assert len(_subscribers()) == 1

    subscriber = _subscribers()[0]
    subscriber.confirm_sent_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    client.post("/newsletter/", data={"email": "ann@example.com"})
    mailbox.wait_for(2)
    assert len(mailbox.messages) == 2


def test_filled_honeypot_gets_the_same_page_but_no_row_and_no_email(client, mailbox):
    response = client.post(
        "/newsletter/", data={"email": "bot@example.com", "website": "http://spam.example"}
    )
    assert response.status_code == 303
    assert response.location == "/newsletter/check-your-inbox"
    assert _subscribers() == []
    assert mailbox.messages == []


def test_signup_rate_limit_answers_429_past_the_limit(client, mailbox):
    codes = [
        client.post("/newsletter/", data={"email": f"p{i}@example.com"}).status_code
        for i in range(6)
    ]
    assert codes[:5] == [303] * 5
    assert codes[5] == 429
    assert len(_subscribers()) == 5


def test_refused_signups_do_not_count_toward_the_limit(client, mailbox):
    for typed in ("ann@", "not-an-email", "", "ann@example", "ann@@example.com"):
        assert client.post("/newsletter/", data={"email": typed}).status_code == 400
    response = client.post("/newsletter/", data={"email": "ann@example.com"})
    assert response.status_code == 303
    assert len(_subscribers()) == 1


def test_past_the_limit_the_form_comes_back_with_what_she_typed(client, mailbox):
    for i in range(5):
        client.post("/newsletter/", data={"email": f"p{i}@example.com"})
    refused = client.post("/newsletter/", data={"email": "ruth@example.com", "first_name": "Ruth"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "not signed up yet" in html and "Please wait a minute" in html
    assert 'value="ruth@example.com"' in html and 'value="Ruth"' in html
    assert len(_subscribers()) == 5


def test_check_your_inbox_shows_the_address_she_typed_with_a_way_to_correct_it(client, mailbox):
    typed = "ruth.okafor@exmaple.com"  # a typo she can now spot
    response = client.post("/newsletter/", data={"email": f" {typed} ", "first_name": "Ruth"})
    assert response.status_code == 303
    assert response.location == "/newsletter/check-your-inbox"  # no address in the URL

    page = client.get(response.location)
    html = page.get_data(as_text=True)
    assert f"<strong>{typed}</strong>" in html
    assert "no-store" in page.headers["Cache-Control"]
    # The signup form, filled in with what she typed, to send it again corrected.
    assert "Is the address wrong?" in html
    form = html[html.index('id="correct-email"') - 400 :]
    assert f'value="{typed}"' in form and 'value="Ruth"' in form

    # Shown once: the address is not kept in her session afterwards.
    again = client.get(response.location).get_data(as_text=True)
    assert typed not in again
    assert "Please check your inbox" in again

    client.post("/newsletter/", data={"email": "ruth.okafor@example.com", "first_name": "Ruth"})
    fixed = client.get("/newsletter/check-your-inbox").get_data(as_text=True)
    assert "<strong>ruth.okafor@example.com</strong>" in fixed
    assert sorted(str(m["To"]) for m in mailbox.wait_for(2)) == [
        "ruth.okafor@example.com",
        typed,
    ]


def test_signup_without_csrf_token_is_refused(client, mailbox):
    response = client.post("/newsletter/", data={"email": "a@example.com"}, csrf=False)
    assert response.status_code == 400
    assert _subscribers() == []


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("not-an-email", "full email address"),
        ("ann@", "full email address"),
        ("", "enter your email"),
        ("a" * 245 + "@example.com", "too long"),
        ("ann@example.com\r\nBcc: victim@example.com", "line breaks"),
        ("ann@example.com\nX-Injected: yes", "line breaks"),
    ],
)
def test_bad_addresses_are_refused_with_a_clear_message(client, mailbox, address, message):
    response = client.post("/newsletter/", data={"email": address, "first_name": "Ann"})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert 'value="Ann"' in response.get_data(as_text=True)  # what was typed stays
    assert _subscribers() == []
    assert mailbox.messages == []


def test_signup_page_and_footer_forms_have_unique_ids(client):
    html = client.get("/newsletter/").get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert 'id="signup-email"' in html and 'id="footer-signup-email"' in html
    assert "one click" in html  # the consent sentence says how to leave


def test_footer_form_on_other_pages_posts_to_the_signup(client):
    html = client.get("/").get_data(as_text=True)
    assert 'action="/newsletter/"' in html
    assert 'name="csrf_token"' in html
    assert 'name="website"' in html
