"""Staff and the comments: replies from the queue (published as Dr. Brown with the
"Author" badge when the owner writes, under her own name with the team badge when an
assistant does, and the commenter told once), and moderation of the queue (approve,
spam, delete), each recorded in the audit log."""

from datetime import timedelta

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.orm import contains_eager, joinedload

from blueprints.account.roles import is_owner
from blueprints.blog.cache_tags import post_page_tag
from blueprints.blog.commenters import reply_notices_wanted
from blueprints.blog.emails import (
    notify_commenter_of_reply,
    notify_commenters_published,
)
from blueprints.blog.models import (
    COMMENT_TRANSITIONS,
    Comment,
    CommentStatus,
    Post,
)
from blueprints.core.addresses import normalise_email
from blueprints.core.audit import record_staff_action
from blueprints.core.cache_tags import invalidate_after_commit
from blueprints.core.markdown import render_comment
from blueprints.core.models import AuditEntry
from blueprints.core.states import claim_status
from blueprints.core.types import utcnow
from extensions import db

# A staff reply sent again this soon, same words to the same comment, is a double click.
STAFF_DUPLICATE_WINDOW = timedelta(minutes=1)


def _lock_for_reply(answered):
    """Hold ``answered``'s row until the commit (PostgreSQL; on SQLite this takes the
    write lock), so two replies to it sent at once are checked one after the other."""
    db.session.execute(
        update(Comment).where(Comment.id == answered.id).values(id=Comment.id),
        execution_options={"synchronize_session": False},
    )


def _recent_staff_reply(answered, actor, body):
    """The reply with these words that ``actor`` posted to ``answered`` within
    ``STAFF_DUPLICATE_WINDOW`` (a double click, a resend), or None. The reply's row says
    which thread it joined; its audit entry says which comment it answered."""
    since = utcnow() - STAFF_DUPLICATE_WINDOW
    replies = select(Comment.id).where(
        Comment.by_staff.is_(True),
        Comment.body_md == body,
        Comment.author_email == normalise_email(actor.email),
        Comment.created_at >= since,
    )
    entries = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.actor_id == actor.id,
            AuditEntry.action == "comment.reply",
            AuditEntry.record_type == "comment",
            AuditEntry.record_id.in_(replies),
        )
    )
    for entry in entries:
        if entry.detail.get("answers") == answered.id:
            return db.session.get(Comment, entry.record_id)
    return None


def staff_reply_name(actor, post):
    """The name a reply by ``actor`` is published under: the owner's replies are the
    post's author's (Dr. Brown, the "Author" badge, ``as_author``); an assistant's carry
    her own name and the team badge."""
    if is_owner(actor):
        return post.author_name
    return (actor.name or "").strip()[:80] or "Dr. Brown's team"


def add_staff_reply(answered, *, body, actor):
    """Publish a staff reply to ``answered`` and approve the comment it answers (and
    that comment's thread, if it waits too). ``actor`` is the staff account that wrote
    it: the owner's reply is published as the post's author (Dr. Brown) with the
    "Author" badge, an assistant's under her own name with the team badge
    (``staff_reply_name``).

    Only a view that checked the user is signed in as staff may call this; ``by_staff``
    is set here and nowhere else. A reply to a reply joins the thread, as readers' do.
    The commenter answered is emailed once that Dr. Brown replied (unless she asked not
    to be, ``stop_reply_notices``); other commenters whose comment this approves are
    emailed as on any approval. The same words sent again by the same staff member to
    the same comment within a minute (a double click) are not published twice: the
    first reply is returned, and nobody is emailed again. Flushes, never commits;
    returns the reply.
    """
    _lock_for_reply(answered)
    duplicate = _recent_staff_reply(answered, actor, body)
    if duplicate is not None:
        return duplicate
    top = db.session.get(Comment, answered.parent_id) if answered.parent_id else answered
    now = utcnow()
    approved = [
        comment
        for comment in dict.fromkeys((top, answered))
        if claim_status(comment, CommentStatus.APPROVED, moderated_at=now)
    ]
    reply = Comment(
        post_id=top.post_id,
        parent_id=top.id,
        author_name=staff_reply_name(actor, top.post),
        author_email=normalise_email(actor.email),
        body_md=body,
        body_html=render_comment(body),
        status=CommentStatus.APPROVED,
        by_staff=True,
        as_author=is_owner(actor),
        created_at=now,
        moderated_at=now,
    )
    db.session.add(reply)
    db.session.flush()
    for comment in approved:
        record_staff_action(
            actor.id, "comment.approve", "comment", comment.id, {"by_reply": reply.id}
        )
    record_staff_action(
        actor.id,
        "comment.reply",
        "comment",
        reply.id,
        {"answers": answered.id, "post": top.post_id},
    )
    # Her own comments this reply published are in the reply's email, not a second one.
    hers = [c for c in approved if c.author_email == answered.author_email]
    if not answered.by_staff and reply_notices_wanted(answered.author_email):
        notify_commenter_of_reply(answered, reply, hers)
        approved = [c for c in approved if c not in hers]
    notify_commenters_published(approved)
    invalidate_after_commit(post_page_tag(top.post.slug))
    return reply


