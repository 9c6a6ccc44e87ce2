"""In Chromium at a desktop and a phone width: staff reply to a waiting comment from the
queue and the reader sees the reply with the Author badge and gets one email; the owner's
staff and audit pages (and the invitation page) have no axe-core violations."""

import re

import pytest
from playwright.sync_api import expect

from blueprints.account.services import create_staff
from blueprints.blog.models import DEFAULT_AUTHOR, Comment, CommentStatus, Post, PostStatus
from blueprints.core.audit import record_staff_action
from blueprints.core.markdown import render_comment, render_post
from blueprints.core.types import utcnow
from extensions import db
from tests.browser.conftest import assert_accessible
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD, text_part

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
QUESTION = "Is walking enough for my hips, or should I add weights?"
ANSWER = "Walking helps. Add light weights twice a week."


@pytest.fixture
def waiting_question(app):
    owner = create_staff(STAFF_EMAIL, STAFF_PASSWORD, name="Susan Brown")
    create_staff("amy@betterbones.example", "an assistant's passphrase", role="assistant")
    post = Post(
        title="Walking for stronger hips",
        slug="walking-for-stronger-hips",
        summary="Why steps count.",
        body_md="Walk every day.",
        body_html=render_post("Walk every day."),
        status=PostStatus.PUBLISHED,
        published_at=utcnow(),
    )
    db.session.add(post)
    db.session.add(
        Comment(
            post=post,
            author_name="Dorothy Miller",
            author_email="dorothy@example.com",
            body_md=QUESTION,
            body_html=render_comment(QUESTION),
            status=CommentStatus.PENDING,
        )
    )
    db.session.flush()
    record_staff_action(owner.id, "post.publish", "post", post.id, {"title": post.title})
    db.session.commit()
    slug = post.slug
    db.session.close()  # the live server's threads use their own sessions
    return slug


def _sign_in(page, path):
    page.goto(path)
    page.get_by_role("main").get_by_label("Email address").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{path}")


@pytest.mark.parametrize("width", WIDTHS)
def test_reply_from_the_queue_shows_on_the_post_and_emails_the_reader_once(
    page, waiting_question, mailbox, width
):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    _sign_in(page, "/admin/comments")
    page.get_by_role("link", name="Reply to Dorothy Miller").click()
    expect(page.locator("main")).to_contain_text(QUESTION)
    assert_accessible(page)
    page.get_by_label("Your reply").fill(ANSWER)
    page.get_by_role("button", name="Publish reply").click()
    page.wait_for_url("**/admin/comments")
    assert f"published as {DEFAULT_AUTHOR}" in page.get_by_role("status").first.inner_text()

    page.goto(f"/blog/{waiting_question}")
    comments = page.locator("#comments")
    assert QUESTION in comments.inner_text()  # replying published the question
    reply = comments.locator("li", has_text=ANSWER).last
    assert DEFAULT_AUTHOR in reply.inner_text() and "Author" in reply.inner_text()

    [message] = mailbox.wait_for(1)
    assert message["To"] == "dorothy@example.com"
    assert ANSWER in text_part(message)

    # The reader follows the email's link to stop such emails.
    stop = re.search(r"https?://[^/\s]+(/blog/reply-emails/\S+)", text_part(message)).group(1)
    page.context.clear_cookies()
    page.goto(stop)
    assert_accessible(page)
    page.get_by_role("button", name="Stop these emails").click()
    expect(page.locator("main")).to_contain_text("No more emails about replies")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_owner_pages_have_no_axe_violations(page, waiting_question, mailbox, width):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    _sign_in(page, "/admin/staff")
    assert "amy@betterbones.example" in page.locator("main").inner_text()
    assert_accessible(page)

    page.get_by_label("Their email address").fill("not an address")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator("main")).to_contain_text("Enter an email address like name@example.com.")
    assert_accessible(page)

    page.get_by_label("Their email address").fill("nell@example.com")
    page.get_by_role("button", name="Send the invitation").click()
    page.wait_for_url("**/admin/staff")
    assert "Invitation sent to nell@example.com." in page.get_by_role("status").first.inner_text()
    [message] = mailbox.wait_for(1)
    link = re.search(r"https?://[^/\s]+(/admin/invitation/\S+)", text_part(message)).group(1)

    page.goto("/admin/audit")
    assert "staff.invite" in page.locator("main").inner_text()
    assert_accessible(page)

    page.context.clear_cookies()
    page.goto(link)
    assert "nell@example.com" in page.locator("main").inner_text()
    assert_accessible(page)
