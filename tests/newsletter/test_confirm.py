"""Double opt-in: the link shows a button, only the POST confirms, tokens are single-use."""

import hashlib
import re
from datetime import timedelta

import sqlalchemy as sa

from blueprints.core.models import OutboxMessage
from blueprints.core.types import utcnow
from blueprints.newsletter.models import Subscriber, SubscriberStatus
from extensions import db
from tests.conftest import html_part, text_part


def _signup_and_read_link(client, mailbox, address="reader@example.com"):
    client.post("/newsletter/", data={"email": address, "first_name": "Ruth"})
    message = mailbox.wait_for(1)[-1]
    link = re.search(r"http://localhost(/newsletter/confirm/\S+)", text_part(message)).group(1)
    assert link in html_part(message)
    return link


def _subscriber(address="reader@example.com"):
    db.session.expire_all()
    return db.session.scalar(sa.select(Subscriber).filter_by(email=address))


def test_following_the_link_confirms_nobody_until_the_button_is_pressed(client, mailbox):
    link = _signup_and_read_link(client, mailbox)

    page = client.get(link)
    assert page.status_code == 200
    assert "Confirm my signup" in page.get_data(as_text=True)
    assert '<meta name="referrer" content="no-referrer">' in page.get_data(as_text=True)
    assert _subscriber().status == SubscriberStatus.PENDING

    response = client.post(link, data={})
    assert response.status_code == 303
    assert response.location == "/newsletter/welcome"
    subscriber = _subscriber()
    assert subscriber.status == SubscriberStatus.CONFIRMED
    assert subscriber.confirmed_at is not None
    # Used up: no expiry left to wait for; its hash stays so the link can say she is in.
    assert subscriber.confirm_token_expires_at is None
    assert (
        subscriber.confirm_token_hash == hashlib.sha256(link.rsplit("/", 1)[1].encode()).hexdigest()
    )


def test_token_is_long_random_and_only_its_hash_is_stored(client, mailbox):
    link = _signup_and_read_link(client, mailbox)
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 22  # 128 bits in URL-safe base64
    stored = _subscriber().confirm_token_hash
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored


def test_reopening_a_used_link_says_she_is_already_signed_up(client, mailbox):
    link = _signup_and_read_link(client, mailbox)
    assert client.post(link, data={}).status_code == 303
    mailbox.wait_for(2)  # the confirmation, then the welcome

    for response in (client.get(link), client.post(link, data={}), client.get(link)):
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "You are already signed up" in html
        assert "This link does not work" not in html
        assert "Confirm my signup</button>" not in html
    assert _subscriber().status == SubscriberStatus.CONFIRMED
    db.session.expire_all()
    queued = db.session.scalars(sa.select(OutboxMessage.subject).order_by(OutboxMessage.id)).all()
    assert len(queued) == 2 and queued[1].startswith("Welcome")  # no second welcome


def test_reopening_a_used_link_while_paused_says_so(client, mailbox):
    link = _signup_and_read_link(client, mailbox)
    client.post(link, data={})
    subscriber = _subscriber()
    subscriber.paused_until = utcnow() + timedelta(weeks=2)
    db.session.commit()
    html = client.get(link).get_data(as_text=True)
    assert "You are already signed up" in html
    assert "paused until" in html


def test_reused_token_gives_a_clear_400_and_changes_nothing(client, mailbox):
    link = _signup_and_read_link(client, mailbox)
    client.post(link, data={})
    subscriber = _subscriber()
    subscriber.status = SubscriberStatus.UNSUBSCRIBED  # left afterwards
    subscriber.unsubscribed_at = utcnow()
    db.session.commit()

    for response in (client.get(link), client.post(link, data={})):
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "This link does not work" in html
        # She left: never tell her she is on the list.
        assert "on the list" not in html and "already signed up" not in html
    assert _subscriber().status == SubscriberStatus.UNSUBSCRIBED


def test_altered_token_gives_a_clear_400_and_changes_nothing(client, mailbox):
    link = _signup_and_read_link(client, mailbox)
    altered = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    assert client.get(altered).status_code == 400
    response = client.post(altered, data={})
    assert response.status_code == 400
    assert "has already been used" in response.get_data(as_text=True)
    assert _subscriber().status == SubscriberStatus.PENDING


def test_expired_token_refuses_to_confirm_and_offers_a_fresh_link(client, mailbox):
    link = _signup_and_read_link(client, mailbox)
    subscriber = _subscriber()
    subscriber.confirm_token_expires_at = utcnow() - timedelta(minutes=1)
    subscriber.confirm_sent_at = utcnow() - timedelta(hours=49)
    db.session.commit()

    page = client.get(link)
    assert page.status_code == 400
    assert "This link has expired" in page.get_data(as_text=True)
    assert "Send me a new link" in page.get_data(as_text=True)
    assert client.post(link, data={}).status_code == 400
    assert _subscriber().status == SubscriberStatus.PENDING

    assert client.post(link + "/resend", data={}).status_code == 303
    fresh = mailbox.wait_for(2)[-1]
    new_link = re.search(r"http://localhost(/newsletter/confirm/\S+)", text_part(fresh)).group(1)
    assert new_link != link
    assert client.get(link).status_code == 400  # the old token is gone
    assert client.post(new_link, data={}).status_code == 303
    assert _subscriber().status == SubscriberStatus.CONFIRMED


def test_confirm_post_without_csrf_is_refused(client, mailbox):
    link = _signup_and_read_link(client, mailbox)
    assert client.post(link, data={}, csrf=False).status_code == 400
    assert _subscriber().status == SubscriberStatus.PENDING


def test_unsubscribed_reader_can_sign_up_again_with_confirmation(client, mailbox):
    from tests.factories import make_subscriber

    make_subscriber(
        "back@example.com",
        status=SubscriberStatus.UNSUBSCRIBED,
        unsubscribed_at=utcnow() - timedelta(days=10),
    )
    link = _signup_and_read_link(client, mailbox, "back@example.com")
    assert _subscriber("back@example.com").status == SubscriberStatus.UNSUBSCRIBED
    client.post(link, data={})
    assert _subscriber("back@example.com").status == SubscriberStatus.CONFIRMED
