"""Readers' comments: taking one (approved at once or held), the approved threads under
a post, staff replies, and staff moderation of the queue.

A post page reads a page of its comments (ten threads, their replies and the totals) in
one query (``approved_threads``); a reader whose session remembers her own waiting
comments runs one more (``own_pending``), on her private, never cached, page. Every change of a
comment's status follows ``COMMENT_TRANSITIONS`` (``models.py``). What the public form
says about its author is never proof (``commenters.py``): only a staff member signed in
writes a staff reply, and only the owner's carries the "Author" badge (``add_staff_reply``).
"""

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, delete, exists, func, or_, select, update
from sqlalchemy.orm import contains_eager, joinedload

from blueprints.account.roles import is_owner
from blueprints.blog.cache_tags import post_page_tag
from blueprints.blog.commenters import looks_like_staff, reply_notices_wanted
from blueprints.blog.emails import (
    notify_commenter_of_reply,
    notify_commenters_published,
    notify_staff_comment_pending,
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
from blueprints.core.markdown import count_links, render_comment
from blueprints.core.models import AuditEntry
from blueprints.core.states import claim_status
from blueprints.core.types import utcnow
from extensions import db

# A comment with more links than this waits for a person, whoever wrote it.
MAX_LINKS_WITHOUT_MODERATION = 2
DUPLICATE_WINDOW = timedelta(minutes=10)
# A staff reply sent again this soon, same words to the same comment, is a double click.
STAFF_DUPLICATE_WINDOW = timedelta(minutes=1)


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
