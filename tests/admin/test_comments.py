"""The moderation queue: pending first, filters, staff see the email, and approve /
spam / delete one at a time or several at once. Nothing changes on GET or without CSRF."""

import pytest
from sqlalchemy import select

from blueprints.blog.models import DEFAULT_AUTHOR, Comment, CommentStatus, PostStatus
from blueprints.core.models import AuditEntry
from extensions import db
from tests.conftest import ASSISTANT_EMAIL, ASSISTANT_PASSWORD, signed_in_client


@pytest.fixture
def post(make_post):
    return make_post(title="Walking for stronger hips", status=PostStatus.PUBLISHED)


def _status(comment_id):
    db.session.expire_all()
    comment = db.session.get(Comment, comment_id)
    return None if comment is None else comment.status


def test_queue_shows_pending_comments_with_post_name_email_and_rendered_body(
    staff_client, post, make_comment
):
    comment = make_comment(post, body="I *love* this [link](https://example.com)")
    html = staff_client.get("/admin/comments").get_data(as_text=True)
    assert "Walking for stronger hips" in html
    assert comment.author_name in html
    assert comment.author_email in html  # staff may see it
    assert "<em>love</em>" in html
    assert 'rel="nofollow ugc noopener"' in html


def test_queue_defaults_to_pending_and_filters_by_status(staff_client, post, make_comment):
    pending = make_comment(post, body="waiting comment")
    approved = make_comment(post, status=CommentStatus.APPROVED, body="approved comment")
    spam = make_comment(post, status=CommentStatus.SPAM, body="spammy comment")

    default = staff_client.get("/admin/comments").get_data(as_text=True)
    assert "waiting comment" in default and "approved comment" not in default

    only_spam = staff_client.get("/admin/comments?status=spam").get_data(as_text=True)
    assert "spammy comment" in only_spam and "waiting comment" not in only_spam

    everything = staff_client.get("/admin/comments?status=all").get_data(as_text=True)
    positions = [everything.index(f'id="comment-{c.id}"') for c in (pending, approved, spam)]
    assert positions[0] == min(positions)  # pending first


def test_unknown_filter_falls_back_to_pending(staff_client, post, make_comment):
    make_comment(post, body="waiting comment")
    response = staff_client.get("/admin/comments?status=nonsense")
    assert response.status_code == 200
    assert "waiting comment" in response.get_data(as_text=True)


def test_comment_html_in_the_queue_is_sanitised(staff_client, post):
    # As stored by the blog, but checked here in case a row ever carries raw markup.
    from blueprints.core.markdown import render_comment

    source = '<script>alert("x")</script> [x](javascript:alert(1))'
    db.session.add(
        Comment(
            post=post,
            author_name="Mallory",
            author_email="m@example.com",
            body_md=source,
            body_html=render_comment(source),
        )
    )
    db.session.commit()
    html = staff_client.get("/admin/comments").get_data(as_text=True)
    assert "<script>alert" not in html
    assert 'href="javascript' not in html


@pytest.mark.parametrize(
    ("action", "expected"),
    [("approve", CommentStatus.APPROVED), ("spam", CommentStatus.SPAM)],
)
def test_single_comment_approve_or_spam_sets_status_and_moderated_at(
    staff_client, post, make_comment, action, expected
):
    comment = make_comment(post)
    other = make_comment(post)
    response = staff_client.post("/admin/comments", data={"one": f"{comment.id}:{action}"})
    assert response.status_code == 303
    db.session.expire_all()
    assert comment.status == expected and comment.moderated_at is not None
    assert other.status == CommentStatus.PENDING and other.moderated_at is None
    follow = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert ": 1 comment." in follow


@pytest.mark.parametrize(
    ("status", "action"),
    [(CommentStatus.APPROVED, "approve"), (CommentStatus.SPAM, "spam")],
)
def test_a_comment_already_moderated_that_way_is_left_alone_and_not_counted(
    staff_client, post, make_comment, status, action
):
    # Another moderator was first: the comment keeps their decision and its time.
    done = make_comment(post, status=status)
    waiting = make_comment(post)
    response = staff_client.post(
        "/admin/comments", data={"ids": [str(done.id), str(waiting.id)], "action": action}
    )
    db.session.expire_all()
    assert done.moderated_at is None and done.status == status
    assert waiting.status == status and waiting.moderated_at is not None
    follow = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert ": 1 comment." in follow