# --- moderation (staff) ------------------------------------------------------------------


class ModerationAction:
    APPROVE = "approve"
    SPAM = "spam"
    DELETE = "delete"

    CHOICES = (
        (APPROVE, "Approve"),
        (SPAM, "Mark as spam"),
        (DELETE, "Delete"),
    )
    ALL = frozenset(value for value, _label in CHOICES)


# The status each action moves a comment to (deleting is not a status).
_ACTION_STATUS = {
    ModerationAction.APPROVE: CommentStatus.APPROVED,
    ModerationAction.SPAM: CommentStatus.SPAM,
}


def moderate_comments(comment_ids, action, *, actor):
    """Approve, mark as spam, or delete these comments (deleting one also deletes its
    replies). Unknown ids are ignored, and so is a comment already in the status the
    action leads to (``COMMENT_TRANSITIONS``). The readers whose comments this approves
    are emailed that they are published, with their "confirm it's you" link. Each
    comment acted on gets an audit entry naming ``actor``, the staff account (None: the
    reader's own request, deleting her account, which is not a staff action). Flushes;
    returns how many comments were acted on."""
    ids = {int(i) for i in comment_ids}
    if not ids:
        return 0
    if action not in ModerationAction.ALL:
        raise ValueError(f"unknown moderation action: {action!r}")
    # Only the posts these comments belong to show them.
    slugs = db.session.scalars(
        select(Post.slug).join(Comment, Comment.post_id == Post.id).where(Comment.id.in_(ids))
    ).all()
    invalidate_after_commit(*{post_page_tag(slug) for slug in slugs})
    if action == ModerationAction.DELETE:
        return _delete_comments(ids, actor)
    status = _ACTION_STATUS[action]
    # One compare-and-set UPDATE for the whole selection: a comment that another
    # moderator moved first is left as they left it, and not counted (nor emailed).
    moved = db.session.scalars(
        update(Comment)
        .where(Comment.id.in_(ids), Comment.status.in_(COMMENT_TRANSITIONS.sources(status)))
        .values(status=status, moderated_at=utcnow())
        .returning(Comment.id),
        execution_options={"synchronize_session": False},
    ).all()
    db.session.expire_all()
    for comment_id in sorted(moved):
        if actor is not None:
            record_staff_action(actor.id, f"comment.{action}", "comment", comment_id)
    if moved and status == CommentStatus.APPROVED:
        notify_commenters_published(
            db.session.scalars(
                select(Comment)
                .where(Comment.id.in_(moved))
                .options(joinedload(Comment.post))
                .order_by(Comment.id)
            ).all()
        )
    return len(moved)


def _delete_comments(ids, actor):
    """Delete these comments and their replies; how many of ``ids`` existed."""
    found = db.session.scalars(select(Comment.id).where(Comment.id.in_(ids))).all()
    # Replies go one level deep; the database cascade is not relied on (SQLite).
    db.session.execute(
        delete(Comment).where(or_(Comment.id.in_(ids), Comment.parent_id.in_(ids))),
        execution_options={"synchronize_session": False},
    )
    db.session.expire_all()
    for comment_id in sorted(found):
        if actor is not None:
            record_staff_action(actor.id, "comment.delete", "comment", comment_id)
    return len(found)


def moderation_queue_query(status=None):
    """Comments with their posts, pending first and newest first within a status."""
    query = select(Comment).join(Comment.post).options(contains_eager(Comment.post))
    if status is not None:
        query = query.where(Comment.status == status)
    pending_first = case((Comment.status == CommentStatus.PENDING, 0), else_=1)
    return query.order_by(pending_first, Comment.created_at.desc(), Comment.id.desc())
