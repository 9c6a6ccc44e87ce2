"""A confirmed signup gets one welcome email, in the practice's layout, with the blog's
address and her way to leave; a second click of the same link sends nothing more."""

import re

import sqlalchemy as sa

from blueprints.core.models import OutboxMessage
from extensions import db
from tests.conftest import html_part, text_part


def _sign_up(client, mailbox, address):
    client.post("/newsletter/", data={"email": address, "first_name": "Ruth"})
    message = mailbox.wait_for(1)[-1]
    return re.search(r"http://localhost(/newsletter/confirm/\S+)", text_part(message)).group(1)


def _welcomes(address):
    db.session.expire_all()
    return db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.to_address == address, OutboxMessage.subject.like("Welcome%")
        )
    ).all()


def test_confirming_sends_one_welcome_with_the_blog_and_the_way_to_leave(client, mailbox):
    link = _sign_up(client, mailbox, "ruth@example.com")
    assert _welcomes("ruth@example.com") == []

    assert client.post(link, data={}).status_code == 303

    welcome = mailbox.wait_for(2)[1]
    assert str(welcome["To"]) == "ruth@example.com"
    assert welcome["Subject"] == "Welcome to the Better Bones weekly blog"
    html, text = html_part(welcome), text_part(welcome)
    assert "Dear Ruth," in text and "Dear Ruth," in html
    assert "http://localhost/blog/" in text
    assert 'href="http://localhost/blog/"' in html
    assert "Better Bones \u2014 Dr. Susan E. Brown, PhD" in html
    assert "You get this email because you confirmed your signup" in html
    assert "You get this email because you confirmed your signup" in text
    leave = re.search(
        r"<(http://localhost/newsletter/unsubscribe/[^>]+)>", welcome["List-Unsubscribe"]
    )
    assert leave.group(1) in text and f'href="{leave.group(1)}"' in html
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_second_click_of_the_confirmation_link_sends_no_second_welcome(client, mailbox):
    link = _sign_up(client, mailbox, "ruth@example.com")
    client.post(link, data={})
    mailbox.wait_for(2)

    again = client.post(link, data={})

    assert again.status_code == 200
    assert "You are already signed up" in again.get_data(as_text=True)
    assert len(_welcomes("ruth@example.com")) == 1
    assert len(mailbox.messages) == 2


def test_an_expired_link_sends_no_welcome(client, mailbox):
    from blueprints.core.types import utcnow
    from blueprints.newsletter.models import Subscriber

    link = _sign_up(client, mailbox, "late@example.com")
    subscriber = db.session.scalar(sa.select(Subscriber).filter_by(email="late@example.com"))
    subscriber.confirm_token_expires_at = utcnow()
    db.session.commit()

    assert client.post(link, data={}).status_code == 400
    assert _welcomes("late@example.com") == []
