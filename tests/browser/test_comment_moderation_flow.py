"""The whole comment journey across the public blog and the staff area, in Chromium:
a visitor comments on the seed post and is told it awaits moderation; staff sign in and
approve it; the visitor, reloading the post, now sees it."""

import pytest
from playwright.sync_api import expect

from blueprints.blog.seed import SPINE_SLUG, seed
from extensions import db
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD

COMMENT = "The posture tip helped my back already. Thank you, Dr. Brown!"


@pytest.fixture
def seeded(app, staff_user):
    seed()
    db.session.commit()
    db.session.close()  # the live server's threads use their own sessions


def test_visitor_comment_is_held_then_shown_once_staff_approve_it(browser, live_server, seeded):
    visitor = browser.new_context(base_url=live_server.url).new_page()
    staff = browser.new_context(base_url=live_server.url).new_page()

    visitor.goto(f"/blog/{SPINE_SLUG}")
    visitor.get_by_label("Your name").fill("Dorothy Miller")
    visitor.get_by_label("Your email address").fill("dorothy@example.com")
    visitor.get_by_label("Your comment").fill(COMMENT)
    visitor.get_by_role("button", name="Post comment").click()
    expect(visitor.locator("#comment-notice")).to_contain_text("awaiting moderation")
    expect(visitor.locator("#own-pending")).to_contain_text(COMMENT)  # to her only
    other = browser.new_context(base_url=live_server.url).new_page()
    other.goto(f"/blog/{SPINE_SLUG}")
    assert COMMENT not in other.locator("#comments").inner_text()
    other.context.close()

    staff.goto("/admin/comments")
    staff.get_by_role("main").get_by_label("Email address").fill(STAFF_EMAIL)
    staff.get_by_label("Password").fill(STAFF_PASSWORD)
    staff.get_by_role("button", name="Sign in").click()
    staff.wait_for_url("**/admin/comments")
    staff.get_by_role("button", name="Approve the comment by Dorothy Miller").click()
    staff.wait_for_url("**/admin/comments")
    assert "Approved: 1 comment." in staff.get_by_role("status").first.inner_text()

    visitor.goto(f"/blog/{SPINE_SLUG}?comments=2")  # the newest thread is on the last page
    assert visitor.locator("#own-pending").count() == 0
    comments = visitor.locator("#comments").inner_text()
    assert COMMENT in comments
    assert "Dorothy Miller" in comments
    assert "dorothy@example.com" not in visitor.content()  # the email is never shown
    visitor.context.close()
    staff.context.close()
