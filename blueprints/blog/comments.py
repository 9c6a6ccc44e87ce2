"""Readers' comments: taking one (approved at once or held), the approved threads under
a post, and staff moderation of the queue.

A post page reads its comments in one query (``approved_threads``). Every change of a
comment's status follows ``COMMENT_TRANSITIONS`` (``models.py``).
"""

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, delete, exists, func, or_, select, update
from sqlalchemy.orm import contains_eager

from blueprints.blog.cache_tags import post_page_tag
from blueprints.blog.emails import notify_staff_comment_pending
from blueprints.blog.models import COMMENT_TRANSITIONS, Comment, CommentStatus, Post
from blueprints.core.addresses import normalise_email
from blueprints.core.cache_tags import invalidate_after_commit
from blueprints.core.markdown import count_links, render_comment
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
    replies: list["ThreadedComment"] = field(default_factory=list)


_comment = Comment.__table__.c
_APPROVED_COMMENTS = (
    select(*_comment["id", "parent_id", "author_name", "body_html", "created_at"])
    .where(_comment.post_id == bindparam("post_id"), _comment.status == CommentStatus.APPROVED)
    .order_by(_comment.created_at, _comment.id)
)


def approved_threads(post):
    """The post's approved top-level comments (``ThreadedComment``), oldest first, with
    their replies: one query, replies grouped here."""
    threads = {}
    for row in db.session.execute(_APPROVED_COMMENTS, {"post_id": post.id}):
        comment = ThreadedComment(row.id, row.author_name, row.body_html, row.created_at)
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
    """True when this address already has an approved comment."""
    return db.session.scalar(
        select(
            exists().where(Comment.author_email == email, Comment.status == CommentStatus.APPROVED)
        )
    )


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


def add_comment(post, *, name, email, body, parent=None):
    """Store a reader's comment, approved at once or held for moderation.

    A first comment from an address waits for staff; later ones from an address with
    an approved comment appear at once, unless they carry more than
    ``MAX_LINKS_WITHOUT_MODERATION`` links. Staff are emailed (through the outbox, after
    the commit) about each comment that waits. The same comment sent twice in a few
    minutes is stored once. Flushes, never commits.
    """
    email = normalise_email(email)
    duplicate = _recent_duplicate(post, email, body)
    if duplicate is not None:
        return duplicate
    trusted = is_trusted_address(email)
    held = not trusted or count_links(body) > MAX_LINKS_WITHOUT_MODERATION
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
        notify_staff_comment_pending(comment)
    else:
        invalidate_after_commit(post_page_tag(post.slug))  # it shows on the post at once
    return comment


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
    action leads to (``COMMENT_TRANSITIONS``). Flushes; returns how many comments were
    acted on."""
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
    # moderator moved first is left as they left it, and not counted.
    result = db.session.execute(
        update(Comment)
        .where(Comment.id.in_(ids), Comment.status.in_(COMMENT_TRANSITIONS.sources(status)))
        .values(status=status, moderated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    db.session.expire_all()
    return result.rowcount


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
