"""A reader's data on the blog: her comments and whether she stopped the emails about
replies to them, for her download, and what becomes of them when she deletes her account
(comments shown as "a reader", or removed, as she chooses; the stop forgotten)."""

from sqlalchemy import delete, func, select, update

from blueprints.blog.cache_tags import post_page_tag
from blueprints.blog.models import Comment, Post, ReplyNoticeOptOut
from blueprints.blog.moderation import ModerationAction, moderate_comments
from blueprints.core.addresses import normalise_email
from blueprints.core.cache_tags import invalidate_after_commit
from extensions import db

ANONYMOUS_NAME = "a reader"
KEEP_ANONYMOUS = "anonymise"
REMOVE = "remove"


def _when(value):
    return value.isoformat() if value else None


def _of(email):
    return (
        select(Comment, Post.title, Post.slug)
        .join(Post, Post.id == Comment.post_id)
        .where(func.lower(Comment.author_email) == normalise_email(email))
        .where(Comment.by_staff.is_(False))
    )


def comments_for_export(email):
    """Every comment written with ``email`` as plain dicts, with its post and state."""
    rows = db.session.execute(_of(email).order_by(Comment.id)).all()
    return [
        {
            "post": title,
            "post_slug": slug,
            "name": comment.author_name,
            "text": comment.body_md,
            "status": str(comment.status),
            "written_at": _when(comment.created_at),
            "moderated_at": _when(comment.moderated_at),
        }
        for comment, title, slug in rows
    ]


def reply_notices_for_export(email):
    """``{"stopped_at": ...}`` when ``email`` asked not to be told of replies to her
    comments, else None."""
    stopped = db.session.scalar(
        select(ReplyNoticeOptOut.created_at).where(
            ReplyNoticeOptOut.email == normalise_email(email)
        )
    )
    return {"stopped_at": _when(stopped)} if stopped else None


def erase_comments_of(email, choice):
    """Her account is being deleted: her comments are shown as written by "a reader"
    with no address (``KEEP_ANONYMOUS``), or removed with the replies to them
    (``REMOVE``); her request to hear of no replies goes too (it holds her address).
    Returns how many comments were changed. Flushes."""
    if choice not in (KEEP_ANONYMOUS, REMOVE):
        raise ValueError(f"unknown choice for comments: {choice!r}")
    db.session.execute(
        delete(ReplyNoticeOptOut)
        .where(ReplyNoticeOptOut.email == normalise_email(email))
        .execution_options(synchronize_session=False)
    )
    rows = db.session.execute(_of(email)).all()
    if not rows:
        return 0
    ids = [comment.id for comment, _title, _slug in rows]
    if choice == REMOVE:
        return moderate_comments(ids, ModerationAction.DELETE, actor=None)  # her request
    db.session.execute(
        update(Comment)
        .where(Comment.id.in_(ids))
        .values(author_name=ANONYMOUS_NAME, author_email="")
        .execution_options(synchronize_session=False)
    )
    invalidate_after_commit(*{post_page_tag(slug) for _comment, _title, slug in rows})
    db.session.expire_all()
    return len(ids)
