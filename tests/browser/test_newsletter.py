"""The newsletter in a real browser: sign up from the footer, confirm from the email,
unsubscribe; axe finds nothing on any newsletter page, public or staff."""

import hashlib
import re
from datetime import timedelta

import sqlalchemy as sa

from blueprints.core.types import utcnow
from blueprints.newsletter.links import unsubscribe_token
from blueprints.newsletter.models import Subscriber, SubscriberStatus
from blueprints.newsletter.sending import send_weekly
from extensions import db
from tests.browser.conftest import assert_accessible
from tests.conftest import text_part
from tests.factories import make_subscriber
from tests.newsletter.conftest import make_post


def _status(address):
    db.session.expire_all()
    return db.session.scalar(sa.select(Subscriber.status).filter_by(email=address))


def test_sign_up_from_footer_confirm_from_email_then_unsubscribe(page, live_server, mailbox):
    page.goto("/")
    footer = page.locator("footer form.newsletter-signup")
    footer.get_by_label("Email address").fill("joan@example.com")
    footer.get_by_label("First name").fill("Joan")
    footer.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", level=1, name="Please check your inbox").wait_for()
    # The address she typed, to spot a typo, and the form to send it again corrected.
    assert "joan@example.com" in page.locator("main .lead").inner_text()
    assert page.locator("#correct-email").input_value() == "joan@example.com"
    assert_accessible(page)

    confirmation = mailbox.wait_for(1)[0]
    link = re.search(r"(http://127\.0\.0\.1:\d+/newsletter/confirm/\S+)", text_part(confirmation))
    page.goto(link.group(1))
    page.get_by_role("heading", level=1, name="Confirm your signup").wait_for()
    assert _status("joan@example.com") == SubscriberStatus.PENDING  # opening confirms nobody
    assert_accessible(page)
    page.get_by_role("button", name="Confirm my signup").click()
    page.get_by_role("heading", level=1, name="Thank you, you are signed up").wait_for()
    assert_accessible(page)
    assert _status("joan@example.com") == SubscriberStatus.CONFIRMED
    page.goto(link.group(1))  # the same link again, from the email
    page.get_by_role("heading", level=1, name="You are already signed up").wait_for()
    assert_accessible(page)

    make_post("Yoga for strong hips", published_at=utcnow() - timedelta(minutes=5))
    assert send_weekly().sent == 1
    issue = mailbox.wait_for(2)[1]
    unsubscribe = re.search(
        r"(http://127\.0\.0\.1:\d+/newsletter/unsubscribe/\S+)", text_part(issue)
    )
    page.goto(unsubscribe.group(1))
    page.get_by_role("heading", level=1, name="Leave or pause the weekly newsletter").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", level=1, name="You have left the newsletter").wait_for()
    assert_accessible(page)
    assert _status("joan@example.com") == SubscriberStatus.UNSUBSCRIBED


def test_signup_page_and_its_error_state_have_no_axe_violations(page):
    page.goto("/newsletter/")
    assert_accessible(page)
    page.locator("main form.newsletter-signup").get_by_label("Email address").fill("not an email")
    page.locator("main form.newsletter-signup").get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="Please check the form").wait_for()
    assert page.locator("#signup-email").get_attribute("aria-invalid") == "true"
    assert page.locator("#signup-email").input_value() == "not an email"
    assert_accessible(page)


def test_link_pages_and_pause_have_no_axe_violations(page, app, mailbox):
    page.goto("/newsletter/confirm/not-a-real-token")
    page.get_by_role("heading", level=1, name="This link does not work").wait_for()
    assert_accessible(page)

    make_subscriber(
        "late@example.com",
        status=SubscriberStatus.PENDING,
        confirm_token_hash=hashlib.sha256(b"old-token-value").hexdigest(),
        confirm_token_expires_at=utcnow() - timedelta(hours=1),
        confirm_sent_at=utcnow() - timedelta(hours=49),
    )
    page.goto("/newsletter/confirm/old-token-value")
    page.get_by_role("heading", level=1, name="This link has expired").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Send me a new link").click()
    page.get_by_role("heading", level=1, name="Please check your inbox").wait_for()
    assert mailbox.wait_for(1)[0]["To"] == "late@example.com"

    reader = make_subscriber("rest@example.com")
    page.goto(f"/newsletter/unsubscribe/{unsubscribe_token(reader.id)}")
    page.get_by_role("button", name="Pause for 4 weeks").click()
    page.get_by_role("heading", level=1, name="Your newsletter is paused for 4 weeks").wait_for()
    assert_accessible(page)
    db.session.expire_all()
    assert db.session.get(Subscriber, reader.id).paused_until > utcnow()


def test_staff_newsletter_pages_have_no_axe_violations(app, staff_user, page, live_server):
    make_subscriber("one@example.com", first_name="Ona")
    make_subscriber("two@example.com", status=SubscriberStatus.PENDING)
    make_post("Protein and bones", published_at=utcnow() - timedelta(hours=2))

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = staff_user.get_id()
        session["_fresh"] = True
    cookie = client.get_cookie("session")
    page.context.add_cookies([{"name": "session", "value": cookie.value, "url": live_server.url}])

    page.goto("/admin/newsletter/preview")
    page.get_by_role("heading", level=1, name="Preview of the next issue").wait_for()
    assert page.get_by_text("Protein and bones").first.is_visible()
    assert_accessible(page)

    page.goto("/admin/newsletter")
    page.get_by_role("heading", level=1, name="Newsletter").wait_for()
    assert_accessible(page)

    send_weekly()
    page.goto("/admin/newsletter")
    assert page.get_by_role("rowheader", name=re.compile("Protein and bones")).is_visible()
    assert_accessible(page)