def test_staff_may_change_their_mind_between_approved_and_spam(staff_client, post, make_comment):
    comment = make_comment(post, status=CommentStatus.APPROVED)
    staff_client.post("/admin/comments", data={"one": f"{comment.id}:spam"})
    assert _status(comment.id) == CommentStatus.SPAM
    staff_client.post("/admin/comments", data={"one": f"{comment.id}:approve"})
    assert _status(comment.id) == CommentStatus.APPROVED


def test_single_delete_removes_the_comment_and_its_replies(staff_client, post, make_comment):
    parent = make_comment(post)
    reply = make_comment(post, parent=parent)
    kept = make_comment(post)
    parent_id, reply_id, kept_id = parent.id, reply.id, kept.id
    staff_client.post("/admin/comments", data={"one": f"{parent_id}:delete", "confirm": "yes"})
    assert _status(parent_id) is None and _status(reply_id) is None
    assert _status(kept_id) == CommentStatus.PENDING


@pytest.mark.parametrize(
    ("action", "expected"),
    [("approve", CommentStatus.APPROVED), ("spam", CommentStatus.SPAM), ("delete", None)],
)
def test_bulk_action_applies_to_every_ticked_comment_only(
    staff_client, post, make_comment, action, expected
):
    a, b, untouched = (make_comment(post).id for _ in range(3))
    # Deleting asks first (the confirmation's own tests are below); this is the yes.
    response = staff_client.post(
        "/admin/comments", data={"ids": [str(a), str(b)], "action": action, "confirm": "yes"}
    )
    assert response.status_code == 303
    assert _status(a) == expected and _status(b) == expected
    assert _status(untouched) == CommentStatus.PENDING
    follow = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert ": 2 comments." in follow


def test_bulk_approve_sets_moderated_at(staff_client, post, make_comment):
    a, b = make_comment(post), make_comment(post)
    staff_client.post("/admin/comments", data={"ids": [str(a.id), str(b.id)], "action": "approve"})
    db.session.expire_all()
    assert a.moderated_at is not None and b.moderated_at is not None


def test_bulk_without_ticks_shows_the_queue_with_a_message(staff_client, post, make_comment):
    comment = make_comment(post)
    response = staff_client.post("/admin/comments", data={"action": "approve"})
    assert response.status_code == 400
    assert "Tick at least one comment" in response.get_data(as_text=True)
    assert _status(comment.id) == CommentStatus.PENDING


