"""Readers' comments: taking one (approved at once or held), the approved threads under
a post, staff replies, and staff moderation of the queue.

A post page reads its comments in one query (``approved_threads``). Every change of a
comment's status follows ``COMMENT_TRANSITIONS`` (``models.py``). What the public form
says about its author is never proof (``commenters.py``): only a staff member signed in
writes a reply with the "Author" badge (``add_staff_reply``).
"""

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, delete, exists, func, or_, select, update
from sqlalchemy.orm import contains_eager, joinedload

from blueprints.blog.cache_tags import post_page_tag
from blueprints.blog.commenters import looks_like_staff
from blueprints.blog.emails import notify_commenters_published, notify_staff_comment_pending
from blueprints.blog.models import COMMENT_TRANSITIONS, Comment, CommentStatus, Post
from blueprints.core.addresses import normalise_email
from blueprints.core.cache_tags import invalidate_after_commit
from blueprints.core.markdown import count_links, render_comment
from blueprints.core.states import claim_status
from blueprints.core.types import utcnow
from extensions import db

# A comment with more links than this waits for a person, whoever wrote it.
MAX_LINKS_WITHOUT_MODERATION = 2
DUPLICATE_WINDOW = timedelta(minutes=10)


def has_control_characters(text, allow_newlines=True):
    """True when ``text`` holds control characters (other than newline, CR and tab)."""
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)


# --- threads under a post ----------------------------------------------------------------


@dataclass
class ThreadedComment:
    """An approved comment as the post shows it; a top-level one carries its approved
    replies, oldest first (replies go one level deep)."""

    id: int
    author_name: str
    body_html: str
    created_at: datetime
    by_staff: bool = False
    replies: list["ThreadedComment"] = field(default_factory=list)


_comment = Comment.__table__.c
_APPROVED_COMMENTS = (
    select(*_comment["id", "parent_id", "author_name", "body_html", "created_at", "by_staff"])
    .where(_comment.post_id == bindparam("post_id"), _comment.status == CommentStatus.APPROVED)
    .order_by(_comment.created_at, _comment.id)
)


def approved_threads(post):
    """The post's approved top-level comments (``ThreadedComment``), oldest first, with
    their replies: one query, replies grouped here."""
    threads = {}
    for row in db.session.execute(_APPROVED_COMMENTS, {"post_id": post.id}):
        comment = ThreadedComment(
            row.id, row.author_name, row.body_html, row.created_at, bool(row.by_staff)
        )
        if row.parent_id is None:
            threads[row.id] = comment
        elif row.parent_id in threads:
            threads[row.parent_id].replies.append(comment)
    return list(threads.values())


def reply_target(post, parent_id):
    """The approved top-level comment a reply attaches to, or None.

    A reply to a reply attaches to that reply's parent: threads are one level deep.
    """
    if parent_id is None:
        return None
    parent = db.session.get(Comment, parent_id)
    if parent is not None and parent.parent_id is not None:
        parent = db.session.get(Comment, parent.parent_id)
    if parent is None or parent.post_id != post.id or parent.status != CommentStatus.APPROVED:
        return None
    return parent


# --- taking a comment ----------------------------------------------------------------------


def is_trusted_address(email):
    """True when this address already has an approved comment from the public form."""
    return db.session.scalar(
        select(
            exists().where(
                Comment.author_email == email,
                Comment.status == CommentStatus.APPROVED,
                Comment.by_staff.is_(False),
            )
        )
    )


def _reason_to_hold(name, email, body, proven):
    """Why a reader's comment must wait for a person (one sentence for the staff email),
    or None when it may appear at once."""
    if looks_like_staff(name):
        return "the name looks like one of ours; check it is not someone pretending."
    if count_links(body) > MAX_LINKS_WITHOUT_MODERATION:
        return f"it has more than {MAX_LINKS_WITHOUT_MODERATION} links."
    if not is_trusted_address(email):
        return "this is the first comment from this address."
    if not proven:
        return (
            "the address has approved comments, but this browser has not confirmed it "
            "(anyone can type an address)."
        )
    return None


