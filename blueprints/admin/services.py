"""Staff operations on the blog: saving, publishing and unpublishing posts, and
moderating comments. Each function flushes and never commits; the view commits once.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from blueprints.blog.models import (
    Comment,
    CommentStatus,
    Post,
    PostStatus,
    Reference,
    Tag,
)
from blueprints.core.cache import invalidate_after_commit
from blueprints.core.markdown import render_post
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import utcnow
from extensions import db

SLUG_MAX = 200
TAG_MAX = 80
URL_MAX = 500
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_URL_AT_END = re.compile(r"^(?P<citation>.*?)\s+(?P<url>https?://\S+)$")


class SlugTakenError(ValueError):
    """Another post already uses this slug."""


def slugify(text, max_length=SLUG_MAX):
    """``"Bone & Muscle: 5 tips"`` -> ``"bone-muscle-5-tips"`` (ASCII, lowercase, hyphens)."""
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


# --- parsing the editor's text fields ---------------------------------------------------


def parse_tag_names(text):
    """Comma-separated tag names, trimmed, without empties or duplicates (by slug)."""
    names, seen = [], set()
    for raw in (text or "").split(","):
        name = " ".join(raw.split())[:TAG_MAX]
        slug = slugify(name, TAG_MAX)
        if slug and slug not in seen:
            seen.add(slug)
            names.append(name)
    return names


@dataclass(frozen=True)
class ParsedReference:
    citation: str
    url: str | None


def parse_references(text):
    """One reference per line; an http(s) URL at the end of a line becomes its link."""
    references = []
    for line in (text or "").splitlines():
        line = " ".join(line.split())
        if not line:
            continue
        match = _URL_AT_END.match(line)
        if match:
            references.append(ParsedReference(match["citation"], match["url"]))
        elif line.startswith(("http://", "https://")) and " " not in line:
            references.append(ParsedReference(line, line))
        else:
            references.append(ParsedReference(line, None))
    return references


def references_text(post):
    """The editor's text for a post's references (the inverse of ``parse_references``)."""
    return "\n".join(
        f"{ref.citation} {ref.url}" if ref.url and ref.url != ref.citation else ref.citation
        for ref in post.references
    )


def reviewed_at_from_date(day: date | None):
    """A review date becomes noon in the practitioner's zone, so it shows as that day
    to readers in every zone."""
    if day is None:
        return None
    return datetime.combine(day, time(12), tzinfo=practitioner_zone())


def reviewed_date(post):
    if post.reviewed_at is None:
        return None
    return post.reviewed_at.astimezone(practitioner_zone()).date()


# --- posts ------------------------------------------------------------------------------


def _tags_for(names):
    """Tag rows for these names, creating the missing ones (matched by slug)."""
    slugs = {slugify(name, TAG_MAX): name for name in names}
    existing = {tag.slug: tag for tag in db.session.scalars(select(Tag).where(Tag.slug.in_(slugs)))}
    tags = []
    for slug, name in slugs.items():
        tag = existing.get(slug)
        if tag is None:
            tag = Tag(slug=slug, name=name)
            db.session.add(tag)
        tags.append(tag)
    return tags


def _set_references(post, parsed):
    # Reuse rows by position: replacing the whole list would insert before deleting
    # and trip the (post_id, position) unique constraint.
    current = list(post.references)
    for position, ref in enumerate(parsed, start=1):
        if position <= len(current):
            row = current[position - 1]
            row.citation, row.url = ref.citation, ref.url
        else:
            post.references.append(Reference(position=position, citation=ref.citation, url=ref.url))
    for row in current[len(parsed) :]:
        post.references.remove(row)


def slug_is_taken(slug, post_id=None):
    query = select(Post.id).where(Post.slug == slug)
    if post_id is not None:
        query = query.where(Post.id != post_id)
    return db.session.scalar(query.limit(1)) is not None


def save_post(
    post,
    *,
    title,
    slug,
    summary,
    body_md,
    tag_names,
    references,
    reviewed_on=None,
):
    """Create (``post=None``) or update a post from the editor's values, rendering its
    body to sanitised HTML. The slug comes from the title when empty. Raises
    ``SlugTakenError`` when another post has the slug. Flushes; returns the post."""
    slug = slug or slugify(title)
    if not slug:
        slug = "post"
    if slug_is_taken(slug, post.id if post is not None else None):
        raise SlugTakenError(slug)
    if post is None:
        post = Post(status=PostStatus.DRAFT)
        db.session.add(post)
    elif post.status == PostStatus.PUBLISHED:
        # Its page (under the old address too) and every list showing it.
        invalidate_after_commit("blog", f"post:{post.slug}", f"post:{slug}")
    post.title = title
    post.slug = slug
    post.summary = summary or ""
    post.body_md = body_md
    post.body_html = render_post(body_md)
    post.reviewed_at = reviewed_at_from_date(reviewed_on)
    post.tags = _tags_for(tag_names)
    _set_references(post, references)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        # Two editors saving the same slug at once: the unique index decides.
        if slug_is_taken(slug, post.id):
            raise SlugTakenError(slug) from exc
        raise
    return post


def publish_post(post):
    """Make a post public; it keeps its first publication date if it had one. Flushes."""
    # The date first: reading it may load the row, and a flush between the two
    # assignments would break the "published has a date" CHECK.
    if post.published_at is None:
        post.published_at = utcnow()
    post.status = PostStatus.PUBLISHED
    db.session.flush()
    invalidate_after_commit("blog", f"post:{post.slug}")
    return post


def unpublish_post(post):
    """Take a post back to draft (its publication date is kept for a later re-publish)."""
    post.status = PostStatus.DRAFT
    db.session.flush()
    invalidate_after_commit("blog", f"post:{post.slug}")
    return post


# --- comments ---------------------------------------------------------------------------


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


def moderate_comments(comment_ids, action):
    """Approve, mark as spam, or delete these comments (deleting one also deletes its
    replies). Unknown ids are ignored. Flushes; returns how many comments were acted on."""
    ids = {int(i) for i in comment_ids}
    if not ids:
        return 0
    if action not in ModerationAction.ALL:
        raise ValueError(f"unknown moderation action: {action!r}")
    # Only the posts these comments belong to show them.
    slugs = db.session.scalars(
        select(Post.slug).join(Comment, Comment.post_id == Post.id).where(Comment.id.in_(ids))
    ).all()
    invalidate_after_commit(*{f"post:{slug}" for slug in slugs})
    if action == ModerationAction.DELETE:
        found = (
            db.session.scalar(select(func.count()).select_from(Comment).where(Comment.id.in_(ids)))
            or 0
        )
        # Replies go one level deep; the database cascade is not relied on (SQLite).
        db.session.execute(
            delete(Comment).where(or_(Comment.id.in_(ids), Comment.parent_id.in_(ids))),
            execution_options={"synchronize_session": False},
        )
        db.session.expire_all()
        return found
    status = CommentStatus.APPROVED if action == ModerationAction.APPROVE else CommentStatus.SPAM
    comments = db.session.scalars(select(Comment).where(Comment.id.in_(ids))).all()
    now = utcnow()
    for comment in comments:
        comment.status = status
        comment.moderated_at = now
    db.session.flush()
    return len(comments)


def moderation_queue_query(status=None):
    """Comments with their posts, pending first and newest first within a status."""
    query = select(Comment).join(Comment.post).options(contains_eager(Comment.post))
    if status is not None:
        query = query.where(Comment.status == status)
    pending_first = case((Comment.status == CommentStatus.PENDING, 0), else_=1)
    return query.order_by(pending_first, Comment.created_at.desc(), Comment.id.desc())


# --- dashboard figures ---------------------------------------------------------------------


def blog_counts():
    """Pending comments, draft posts and published posts, in one query."""
    pending = (
        select(func.count())
        .select_from(Comment)
        .where(Comment.status == CommentStatus.PENDING)
        .scalar_subquery()
    )
    drafts = (
        select(func.count())
        .select_from(Post)
        .where(Post.status == PostStatus.DRAFT)
        .scalar_subquery()
    )
    published = (
        select(func.count())
        .select_from(Post)
        .where(Post.status == PostStatus.PUBLISHED)
        .scalar_subquery()
    )
    row = db.session.execute(select(pending, drafts, published)).one()
    return {"pending_comments": row[0], "draft_posts": row[1], "published_posts": row[2]}
