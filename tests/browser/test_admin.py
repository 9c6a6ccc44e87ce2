"""The staff area in Chromium: sign in, approve a waiting comment, and an axe-core
sweep over every admin page (sign-in with and without an error, dashboard, posts,
the editor and its preview, the moderation queue)."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from blueprints.account.services import create_staff
from blueprints.blog.models import Comment, CommentStatus, Post, PostStatus, Reference, Tag
from blueprints.core.markdown import render_comment, render_post
from blueprints.core.types import utcnow
from extensions import db
from tests.browser.conftest import assert_accessible
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD

POST_BODY = (
    "Strong back muscles support the spine.\n\n"
    "## Five tips\n\n1. Walk every day\n2. Lift light weights\n3. Stand tall\n"
)


@pytest.fixture
def blog_with_waiting_comment(app):
    """A published post with one comment waiting, as the blog's comment form leaves it."""
    create_staff(STAFF_EMAIL, STAFF_PASSWORD, name="Susan Brown")
    post = Post(
        title="How to increase spinal bone density with exercise",
        slug="spinal-bone-density-exercise",
        summary="What a Korean MRI study found.",
        body_md=POST_BODY,
        body_html=render_post(POST_BODY),
        status=PostStatus.PUBLISHED,
        published_at=utcnow(),
        tags=[Tag(slug="exercise", name="Exercise")],
        references=[Reference(position=1, title="Sinaki M et al. Bone. 2002;30(6):836-41.")],
    )
    comment_body = "Thank you, Dr. Brown! I walk **every** morning."
    comment = Comment(
        post=post,
        author_name="Margaret",
        author_email="margaret@example.com",
        body_md=comment_body,
        body_html=render_comment(comment_body),
        status=CommentStatus.PENDING,
    )
    db.session.add_all([post, comment])
    db.session.commit()
    ids = post.id, comment.id
    db.session.close()  # the live server's threads use their own sessions
    return ids


def _sign_in(page, next_path=None):
    page.goto("/admin/login" + (f"?next={next_path}" if next_path else ""))
    page.get_by_role("main").get_by_label("Email address").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_staff_sign_in_and_approve_a_waiting_comment(page, blog_with_waiting_comment):
    post_id, comment_id = blog_with_waiting_comment

    page.goto("/admin/comments")
    assert "/admin/login" in page.url  # anonymous: sent to sign in, with next
    page.get_by_role("main").get_by_label("Email address").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/admin/comments")
    row = page.locator(f"#comment-{comment_id}")
    assert "How to increase spinal bone density with exercise" in row.inner_text()
    assert "margaret@example.com" in row.inner_text()
    row.get_by_role("button", name="Approve the comment by Margaret").click()

    page.wait_for_url("**/admin/comments")
    assert "Approved: 1 comment." in page.get_by_role("status").first.inner_text()
    assert page.locator(f"#comment-{comment_id}").count() == 0

    db.session.expire_all()
    comment = db.session.get(Comment, comment_id)
    assert comment.status == CommentStatus.APPROVED
    assert comment.moderated_at is not None
    assert comment.post_id == post_id


def test_bulk_moderation_in_the_browser(page, blog_with_waiting_comment):
    post_id, first_id = blog_with_waiting_comment
    second = Comment(
        post_id=post_id,
        author_name="Joan",
        author_email="joan@example.com",
        body_md="Buy cheap pills",
        body_html=render_comment("Buy cheap pills"),
    )
    db.session.add(second)
    db.session.commit()
    second_id = second.id
    db.session.close()

    _sign_in(page, "/admin/comments")
    page.wait_for_url("**/admin/comments")
    page.get_by_label("Select the comment by Margaret").check()
    page.get_by_label("Select the comment by Joan").check()
    page.get_by_label("With the selected comments").select_option("spam")
    page.get_by_role("button", name="Apply to ticked comments").click()
    page.wait_for_url("**/admin/comments")

    statuses = dict(
        db.session.execute(
            select(Comment.id, Comment.status).where(Comment.id.in_([first_id, second_id]))
        ).all()
    )
    assert statuses == {first_id: CommentStatus.SPAM, second_id: CommentStatus.SPAM}


def test_staff_write_preview_and_publish_a_post(page, blog_with_waiting_comment):
    _sign_in(page)
    page.wait_for_url("**/admin/")
    page.get_by_role("link", name="Write a new post").first.click()
    page.get_by_label("Title").fill("Vitamin K2 and your bones")
    page.get_by_label("Body (Markdown)").fill("## Why K2\n\nIt helps **calcium** find bone.")
    page.get_by_label("Tags").fill("Nutrition, Vitamins")
    with page.expect_popup() as popup:  # the preview opens in the site's layout, in a new tab
        page.get_by_role("button", name="Preview").click()
    popup.value.locator(".post-body h2", has_text="Why K2").wait_for()
    popup.value.close()
    assert db.session.scalar(select(Post).where(Post.slug == "vitamin-k2-and-your-bones")) is None

    page.get_by_role("button", name="Save and publish").click()
    page.wait_for_selector("text=Saved and published “Vitamin K2 and your bones”.")
    db.session.expire_all()
    post = db.session.scalar(select(Post).where(Post.slug == "vitamin-k2-and-your-bones"))
    assert post.status == PostStatus.PUBLISHED and post.published_at is not None
    assert sorted(tag.slug for tag in post.tags) == ["nutrition", "vitamins"]


def test_admin_pages_have_no_axe_violations(page, blog_with_waiting_comment):
    post_id, _comment_id = blog_with_waiting_comment

    page.goto("/admin/login")
    assert_accessible(page)

    page.get_by_role("main").get_by_label("Email address").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("That email and password do not match")).to_be_visible()
    assert_accessible(page)

    _sign_in(page)
    page.wait_for_url("**/admin/")
    assert_accessible(page)

    for path in [
        "/admin/posts",
        "/admin/posts/new",
        "/admin/comments",
        "/admin/comments?status=all",
    ]:
        page.goto(path)
        assert_accessible(page)

    page.goto(f"/admin/posts/{post_id}/edit")
    with page.expect_popup() as popup:
        page.get_by_role("button", name="Preview").click()
    popup.value.wait_for_selector(".preview-banner")
    assert_accessible(popup.value)
    popup.value.close()

    page.get_by_label("Title").fill("")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_selector(".form-errors")
    assert_accessible(page)
