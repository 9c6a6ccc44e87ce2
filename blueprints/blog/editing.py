"""Writing posts: the staff editor's saves, publishing and unpublishing, slugs, tags and
references, and the dashboard's figures. The seed data and tests write posts through
``create_post``. Each function flushes and never commits; the view commits once.
"""

import re
import unicodedata
from datetime import date, datetime, time

from sqlalchemy import Text, cast, false, func, literal, select, update
from sqlalchemy.exc import IntegrityError

from blueprints.blog.cache_tags import BLOG_TAG, post_page_tag
from blueprints.blog.models import (
    Comment,
    CommentStatus,
    Post,
    PostAutosave,
    PostStatus,
    Tag,
)
from blueprints.blog.posts import MAX_SLUG_LENGTH
from blueprints.blog.references import as_reference_data, render_body, set_references
from blueprints.blog.revisions import record_revision
from blueprints.core.audit import record_staff_action
from blueprints.core.cache_tags import invalidate_after_commit
from blueprints.core.errors import UserError
from blueprints.core.states import claim_status
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import UTCDateTime, utcnow
from extensions import db

# The columns' sizes (models.py), so the editor refuses more rather than the database.
MAX_TITLE_LENGTH = 200
MAX_SUMMARY_LENGTH = 500
MAX_TAG_LENGTH = 80
# A post without a title that makes a slug ("!!!") still needs an address.
FALLBACK_SLUG = "post"


class SlugTakenError(UserError):
    """Another post already uses this slug."""

    default_message = "Another post already uses this web address."


def slugify(text, max_length=MAX_SLUG_LENGTH):
    """``"Bone & Muscle: 5 tips"`` -> ``"bone-muscle-5-tips"`` (ASCII, lower case,
    hyphens), at most ``max_length`` characters."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


# --- the editor's text fields -------------------------------------------------------------


def parse_tag_names(text):
    """Comma-separated tag names, trimmed, without empties or duplicates (by slug)."""
    names, seen = [], set()
    for raw in (text or "").split(","):
        name = " ".join(raw.split())[:MAX_TAG_LENGTH]
        slug = slugify(name, MAX_TAG_LENGTH)
        if slug and slug not in seen:
            seen.add(slug)
            names.append(name)
    return names


def reviewed_at_from_date(day: date | None):
    """A review date becomes noon in the practitioner's zone, so it shows as that day
    to readers in every zone."""
    if day is None:
        return None
    return datetime.combine(day, time(12), tzinfo=practitioner_zone())


def reviewed_date(post):
    """The day the editor shows for a post's review (the inverse of
    ``reviewed_at_from_date``), or None."""
    if post.reviewed_at is None:
        return None
    return post.reviewed_at.astimezone(practitioner_zone()).date()


# --- saving posts -----------------------------------------------------------------------


def tags_named(names):
    """The tags with these names, created when missing (matched by slug)."""
    wanted = {}
    for name in names:
        slug = slugify(name, MAX_TAG_LENGTH)
        if slug:
            wanted.setdefault(slug, name)
    if not wanted:
        return []
    existing = {
        tag.slug: tag for tag in db.session.scalars(select(Tag).where(Tag.slug.in_(wanted)))
    }
    for slug, name in wanted.items():
        if slug not in existing:
            existing[slug] = Tag(slug=slug, name=name)
            db.session.add(existing[slug])
    return [existing[slug] for slug in wanted]


def slug_is_taken(slug, post_id=None):
    """True when a post other than ``post_id`` has this slug."""
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
    reviewer_name=None,
    hero_image_id=None,
    publish=False,
    actor,
):
    """Create (``post=None``) or update a post from the editor's values, rendering its
    body to sanitised HTML, and publish it with ``publish``. The slug comes from the
    title when empty. ``references``: its reference list (``ReferenceData``) in order;
    ``reviewer_name`` and ``reviewed_on``: who medically reviewed it, and the day. ``actor``:
    the staff account (audit log). Raises
    ``SlugTakenError`` when another post has the slug. Flushes; returns the post."""
    slug = slug or slugify(title) or FALLBACK_SLUG
    post_id = post.id if post is not None else None
    # Rendered first: sizing its pictures reads the library, which would flush a half-made post.
    body_html = render_body(body_md, len(references))
    _start_writing()
    try:
        # The unique index decides who has a slug: checking first and then writing
        # would let two editors saving at once both pass the check.
        with db.session.begin_nested():
            if post is None:
                post = Post(status=PostStatus.DRAFT)
                db.session.add(post)
            elif post.status == PostStatus.PUBLISHED:
                # Its page (under the old address too) and every list showing it.
                invalidate_after_commit(BLOG_TAG, post_page_tag(post.slug), post_page_tag(slug))
            post.title = title
            post.slug = slug
            post.summary = summary or ""
            post.body_md = body_md
            post.body_html = body_html
            post.reviewed_at = reviewed_at_from_date(reviewed_on)
            post.reviewer_name = reviewer_name or None
            post.hero_image_id = hero_image_id
            post.tags = tags_named(tag_names)
            set_references(post, references)
            db.session.flush()
    except IntegrityError as exc:
        if slug_is_taken(slug, post_id):
            raise SlugTakenError() from exc
        raise
    record_staff_action(
        actor.id, "post.edit" if post_id else "post.create", "post", post.id, {"title": title}
    )
    record_revision(post, actor=actor)  # each save keeps its text (revisions.py)
    if publish:
        publish_post(post, actor=actor)
    return post


def _start_writing():
    """SQLite: take the database's write lock now, before the savepoint.

    A transaction that a SAVEPOINT begins reads the search index (the FTS5 tables the
    post's triggers write) before it asks for the write lock, and SQLite refuses a
    writer that already reads while another one writes, at once ("database is locked")
    instead of letting it wait its turn. A write first makes the driver begin an
    ordinary transaction that waits. PostgreSQL locks rows, not the database: nothing
    to do.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(Post).where(false()).values(id=Post.id),
            execution_options={"synchronize_session": False},
        )


