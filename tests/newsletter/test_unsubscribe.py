"""Leaving: one-click POST (RFC 8058) with no session, a page with leave and pause."""

from datetime import timedelta

import sqlalchemy as sa

from blueprints.core.types import utcnow
from blueprints.newsletter.links import unsubscribe_token
from blueprints.newsletter.models import Subscriber, SubscriberStatus
from extensions import db
from tests.factories import make_subscriber


def _reload(subscriber_id):
    db.session.expire_all()
    return db.session.get(Subscriber, subscriber_id)


def test_one_click_post_needs_no_session_or_csrf_and_is_safe_to_repeat(app):
    subscriber = make_subscriber("leaver@example.com")
    url = f"/newsletter/unsubscribe/{unsubscribe_token(subscriber.id)}"
    fresh_client = app.test_client()  # no cookie, no CSRF token: like a mail provider
    first = fresh_client.post(url, data={"List-Unsubscribe": "One-Click"}, csrf=False)
    assert first.status_code == 200
    left_at = _reload(subscriber.id).unsubscribed_at
    assert _reload(subscriber.id).status == SubscriberStatus.UNSUBSCRIBED

    again = app.test_client().post(url, data={"List-Unsubscribe": "One-Click"}, csrf=False)
    assert again.status_code == 200
    assert _reload(subscriber.id).unsubscribed_at == left_at


def test_unsubscribe_page_get_changes_nothing_and_offers_leave_and_pause(client):
    subscriber = make_subscriber("reader@example.com")
    page = client.get(f"/newsletter/unsubscribe/{unsubscribe_token(subscriber.id)}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Unsubscribe</button>" in html and "Pause for 4 weeks</button>" in html
    assert html.count('name="csrf_token"') >= 3  # both buttons and the footer form
    assert _reload(subscriber.id).status == SubscriberStatus.CONFIRMED


def test_leave_button_is_csrf_protected_and_unsubscribes(client):
    subscriber = make_subscriber("reader@example.com")
    url = f"/newsletter/unsubscribe/{unsubscribe_token(subscriber.id)}/leave"
    assert client.post(url, data={}, csrf=False).status_code == 400
    assert _reload(subscriber.id).status == SubscriberStatus.CONFIRMED
    response = client.post(url, data={})
    assert response.status_code == 303
    assert client.get(response.location).status_code == 200
    assert _reload(subscriber.id).status == SubscriberStatus.UNSUBSCRIBED


def test_pause_button_pauses_for_four_weeks_and_keeps_the_subscription(client):
    subscriber = make_subscriber("reader@example.com")
    url = f"/newsletter/unsubscribe/{unsubscribe_token(subscriber.id)}/pause"
    assert client.post(url, data={}, csrf=False).status_code == 400
    assert _reload(subscriber.id).paused_until is None
    assert client.post(url, data={}).status_code == 303
    paused = _reload(subscriber.id)
    assert paused.status == SubscriberStatus.CONFIRMED
    assert abs(paused.paused_until - (utcnow() + timedelta(weeks=4))) < timedelta(minutes=1)


def test_altered_unsubscribe_token_gives_400_and_changes_nothing(client):
    subscriber = make_subscriber("reader@example.com")
    token = unsubscribe_token(subscriber.id)
    other = make_subscriber("other@example.com")
    forged = unsubscribe_token(other.id).split(".")[0] + "." + token.split(".")[1]
    for bad in (token[:-2] + "xx", forged, "nonsense"):
        response = client.post(f"/newsletter/unsubscribe/{bad}", data={}, csrf=False)
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "This link does not work" in html
        assert "on the list" not in html  # we cannot tell whose it was: no state claimed
        assert client.get(f"/newsletter/unsubscribe/{bad}").status_code == 400
    statuses = db.session.scalars(sa.select(Subscriber.status)).all()
    assert statuses == [SubscriberStatus.CONFIRMED, SubscriberStatus.CONFIRMED]


def test_token_signed_with_another_secret_is_refused(app, client):
    from itsdangerous import URLSafeSerializer

    subscriber = make_subscriber("reader@example.com")
    foreign = URLSafeSerializer("another-secret", salt="newsletter-unsubscribe").dumps(
        subscriber.id
    )
    assert client.post(f"/newsletter/unsubscribe/{foreign}", data={}, csrf=False).status_code == 400
    assert _reload(subscriber.id).status == SubscriberStatus.CONFIRMED


def test_the_link_of_a_subscription_since_deleted_says_plainly_it_is_gone(app, client):
    """Her account was deleted (and her row with it): her old emails' link must not say
    she is on the list, nor offer to unsubscribe."""
    from blueprints.newsletter.privacy import erase_subscriber_of

    subscriber = make_subscriber("gone@example.com")
    url = f"/newsletter/unsubscribe/{unsubscribe_token(subscriber.id)}"
    erase_subscriber_of("gone@example.com")
    db.session.commit()

    one_click = app.test_client().post(url, data={"List-Unsubscribe": "One-Click"}, csrf=False)
    for response in (client.get(url), one_click, client.post(url + "/leave", data={})):
        html = response.get_data(as_text=True)
        assert response.status_code == 404
        assert "This subscription no longer exists" in html
        assert "we send nothing through it" in html
        assert "on the list" not in html and "Unsubscribe</button>" not in html
    assert db.session.scalars(sa.select(Subscriber)).all() == []
