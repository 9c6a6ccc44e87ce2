"""The blog in a real browser: a visitor comments on the seed post, and every blog page
passes axe-core (WCAG 2.2 AA rules) with zero violations."""

import pytest
from playwright.sync_api import expect

from blueprints.blog.seed import SPINE_SLUG, seed
from extensions import db
from tests.browser.conftest import assert_accessible

SPINE_TITLE = "How to increase spinal bone density with exercise"


@pytest.fixture
def seeded(app):
    seed()
    db.session.commit()


def test_visitor_opens_the_seed_post_from_home_comments_and_sees_awaiting_moderation(page, seeded):
    page.goto("/")
    page.get_by_role("link", name=SPINE_TITLE).first.click()
    page.wait_for_url(f"**/blog/{SPINE_SLUG}")
    assert page.get_by_role("heading", level=1).inner_text() == SPINE_TITLE

    page.get_by_label("Your name").fill("Dorothy Miller")
    page.get_by_label("Your email address").fill("dorothy@example.com")
    page.get_by_label("Your comment").fill("Thank you! I will try the posture tip.")
    page.get_by_role("button", name="Post comment").click()

    notice = page.locator("#comment-notice")
    notice.wait_for()
    assert "Thank you, your comment is awaiting moderation" in notice.inner_text()
    assert page.url.endswith(f"/blog/{SPINE_SLUG}#comment-notice")
    # She sees her own comment, marked as waiting, apart from the published ones.
    hers = page.locator("#own-pending").inner_text()
    assert "I will try the posture tip" in hers and "Awaiting moderation" in hers
    assert "I will try the posture tip" not in page.locator(".comment-list").last.inner_text()
    assert_accessible(page)


def test_reply_link_opens_the_form_as_a_reply_to_that_comment(page, seeded):
    page.goto(f"/blog/{SPINE_SLUG}")
    page.get_by_role("link", name="Reply to Margaret").click()
    # The click returns once the reply page has started loading: wait for its form.
    expect(page.locator("#add-comment")).to_contain_text("You are replying to Margaret")
    expect(page.get_by_role("button", name="Post reply")).to_be_visible()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/blog/",
        "/blog/?page=2",
        "/blog/tag/exercise",
        f"/blog/{SPINE_SLUG}",
        "/blog/search?q=calcium",
        "/blog/search?q=nothing-matches-this",
        "/blog/search",
    ],
)
def test_blog_page_has_no_axe_violations(page, seeded, path):
    page.goto(path)
    assert_accessible(page)


def test_post_page_with_comment_form_errors_has_no_axe_violations(page, seeded):
    page.goto(f"/blog/{SPINE_SLUG}")
    page.get_by_label("Your email address").fill("not an email")
    page.get_by_role("button", name="Post comment").click()
    summary = page.locator("#comment-errors")
    summary.wait_for()
    assert "Please enter your name." in summary.inner_text()
    assert page.get_by_label("Your email address").input_value() == "not an email"
    assert page.get_by_label("Your email address").get_attribute("aria-invalid") == "true"
    assert_accessible(page)


def test_post_page_after_a_comment_is_posted_has_no_axe_violations(page, seeded):
    page.goto(f"/blog/{SPINE_SLUG}")
    page.get_by_label("Your name").fill("Dorothy Miller")
    page.get_by_label("Your email address").fill("dorothy@example.com")
    page.get_by_label("Your comment").fill("A question about *vests*.")
    page.get_by_role("button", name="Post comment").click()
    page.locator("#comment-notice").wait_for()
    assert_accessible(page)
