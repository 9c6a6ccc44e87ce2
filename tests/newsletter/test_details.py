"""Smaller promises: non-ASCII names and subjects, mail logged without a server, the
demo seed, and addresses that need care."""

import logging

import sqlalchemy as sa

from blueprints.core.types import utcnow
from blueprints.newsletter.models import DeliveryStatus, NewsletterDelivery, Subscriber
from blueprints.newsletter.seed import seed
from blueprints.newsletter.sending import send_weekly
from extensions import db, mail
from tests.conftest import html_part, text_part
from tests.factories import make_subscriber
from tests.newsletter.conftest import make_post


def test_non_ascii_names_and_titles_arrive_intact_in_both_parts(app, smtp):
    make_subscriber("zoe@example.com", first_name="Zoë <b>")
    make_post("Café au lait & bone density", published_at=utcnow())
    send_weekly()
    message = smtp.wait_for(1)[0]
    assert message["Subject"] == "Better Bones weekly: Café au lait & bone density"
    assert "Dear Zoë <b>," in text_part(message)
    assert "Dear Zoë &lt;b&gt;," in html_part(message)  # escaped in HTML
    assert "Café au lait &amp; bone density" in html_part(message)


def test_without_a_mail_server_the_issue_is_logged_and_marked_sent(app, caplog):
    app.config["MAIL_SERVER"] = None
    mail.init_app(app)
    make_subscriber("reader@example.com")
    make_post("News")
    with caplog.at_level(logging.INFO, logger="blueprints.newsletter.sending"):
        report = send_weekly()
    assert report.sent == 1 and report.finished
    assert "reader@example.com" in caplog.text
    assert db.session.scalar(sa.select(NewsletterDelivery.status)) == DeliveryStatus.SENT


def test_demo_seed_is_idempotent(app):
    seed()
    db.session.commit()
    first = db.session.scalar(sa.select(sa.func.count()).select_from(Subscriber))
    seed()
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscriber)) == first
    assert first >= 5


def test_international_domain_is_stored_in_its_ascii_form(client, mailbox):
    client.post("/newsletter/", data={"email": "anna@bücher.example"})
    stored = db.session.scalar(sa.select(Subscriber.email))
    assert stored == "anna@xn--bcher-kva.example"
    assert mailbox.wait_for(1)[0]["To"] == stored


def test_first_name_with_a_line_break_is_refused(client, mailbox):
    response = client.post(
        "/newsletter/", data={"email": "ann@example.com", "first_name": "Ann\r\nBcc: x@y.z"}
    )
    assert response.status_code == 400
    assert "letters only" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscriber)) == 0
