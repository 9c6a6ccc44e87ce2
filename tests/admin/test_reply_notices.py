"""Replying from the queue: the reply is Dr. Brown's (the Author badge), the commenter
is emailed once per reply with a signed link to stop such emails, and none comes after
she stops them. Moderation and post changes are in the audit log under their actor."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.blog.commenters import stop_reply_notices
from blueprints.blog.models import DEFAULT_AUTHOR, Comment, CommentStatus, PostStatus
from blueprints.core.models import AuditEntry, OutboxMessage
from extensions import db
from tests.conftest import text_part

READER = "reader1@example.com"


@pytest.fixture
def post(make_post):
    return make_post(title="Walking for stronger hips", status=PostStatus.PUBLISHED)


def _reply(staff_client, comment, body):
    response = staff_client.post(f"/admin/comments/{comment.id}/reply", data={"body": body})
    assert response.status_code == 303
    db.session.expire_all()
    return db.session.scalars(
        select(Comment).where(Comment.by_staff, Comment.body_md == body)
    ).one()


def _queued_to(address):
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.to_address == address)
    )


def _entries():
    db.session.expire_all()
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def test_each_reply_emails_the_commenter_exactly_once(
    staff_client, staff_user, post, make_comment, mailbox
):
    question = make_comment(post, status=CommentStatus.APPROVED, body="Stairs or hills?")
    first = _reply(staff_client, question, "Both work; start with stairs.")
    [message] = mailbox.wait_for(1)
    assert message["To"] == question.author_email
    assert " ".join(message["Subject"].split()) == (
        f"{DEFAULT_AUTHOR} replied to your comment on Walking for stronger hips"
    )
    text = text_part(message)
    assert "Both work; start with stairs." in text
    assert f"http://localhost/blog/comments/{first.id}\r\n" in text  # finds its page
    assert "/blog/reply-emails/" in text
    assert "/blog/commenter/" not in text  # her comment was already published

    _reply(staff_client, question, "And carry a light bag.")
    assert len(mailbox.wait_for(2)) == 2
    assert _queued_to(question.author_email) == 2  # one per reply, nothing else

    assert first.author_name == DEFAULT_AUTHOR and first.by_staff
    assert [(e.actor_id, e.action, e.detail.get("answers")) for e in _entries()] == [
        (staff_user.id, "comment.reply", question.id),
        (staff_user.id, "comment.reply", question.id),
    ]


def test_no_reply_email_after_she_stops_them(app, staff_client, post, make_comment, mailbox):
    question = make_comment(post, status=CommentStatus.APPROVED)
    _reply(staff_client, question, "Thank you for asking.")
    [message] = mailbox.wait_for(1)
    link = re.search(r"http://localhost(/blog/reply-emails/\S+)", text_part(message)).group(1)

    reader = app.test_client()
    page = reader.get(link)
    assert page.status_code == 200 and "Stop these emails" in page.get_data(as_text=True)
    assert reader.post(link, data={}).status_code == 303
    assert "No more emails about replies" in reader.get(link).get_data(as_text=True)
    reader.post(link, data={})  # twice is the same as once

    mailbox.clear()
    _reply(staff_client, question, "A second thought.")
    _reply(staff_client, question, "A third thought.")
    assert _queued_to(question.author_email) == 1  # only the first reply's
    assert mailbox.messages == []


def test_opening_the_stop_link_alone_changes_nothing(
    app, staff_client, post, make_comment, mailbox
):
    question = make_comment(post, status=CommentStatus.APPROVED)
    _reply(staff_client, question, "First.")
    link = re.search(r"(/blog/reply-emails/\S+)", text_part(mailbox.wait_for(1)[0])).group(1)
    app.test_client().get(link)
    _reply(staff_client, question, "Second.")
    assert len(mailbox.wait_for(2)) == 2


def test_an_altered_stop_link_is_refused(app, staff_client, post, make_comment, mailbox):
    question = make_comment(post, status=CommentStatus.APPROVED)
    _reply(staff_client, question, "First.")
    link = re.search(r"(/blog/reply-emails/\S+)", text_part(mailbox.wait_for(1)[0])).group(1)
    forged = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    reader = app.test_client()
    assert reader.get(forged).status_code == 400
    assert reader.post(forged, data={}).status_code == 400
    _reply(staff_client, question, "Second.")
    assert len(mailbox.wait_for(2)) == 2


def test_a_reply_that_publishes_her_comment_sends_one_email_not_two(
    staff_client, post, make_comment, mailbox
):
    waiting = make_comment(post, status=CommentStatus.PENDING)
    _reply(staff_client, waiting, "Welcome, and thank you.")
    [message] = mailbox.wait_for(1)
    text = text_part(message)
    assert "replied to your comment" in message["Subject"]
    assert "Your comment is now published too" in text and "/blog/commenter/" in text
    assert _queued_to(waiting.author_email) == 1


def test_after_stopping_reply_emails_she_still_hears_her_comment_is_published(
    app, staff_client, post, make_comment, mailbox
):
    waiting = make_comment(post, status=CommentStatus.PENDING)
    stop_reply_notices(waiting.author_email)
    db.session.commit()
    _reply(staff_client, waiting, "Welcome.")
    [message] = mailbox.wait_for(1)
    assert "is published" in message["Subject"]
    assert _queued_to(waiting.author_email) == 1


def test_replying_to_a_staff_reply_emails_nobody(staff_client, post, make_comment, mailbox):
    question = make_comment(post, status=CommentStatus.APPROVED)
    answer = _reply(staff_client, question, "First answer.")
    mailbox.wait_for(1)
    _reply(staff_client, answer, "A postscript to my answer.")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_moderation_is_audited_per_comment_under_its_actor(
    staff_client, staff_user, post, make_comment, mailbox
):
    approved, spam, deleted = (make_comment(post).id for _ in range(3))
    staff_client.post("/admin/comments", data={"one": f"{approved}:approve"})
    staff_client.post("/admin/comments", data={"ids": [str(spam)], "action": "spam"})
    staff_client.post("/admin/comments", data={"one": f"{deleted}:delete", "confirm": "yes"})
    # Approving it again does nothing, and records nothing.
    staff_client.post("/admin/comments", data={"one": f"{approved}:approve"})
    assert [(e.actor_id, e.action, e.record_type, e.record_id) for e in _entries()] == [
        (staff_user.id, "comment.approve", "comment", approved),
        (staff_user.id, "comment.spam", "comment", spam),
        (staff_user.id, "comment.delete", "comment", deleted),
    ]


def test_post_changes_are_audited_under_their_actor(staff_client, staff_user, mailbox):
    created = staff_client.post(
        "/admin/posts/new",
        data={"title": "Vitamin K2", "slug": "", "summary": "", "body": "Text.", "tags": ""},
    )
    assert created.status_code == 303
    post_id = int(created.headers["Location"].split("/")[-2])
    staff_client.post(
        f"/admin/posts/{post_id}/edit",
        data={"title": "Vitamin K2 and D", "slug": "k2", "body": "More.", "action": "publish"},
    )
    staff_client.post(f"/admin/posts/{post_id}/unpublish", data={})
    staff_client.post(f"/admin/posts/{post_id}/publish", data={})
    assert [(e.actor_id, e.action, e.record_id) for e in _entries()] == [
        (staff_user.id, "post.create", post_id),
        (staff_user.id, "post.edit", post_id),
        (staff_user.id, "post.publish", post_id),
        (staff_user.id, "post.unpublish", post_id),
        (staff_user.id, "post.publish", post_id),
    ]
    assert _entries()[1].detail == {"title": "Vitamin K2 and D"}


def _staff_replies(body):
    db.session.expire_all()
    return db.session.scalars(
        select(Comment).where(Comment.by_staff, Comment.body_md == body).order_by(Comment.id)
    ).all()


def test_a_double_clicked_staff_reply_is_published_and_emailed_once(
    staff_client, staff_user, post, make_comment, mailbox
):
    question = make_comment(post, status=CommentStatus.APPROVED)
    for _ in range(2):
        response = staff_client.post(
            f"/admin/comments/{question.id}/reply", data={"body": "Start with stairs."}
        )
        assert response.status_code == 303
    [reply] = _staff_replies("Start with stairs.")
    mailbox.wait_for(1)
    assert _queued_to(question.author_email) == 1
    assert [(e.action, e.record_id) for e in _entries()] == [("comment.reply", reply.id)]


def test_the_same_staff_words_to_another_comment_or_a_minute_later_are_published(
    staff_client, staff_user, post, make_comment, mailbox
):
    first, second = make_comment(post), make_comment(post)
    _reply(staff_client, first, "Thank you!")
    staff_client.post(f"/admin/comments/{second.id}/reply", data={"body": "Thank you!"})
    assert [r.parent_id for r in _staff_replies("Thank you!")] == [first.id, second.id]

    for reply in _staff_replies("Thank you!"):
        reply.created_at -= timedelta(minutes=2)
    db.session.commit()
    staff_client.post(f"/admin/comments/{first.id}/reply", data={"body": "Thank you!"})
    assert len(_staff_replies("Thank you!")) == 3
    assert len(mailbox.wait_for(3)) == 3