def test_bulk_without_action_keeps_the_ticks_and_changes_nothing(staff_client, post, make_comment):
    comment = make_comment(post)
    response = staff_client.post("/admin/comments", data={"ids": [str(comment.id)], "action": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose what to do with the selected comments." in html
    assert f'value="{comment.id}" id="select-{comment.id}" checked' in html
    assert _status(comment.id) == CommentStatus.PENDING


@pytest.mark.parametrize(
    "data",
    [
        {"one": "abc:approve"},
        {"one": "1:launch"},
        {"ids": ["1"], "action": "launch"},
    ],
)
def test_tampered_moderation_input_is_refused(staff_client, post, make_comment, data):
    comment = make_comment(post)
    data = {k: (v.replace("1", str(comment.id)) if k == "one" else v) for k, v in data.items()}
    response = staff_client.post("/admin/comments", data=data)
    assert response.status_code == 400
    assert _status(comment.id) == CommentStatus.PENDING


def test_moderating_an_unknown_id_changes_nothing_else(staff_client, post, make_comment):
    comment = make_comment(post)
    response = staff_client.post("/admin/comments", data={"one": "999999:approve"})
    assert response.status_code == 303
    assert _status(comment.id) == CommentStatus.PENDING


def test_moderation_without_csrf_changes_nothing(staff_client, post, make_comment):
    comment = make_comment(post)
    response = staff_client.post(
        "/admin/comments", data={"one": f"{comment.id}:approve"}, csrf=False
    )
    assert response.status_code == 400
    bulk = staff_client.post(
        "/admin/comments", data={"ids": [str(comment.id)], "action": "delete"}, csrf=False
    )
    assert bulk.status_code == 400
    assert _status(comment.id) == CommentStatus.PENDING


def test_moderation_keeps_the_filter_after_acting(staff_client, post, make_comment):
    comment = make_comment(post, status=CommentStatus.SPAM)
    response = staff_client.post(
        "/admin/comments?status=spam", data={"one": f"{comment.id}:approve"}
    )
    assert response.headers["Location"].endswith("/admin/comments?status=spam")


def test_anonymous_cannot_moderate(client, post, make_comment):
    comment = make_comment(post)
    response = client.post("/admin/comments", data={"one": f"{comment.id}:approve"})
    assert response.status_code == 302
    assert _status(comment.id) == CommentStatus.PENDING


def test_queue_lists_each_comment_once_in_few_queries(
    staff_client, post, make_post, make_comment, count_queries
):
    for n in range(30):
        make_comment(make_post(title=f"Post {n}"))
    with count_queries() as counter:
        response = staff_client.get("/admin/comments")
    assert response.get_data(as_text=True).count('name="ids"') == 30
    # The user, the total, and one page of comments with their posts: never one per row.
    assert counter.count <= 4


def test_queue_has_a_caption_and_labelled_checkboxes(staff_client, post, make_comment):
    comment = make_comment(post)
    html = staff_client.get("/admin/comments").get_data(as_text=True)
    assert "<caption>" in html
    assert f'<label for="select-{comment.id}"' in html
    assert db.session.scalar(select(Comment.status).where(Comment.id == comment.id)) == "pending"


# --- staff replies: the "Author" badge ------------------------------------------------------


def _replies_to(comment):
    db.session.expire_all()
    return db.session.scalars(
        select(Comment).where(Comment.parent_id == comment.id).order_by(Comment.id)
    ).all()


def test_staff_reply_from_the_queue_shows_the_author_badge_and_approves_the_comment(
    staff_client, post, make_comment, mailbox
):
    waiting = make_comment(post, body="Is walking enough for my hips?")
    queue = staff_client.get("/admin/comments").get_data(as_text=True)
    assert f'href="/admin/comments/{waiting.id}/reply"' in queue

    form = staff_client.get(f"/admin/comments/{waiting.id}/reply")
    assert form.status_code == 200
    assert "Is walking enough for my hips?" in form.get_data(as_text=True)
    response = staff_client.post(
        f"/admin/comments/{waiting.id}/reply", data={"body": "Walking *helps*; add stairs."}
    )
    assert response.status_code == 303

    [reply] = _replies_to(waiting)
    assert reply.by_staff is True
    assert reply.status == CommentStatus.APPROVED
    # Published as Dr. Brown (the post's author), whoever of the staff typed it.
    assert reply.author_name == post.author_name == DEFAULT_AUTHOR
    assert _status(waiting.id) == CommentStatus.APPROVED  # replying published the question
    staff_client.post("/admin/logout", data={})
    page = staff_client.get(f"/blog/{post.slug}").get_data(as_text=True)
    assert "Is walking enough for my hips?" in page
    reply_html = page[page.index(f'id="comment-{reply.id}"') :]
    author = reply_html[: reply_html.index("</p>")]
    assert f'{DEFAULT_AUTHOR} <span class="status author-badge">Author</span>' in author
    assert "<p>Walking <em>helps</em>; add stairs.</p>" in reply_html
    # The reader hears once that Dr. Brown replied, that her comment is published, with
    # her confirm link.
    [message] = mailbox.wait_for(1)
    assert waiting.author_email in str(message["To"])
    assert "replied to your comment" in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Walking *helps*; add stairs." in text and "/blog/commenter/" in text


def test_the_owners_reply_form_says_it_is_published_as_dr_brown_with_the_author_badge(
    staff_client, post, make_comment
):
    waiting = make_comment(post, body="Is walking enough for my hips?")
    form = staff_client.get(f"/admin/comments/{waiting.id}/reply").get_data(as_text=True)
    assert (
        f"published as <strong>{DEFAULT_AUTHOR}</strong> with the "
        '<span class="status author-badge">Author</span> badge'
    ) in form


def test_an_assistants_reply_is_published_under_her_own_name_with_the_team_badge(
    app, post, make_comment, assistant, mailbox
):
    """Only the owner's replies are Dr. Brown's: Amy's reply carries her name and a badge
    saying she is on Dr. Brown's team, never the Author badge, and her form says so."""
    amy = signed_in_client(app, ASSISTANT_EMAIL, ASSISTANT_PASSWORD)
    make_comment(post, body="Published already.", status=CommentStatus.APPROVED)
    her_view = amy.get(f"/blog/{post.slug}").get_data(as_text=True)
    assert "Reply as Dr. Brown's team" in her_view.replace("&#39;", "'")
    assert "Reply as Author" not in her_view and "author-badge" not in her_view
    waiting = make_comment(post, body="Is walking enough for my hips?")
    form = amy.get(f"/admin/comments/{waiting.id}/reply").get_data(as_text=True)
    assert (
        "published as <strong>Amy</strong> with the "
        '<span class="status team-badge">Dr. Brown\'s team</span> badge'
    ) in form
    assert DEFAULT_AUTHOR not in form and "author-badge" not in form

    response = amy.post(f"/admin/comments/{waiting.id}/reply", data={"body": "Yes, daily."})
    assert response.status_code == 303
    [reply] = _replies_to(waiting)
    assert reply.author_name == "Amy" and reply.by_staff is True and reply.as_author is False
    queue = amy.get("/admin/comments?status=all").get_data(as_text=True)
    row = queue[queue.index(f'id="comment-{reply.id}"') :]
    assert 'Amy <span class="status team-badge">Dr. Brown\'s team</span>' in row[:2000]

    page = app.test_client().get(f"/blog/{post.slug}").get_data(as_text=True)
    reply_html = page[page.index(f'id="comment-{reply.id}"') :]
    author = reply_html[: reply_html.index("</p>")]
    assert 'Amy <span class="status team-badge">Dr. Brown\'s team</span>' in author
    assert "author-badge" not in author and DEFAULT_AUTHOR not in author
    [message] = mailbox.wait_for(1)
    assert "Amy replied to your comment" in message.get_body(("plain",)).get_content()


def test_staff_reply_to_a_reply_joins_the_thread_and_publishes_both(
    staff_client, post, make_comment
):
    top = make_comment(post, status=CommentStatus.PENDING)
    answer = make_comment(post, status=CommentStatus.PENDING, parent=top)
    staff_client.post(f"/admin/comments/{answer.id}/reply", data={"body": "Thank you both."})
    replies = _replies_to(top)
    assert [r.by_staff for r in replies] == [False, True]
    assert _status(top.id) == _status(answer.id) == CommentStatus.APPROVED


def test_an_empty_staff_reply_is_refused_and_changes_nothing(staff_client, post, make_comment):
    waiting = make_comment(post)
    response = staff_client.post(f"/admin/comments/{waiting.id}/reply", data={"body": "  "})
    assert response.status_code == 400
    assert "Please write your reply." in response.get_data(as_text=True)
    assert _replies_to(waiting) == []
    assert _status(waiting.id) == CommentStatus.PENDING


def test_staff_reply_to_a_missing_comment_is_404(staff_client, post):
    assert staff_client.get("/admin/comments/999999/reply").status_code == 404
    assert staff_client.post("/admin/comments/999999/reply", data={"body": "Hi"}).status_code == 404


def test_visitors_and_readers_cannot_post_a_staff_reply(
    app, client, post, make_comment, reader_account
):
    waiting = make_comment(post)
    anonymous = client.post(f"/admin/comments/{waiting.id}/reply", data={"body": "I am staff"})
    assert anonymous.status_code == 302 and "/admin/login" in anonymous.headers["Location"]
    reader = app.test_client()
    reader.post(
        "/admin/login", data={"email": "reader@example.com", "password": "a reader's long password"}
    )
    refused = reader.post(f"/admin/comments/{waiting.id}/reply", data={"body": "I am staff"})
    assert refused.status_code in (302, 403)
    assert _replies_to(waiting) == []
    assert _status(waiting.id) == CommentStatus.PENDING


def test_staff_reply_without_csrf_changes_nothing(staff_client, post, make_comment):
    waiting = make_comment(post)
    response = staff_client.post(
        f"/admin/comments/{waiting.id}/reply", data={"body": "Hello"}, csrf=False
    )
    assert response.status_code == 400
    assert _replies_to(waiting) == []


def test_approving_from_the_queue_emails_each_commenter_once_with_a_confirm_link(
    staff_client, post, make_comment, mailbox
):
    first = make_comment(post)
    second = make_comment(post)
    staff_client.post(
        "/admin/comments", data={"ids": [str(first.id), str(second.id)], "action": "approve"}
    )
    messages = mailbox.wait_for(2)
    assert sorted(str(m["To"]) for m in messages) == sorted(
        [first.author_email, second.author_email]
    )
    for message in messages:
        assert "is published" in message["Subject"]
        assert "/blog/commenter/" in message.get_body(preferencelist=("plain",)).get_content()
    # Approving again moves nothing and sends nothing.
    staff_client.post("/admin/comments", data={"one": f"{first.id}:approve"})
    assert len(mailbox.messages) == 2


def test_staff_reply_from_the_post_page_returns_to_the_post_with_the_badge(
    app, each_request_loads_its_own_user, staff_client, post, make_comment
):
    shown = make_comment(post, status=CommentStatus.APPROVED, body="Can I run?")
    page = staff_client.get(f"/blog/{post.slug}").get_data(as_text=True)
    link = f"/admin/comments/{shown.id}/reply?next=/blog/comments/{shown.id}"
    assert f'href="{link}"' in page
    assert "Reply as Author" in page
    # Readers see the ordinary reply link, never the staff one.
    reader_page = app.test_client().get(f"/blog/{post.slug}").text
    assert "Reply as Author" not in reader_page
    assert f"?reply_to={shown.id}#add-comment" in reader_page

    assert staff_client.get(link).status_code == 200
    response = staff_client.post(link, data={"body": "Yes, gently."})
    assert response.status_code == 303
    # Back to the comment answered, on whichever page of comments shows it.
    assert response.headers["Location"].endswith(f"/blog/comments/{shown.id}")
    [reply] = _replies_to(shown)
    assert reply.by_staff is True
    page = staff_client.get(f"/blog/{post.slug}").get_data(as_text=True)
    reply_html = page[page.index(f'id="comment-{reply.id}"') :]
    assert (
        '<span class="status author-badge">Author</span>' in reply_html[: reply_html.index("</p>")]
    )


def test_a_staff_reply_never_leaves_the_site(staff_client, post, make_comment):
    shown = make_comment(post, status=CommentStatus.APPROVED)
    response = staff_client.post(
        f"/admin/comments/{shown.id}/reply?next=//evil.example/", data={"body": "Hi"}
    )
    assert response.headers["Location"].endswith("/admin/comments")


def test_deleting_one_comment_asks_first_and_the_first_post_changes_nothing(
    staff_client, post, make_comment
):
    comment = make_comment(post)
    response = staff_client.post("/admin/comments", data={"one": f"{comment.id}:delete"})

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "for good?" in page and "Walking for stronger hips" in page
    assert f'name="one" value="{comment.id}:delete"' in page
    assert 'name="confirm" value="yes"' in page and "No, go back" in page
    assert _status(comment.id) == CommentStatus.PENDING
    assert db.session.scalars(select(AuditEntry)).all() == []


def test_deleting_ticked_comments_asks_first_and_keeps_the_filter(staff_client, post, make_comment):
    a, b = (
        make_comment(post, status=CommentStatus.SPAM),
        make_comment(post, status=CommentStatus.SPAM),
    )
    response = staff_client.post(
        "/admin/comments?status=spam",
        data={"ids": [str(a.id), str(b.id)], "action": "delete", "bulk": "1"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Delete these 2 comments for good?" in page
    assert 'action="/admin/comments?status=spam"' in page
    assert 'href="/admin/comments?status=spam"' in page
    assert _status(a.id) == _status(b.id) == CommentStatus.SPAM


def test_a_confirmed_delete_sent_twice_deletes_once(staff_client, post, make_comment):
    comment_id = make_comment(post).id
    data = {"one": f"{comment_id}:delete", "confirm": "yes"}
    first = staff_client.post("/admin/comments", data=data)
    second = staff_client.post("/admin/comments", data=data)
    assert first.status_code == second.status_code == 303
    assert _status(comment_id) is None
    actions = [e.action for e in db.session.scalars(select(AuditEntry))]
    assert actions == ["comment.delete"]
