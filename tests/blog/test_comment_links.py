"""A link to one comment (in her emails, in My account, under "Reply as Author") opens
the page of comments that shows it, worked out when it is followed: comments go ten
threads to a page, so the post's plain address would open page 1 without it."""

import re
from urllib.parse import urlsplit

import pytest

from blueprints.blog.models import CommentStatus, PostStatus
from extensions import db
from tests.conftest import AuthActions, html_part, text_part

COMMENT_LINK = re.compile(r"http://localhost(/blog/comments/\d+)")


@pytest.fixture
def post(make_post):
    return make_post("Strong backs", days_ago=3)


def _threads(make_comment, post, n):
    """``n`` approved threads, oldest first."""
    tops = [make_comment(post, body=f"Thread {i + 1:02d}.", commit=False) for i in range(n)]
    db.session.commit()
    return tops


def _follow(client, path):
    """Follow a comment link: its 303, then the page it leads to."""
    response = client.get(path)
    assert response.status_code == 303
    target = urlsplit(response.headers["Location"])
    page = client.get(target.path + ("?" + target.query if target.query else ""))
    assert page.status_code == 200
    return target, page.get_data(as_text=True)


def test_a_comment_link_opens_the_page_of_comments_that_shows_it(client, post, make_comment):
    tops = _threads(make_comment, post, 12)
    reply = make_comment(post, parent=tops[10], body="A reply on page two.")

    for comment in (tops[10], reply, tops[0]):
        target, page = _follow(client, f"/blog/comments/{comment.id}")
        assert target.path == "/blog/strong-backs"
        assert target.fragment == f"comment-{comment.id}"
        assert f'id="comment-{comment.id}"' in page
    assert _follow(client, f"/blog/comments/{tops[10].id}")[0].query == "comments=2"
    assert _follow(client, f"/blog/comments/{tops[0].id}")[0].query == ""


def test_the_page_is_worked_out_when_the_link_is_followed(client, post, make_comment):
    tops = _threads(make_comment, post, 11)
    link = f"/blog/comments/{tops[10].id}"
    assert "comments=2" in client.get(link).headers["Location"]
    # An earlier thread is deleted: the same link now finds it on page 1.
    db.session.delete(tops[0])
    db.session.commit()
    assert "comments=" not in client.get(link).headers["Location"]


@pytest.mark.parametrize("status", [CommentStatus.PENDING, CommentStatus.SPAM])
def test_a_link_to_a_comment_not_published_is_not_found(client, post, make_comment, status):
    hidden = make_comment(post, status=status)
    assert client.get(f"/blog/comments/{hidden.id}").status_code == 404
    assert client.get("/blog/comments/999999").status_code == 404


def test_a_link_to_a_comment_on_a_post_no_longer_published_is_not_found(client, post, make_comment):
    shown = make_comment(post)
    post.status = PostStatus.DRAFT
    db.session.commit()
    assert client.get(f"/blog/comments/{shown.id}").status_code == 404


def test_the_published_email_links_to_her_comment_on_page_two(
    app, client, post, make_comment, staff_user, mailbox
):
    _threads(make_comment, post, 10)
    hers = make_comment(
        post, status=CommentStatus.PENDING, email="joan@example.com", body="My question."
    )
    staff = app.test_client()
    assert AuthActions(staff).login().status_code == 303
    staff.post("/admin/comments", data={"one": f"{hers.id}:approve"})

    [message] = [m for m in mailbox.wait_for(1) if "joan@example.com" in str(m["To"])]
    path = COMMENT_LINK.search(text_part(message)).group(1)
    assert f'href="http://localhost{path}"' in html_part(message)
    target, page = _follow(client, path)
    assert (target.query, target.fragment) == ("comments=2", f"comment-{hers.id}")
    assert "My question." in page


def test_the_reply_email_links_to_the_reply_on_page_two(
    app, client, post, make_comment, staff_user, mailbox
):
    tops = _threads(make_comment, post, 11)
    staff = app.test_client()
    assert AuthActions(staff).login().status_code == 303
    staff.post(f"/admin/comments/{tops[10].id}/reply", data={"body": "Yes, gently."})

    [message] = mailbox.wait_for(1)
    assert str(message["To"]) == tops[10].author_email
    path = COMMENT_LINK.search(text_part(message)).group(1)
    assert f'href="http://localhost{path}"' in html_part(message)
    target, page = _follow(client, path)
    assert target.query == "comments=2"
    reply_id = target.fragment.removeprefix("comment-")
    assert f'id="comment-{reply_id}"' in page
    assert "Yes, gently." in page
