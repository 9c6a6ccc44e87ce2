"""Comment impersonation (issue #17, finding 2): typed fields prove nothing.

A comment appears at once only when its browser proved the mailbox (the signed "known
commenter" cookie from the link we email when a comment is approved) and that address
already has an approved comment. Names that look like staff always wait for a person,
and the "Author" badge comes only from a staff member signed in.
"""

import pytest
from sqlalchemy import select

from blueprints.blog.models import Comment, CommentStatus
from extensions import db
from tests.blog.conftest import comment_form

VICTIM = "joan@example.com"


@pytest.fixture
def post(make_post):
    return make_post("Strong backs", days_ago=3)


@pytest.fixture
def approved_commenter(post, make_comment):
    """Joan, whose earlier comment staff approved."""
    return make_comment(post, email=VICTIM, name="Joan Smith", body="My first, approved.")


def newest_comment():
    db.session.expire_all()
    return db.session.scalars(select(Comment).order_by(Comment.id.desc()).limit(1)).one()


def test_staff_name_with_an_approved_commenters_email_is_held_not_published(
    client, post, approved_commenter
):
    response = client.post(
        "/blog/strong-backs",
        data=comment_form(
            name="Dr. Susan E. Brown",
            email=VICTIM,
            body="As your doctor I recommend stopping all calcium at once.",
        ),
    )
    assert response.status_code == 303
    forged = newest_comment()
    assert forged.status == CommentStatus.PENDING
    page = client.get("/blog/strong-backs").get_data(as_text=True)
    assert "stopping all calcium" not in page
    assert "awaiting moderation" in page


def test_an_approved_commenters_email_without_the_cookie_is_held(
    client, post, approved_commenter
):
    client.post("/blog/strong-backs", data=comment_form(email=VICTIM, body="Typed, not proved."))
    assert newest_comment().status == CommentStatus.PENDING
    assert "Typed, not proved." not in client.get("/blog/strong-backs").get_data(as_text=True)


@pytest.mark.parametrize(
    "extra",
    [
        {"by_staff": "1"},
        {"by_staff": "true"},
        {"author": "1"},
        {"badge": "Author"},
        {"is_staff": "1"},
        {"staff": "on"},
    ],
)
def test_no_form_field_gives_a_visitor_the_author_badge(
    client, post, approved_commenter, known_commenter, extra
):
    known_commenter(client, VICTIM)  # so the comment is published and the page shows it
    data = comment_form(email=VICTIM, body="Am I staff now?", **extra)
    client.post("/blog/strong-backs", data=data)
    comment = newest_comment()
    assert comment.status == CommentStatus.APPROVED
    assert comment.by_staff is False
    page = client.get("/blog/strong-backs").get_data(as_text=True)
    assert "Am I staff now?" in page
    assert "author-badge" not in page


def test_markup_in_a_visitors_name_or_body_cannot_draw_the_badge(
    client, post, approved_commenter, known_commenter
):
    known_commenter(client, VICTIM)
    badge = '<span class="status author-badge">Author</span>'
    client.post(
        "/blog/strong-backs",
        data=comment_form(email=VICTIM, name=badge[:80], body=badge + " and some words"),
    )
    assert newest_comment().status == CommentStatus.APPROVED
    page = client.get("/blog/strong-backs").get_data(as_text=True)
    assert "and some words" in page
    assert 'class="status author-badge"' not in page