def _recent_duplicate(post, email, body):
    """The same comment sent again within minutes (a double click, a resend), or None."""
    return db.session.scalars(
        select(Comment)
        .where(
            Comment.post_id == post.id,
            Comment.author_email == email,
            Comment.body_md == body,
            Comment.created_at >= utcnow() - DUPLICATE_WINDOW,
        )
        .limit(1)
    ).first()


def add_comment(post, *, name, email, body, parent=None, proven=False):
    """Store a reader's comment, approved at once or held for moderation.

    It appears at once only with proof, never on typed fields alone: the address has an
    approved comment and ``proven`` (the browser carries the signed known-commenter
    cookie for this address, ``commenters.cookie_proves``). Anything else waits for
    staff, and so does a name that looks like ours (``commenters.looks_like_staff``) or
    a comment with more than ``MAX_LINKS_WITHOUT_MODERATION`` links, whoever sent it.
    Staff are emailed (through the outbox, after the commit) about each comment that
    waits, with the reason. The same comment sent twice in a few minutes is stored once.
    Flushes, never commits.
    """
    email = normalise_email(email)
    duplicate = _recent_duplicate(post, email, body)
    if duplicate is not None:
        return duplicate
    reason = _reason_to_hold(name, email, body, proven)
    held = reason is not None
    now = utcnow()
    comment = Comment(
        post_id=post.id,
        parent_id=parent.id if parent is not None else None,
        author_name=name.strip(),
        author_email=email,
        body_md=body,
        body_html=render_comment(body),
        status=CommentStatus.PENDING if held else CommentStatus.APPROVED,
        created_at=now,
        moderated_at=None if held else now,
    )
    db.session.add(comment)
    db.session.flush()
    if held:
        notify_staff_comment_pending(comment, reason)
    else:
        invalidate_after_commit(post_page_tag(post.slug))  # it shows on the post at once
    return comment


def add_staff_reply(answered, *, author_name, author_email, body):
    """Publish a staff member's reply to ``answered`` with the "Author" badge, and
    approve the comment it answers (and that comment's thread, if it waits too).

    Only a view that checked the user is signed in as staff may call this; ``by_staff``
    is set here and nowhere else. A reply to a reply joins the thread, as readers' do.
    Commenters whose comment this approves are emailed as on any approval. Flushes,
    never commits; returns the reply.
    """
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
        author_name=author_name.strip(),
        author_email=normalise_email(author_email),
        body_md=body,
        body_html=render_comment(body),
        status=CommentStatus.APPROVED,
        by_staff=True,
        created_at=now,
        moderated_at=now,
    )
    db.session.add(reply)
    db.session.flush()
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


def moderate_comments(comment_ids, action):
    """Approve, mark as spam, or delete these comments (deleting one also deletes its
    replies). Unknown ids are ignored, and so is a comment already in the status the
    action leads to (``COMMENT_TRANSITIONS``). The readers whose comments this approves
    are emailed that they are published, with their "confirm it's you" link. Flushes;
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
        return _delete_comments(ids)
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


def _delete_comments(ids):
    """Delete these comments and their replies; how many of ``ids`` existed."""
    found = (
        db.session.scalar(select(func.count()).select_from(Comment).where(Comment.id.in_(ids))) or 0
    )
    # Replies go one level deep; the database cascade is not relied on (SQLite).
    db.session.execute(
        delete(Comment).where(or_(Comment.id.in_(ids), Comment.parent_id.in_(ids))),
        execution_options={"synchronize_session": False},
    )
    db.session.expire_all()
    return found


def moderation_queue_query(status=None):
    """Comments with their posts, pending first and newest first within a status."""
    query = select(Comment).join(Comment.post).options(contains_eager(Comment.post))
    if status is not None:
        query = query.where(Comment.status == status)
    pending_first = case((Comment.status == CommentStatus.PENDING, 0), else_=1)
    return query.order_by(pending_first, Comment.created_at.desc(), Comment.id.desc())
