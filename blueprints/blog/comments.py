"""Readers' comments: taking one (approved at once or held) and the approved threads
under a post. Staff replies and the moderation queue are in ``moderation.py``.

A post page reads a page of its comments (ten threads, their replies and the totals) in
one query (``approved_threads``); a reader whose session remembers her own waiting
comments runs one more (``own_pending``), on her private, never cached, page. Every change of a
comment's status follows ``COMMENT_TRANSITIONS`` (``models.py``). What the public form
says about its author is never proof (``commenters.py``): only a staff member signed in
writes a staff reply, and only the owner's carries the "Author" badge
(``moderation.add_staff_reply``).
"""

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, func, or_, select

from blueprints.blog.cache_tags import post_page_tag
from blueprints.blog.commenters import looks_like_staff
from blueprints.blog.emails import (
    notify_staff_comment_pending,
)
from blueprints.blog.models import (
    Comment,
    CommentStatus,
)
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
    by_staff: bool = False
    as_author: bool = False
    replies: list["ThreadedComment"] = field(default_factory=list)


_comment = Comment.__table__.c
THREADS_PER_PAGE = 10
# How many of her own waiting comments a reader's session remembers (newest kept).
MAX_REMEMBERED_PENDING = 20

_approved_here = (
    _comment.post_id == bindparam("post_id"),
    _comment.status == CommentStatus.APPROVED,
)
# The page's top-level threads: oldest first, ``limit`` from ``offset``.
_page_threads = (
    select(_comment.id)
    .where(*_approved_here, _comment.parent_id.is_(None))
    .order_by(_comment.created_at, _comment.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
    .subquery("page_threads")
)
_Counted = Comment.__table__.alias("counted")
_count_approved = (
    select(func.count())
    .select_from(_Counted)
    .where(
        _Counted.c.post_id == bindparam("post_id"),
        _Counted.c.status == CommentStatus.APPROVED,
    )
)
# One statement for a page of comments: its threads with their replies, and on every
# row the post's approved comments and threads in all (the pager and the heading).
_APPROVED_PAGE = (
    select(
        *_comment[
            "id", "parent_id", "author_name", "body_html", "created_at", "by_staff", "as_author"
        ],
        _count_approved.scalar_subquery().label("total"),
        _count_approved.where(_Counted.c.parent_id.is_(None)).scalar_subquery().label("threads"),
    )
    .where(
        *_approved_here,
        or_(
            _comment.id.in_(select(_page_threads.c.id)),
            _comment.parent_id.in_(select(_page_threads.c.id)),
        ),
    )
    .order_by(_comment.created_at, _comment.id)
)


@dataclass
class CommentPage:
    """One page of a post's approved threads (``ThreadedComment``), with the numbers the
    pager and the heading show: ``total`` approved comments (replies included) and
    ``thread_count`` top-level ones in all."""

    threads: list
    page: int
    total: int
    thread_count: int
    per_page: int = THREADS_PER_PAGE

    @property
    def pages(self):
        return max(1, -(-self.thread_count // self.per_page))


def approved_threads(post, page=1):
    """Page ``page`` of the post's approved top-level comments (``ThreadedComment``),
    oldest first, ``THREADS_PER_PAGE`` to a page, each with its replies: one query
    (the counts ride along on every row), replies grouped here. A ``CommentPage``; past
    the last page its threads are empty."""
    threads = {}
    total = thread_count = 0
    params = {
        "post_id": post.id,
        "limit": THREADS_PER_PAGE,
        "offset": (page - 1) * THREADS_PER_PAGE,
    }
    for row in db.session.execute(_APPROVED_PAGE, params):
        total, thread_count = row.total, row.threads
        comment = ThreadedComment(
            row.id,
            row.author_name,
            row.body_html,
            row.created_at,
            bool(row.by_staff),
            bool(row.as_author),
        )
        if row.parent_id is None:
            threads[row.id] = comment
        elif row.parent_id in threads:
            threads[row.parent_id].replies.append(comment)
    return CommentPage(list(threads.values()), page, total, thread_count)


def thread_page(comment):
    """The page of the post's comments that shows ``comment`` (its thread's page)."""
    top = db.session.get(Comment, comment.parent_id) if comment.parent_id else comment
    before = db.session.scalar(
        select(func.count()).where(
            Comment.post_id == top.post_id,
            Comment.status == CommentStatus.APPROVED,
            Comment.parent_id.is_(None),
            or_(
                Comment.created_at < top.created_at,
                and_(Comment.created_at == top.created_at, Comment.id < top.id),
            ),
        )
    )
    return before // THREADS_PER_PAGE + 1


def shown_comment(comment_id):
    """The comment with this id when readers are shown it (approved, in a thread whose
    first comment is approved too), or None. Whether its post is published is the
    caller's to check (``posts.published_post``)."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.status != CommentStatus.APPROVED:
        return None
    if comment.parent_id is not None:
        top = db.session.get(Comment, comment.parent_id)
        if top is None or top.status != CommentStatus.APPROVED:
            return None
    return comment


@dataclass
class PendingComment:
    """A reader's own comment that waits for moderation, as only she is shown it."""

    id: int
    author_name: str
    body_html: str
    created_at: datetime
    replying_to: str | None


def own_pending(post, remembered_ids):
    """The reader's own comments (``remembered_ids``, from her session) that still wait
    for moderation: ``(on_this_post, still_waiting_ids)``, one query. The ids still
    waiting, on any post, are what her session keeps; the others are forgotten."""
    ids = [i for i in remembered_ids if isinstance(i, int)]
    if not ids:
        return [], []
    parent = Comment.__table__.alias("parent")
    rows = db.session.execute(
        select(
            *_comment["id", "post_id", "author_name", "body_html", "created_at"],
            parent.c.author_name.label("parent_name"),
        )
        .outerjoin(parent, parent.c.id == _comment.parent_id)
        .where(_comment.id.in_(ids), _comment.status == CommentStatus.PENDING)
        .order_by(_comment.created_at, _comment.id)
    ).all()
    here = [
        PendingComment(r.id, r.author_name, r.body_html, r.created_at, r.parent_name)
        for r in rows
        if r.post_id == post.id
    ]
    return here, [r.id for r in rows]


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
    cookie for this address, ``commenters.cookie_proves``, or the reader is signed in to
    the customer account of this address). Anything else waits for
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