def create_post(
    title,
    body_md,
    *,
    slug=None,
    summary="",
    tags=(),
    references=(),
    published_at=None,
    reviewed_at=None,
    reviewer_name=None,
    author_name=None,
):
    """Add a post, its HTML rendered once here. Published when ``published_at`` is
    given, else a draft. ``references``: ``ReferenceData``, dicts of its fields, or
    free-text citations (a text or a ``(text, url)`` pair, kept whole as the title).
    Flushes, never commits."""
    references = [as_reference_data(ref) for ref in references]
    post = Post(
        slug=slug or slugify(title),
        title=title,
        summary=summary,
        body_md=body_md,
        body_html=render_body(body_md, len(references)),
        status=PostStatus.PUBLISHED if published_at else PostStatus.DRAFT,
        published_at=published_at,
        reviewed_at=reviewed_at,
        reviewer_name=reviewer_name,
        tags=tags_named(tags),
    )
    if author_name:
        post.author_name = author_name
    if published_at is not None and published_at <= utcnow():
        # A back-dated post (demo content, an import) was written when it was published.
        post.created_at = post.updated_at = published_at
    set_references(post, references)
    db.session.add(post)
    db.session.flush()
    if post.status == PostStatus.PUBLISHED:
        invalidate_after_commit(BLOG_TAG)
    return post


# --- publishing ---------------------------------------------------------------------------


def _audit(actor, action, post):
    # ``actor`` None: the site itself did it (scheduled publishing), not a staff member.
    if actor is not None:
        record_staff_action(actor.id, action, "post", post.id, {"title": post.title})


def publish_post(post, *, actor):
    """Make a draft public; it keeps its first publication date if it had one. A post
    already published (another editor was first) is left as it is. ``actor``: the staff
    account, or None when the site publishes on its own. Flushes; True if this call
    published it."""
    first_date = func.coalesce(Post.published_at, literal(utcnow(), UTCDateTime()))
    if not claim_status(post, PostStatus.PUBLISHED, published_at=first_date):
        return False
    invalidate_after_commit(BLOG_TAG, post_page_tag(post.slug))
    _audit(actor, "post.publish", post)
    return True


def unpublish_post(post, *, actor):
    """Take a post back to draft (its publication date is kept for a later re-publish).
    A post already a draft is left as it is. ``actor`` as for :func:`publish_post`.
    Flushes; True if this call unpublished it."""
    if not claim_status(post, PostStatus.DRAFT):
        return False
    invalidate_after_commit(BLOG_TAG, post_page_tag(post.slug))
    _audit(actor, "post.unpublish", post)
    return True


# --- images ----------------------------------------------------------------------------


def posts_using_image(image_id):
    """Each post that shows the media library's image ``image_id``, or is about to, as the
    library names it when it refuses to delete the image: as its hero, in its text (the
    Markdown holds the image's address, ``/media/<id>-...``), or in a staff member's
    unsaved text (offered back when she opens the editor). An earlier version kept in a
    post's history does not hold the image: restored, it shows the text without the
    deleted picture (``media.library.sized_images``), so staff can always delete a
    picture no page shows."""
    marker = f"/media/{image_id}-"
    rows = db.session.execute(
        select(Post.id, Post.title, Post.hero_image_id)
        .where((Post.hero_image_id == image_id) | Post.body_md.contains(marker, autoescape=True))
        .order_by(Post.title)
    ).all()
    places = [
        f"the post “{row.title}” ({'hero image' if row.hero_image_id == image_id else 'text'})"
        for row in rows
    ]
    unsaved = db.session.execute(
        select(PostAutosave.post_id, Post.title)
        .outerjoin(Post, Post.id == PostAutosave.post_id)
        .where(cast(PostAutosave.fields, Text).contains(marker, autoescape=True))
        .order_by(Post.title)
    ).all()
    places += [
        f"the post “{row.title}” (unsaved text)" if row.post_id else "a new post (unsaved text)"
        for row in unsaved
    ]
    return list(dict.fromkeys(places))


# --- the staff dashboard --------------------------------------------------------------------


def _count(model, condition):
    return select(func.count()).select_from(model).where(condition).scalar_subquery()


def blog_counts():
    """Pending comments, draft, scheduled and published posts, in one query."""
    row = db.session.execute(
        select(
            _count(Comment, Comment.status == CommentStatus.PENDING),
            _count(Post, Post.status == PostStatus.DRAFT),
            _count(Post, Post.status == PostStatus.SCHEDULED),
            _count(Post, Post.status == PostStatus.PUBLISHED),
        )
    ).one()
    return {
        "pending_comments": row[0],
        "draft_posts": row[1],
        "scheduled_posts": row[2],
        "published_posts": row[3],
    }
