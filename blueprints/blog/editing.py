"""Writing posts: the staff editor's saves, publishing and unpublishing, slugs, tags and
references, and the dashboard's figures. The seed data and tests write posts through
``create_post``. Each function flushes and never commits; the view commits once.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import false, func, literal, select, update
from sqlalchemy.exc import IntegrityError

from blueprints.blog.cache_tags import BLOG_TAG, post_page_tag
from blueprints.blog.models import Comment, CommentStatus, Post, PostStatus, Reference, Tag
from blueprints.blog.posts import MAX_SLUG_LENGTH
from blueprints.core.cache_tags import invalidate_after_commit
from blueprints.core.errors import UserError
from blueprints.core.markdown import render_post
from blueprints.core.states import claim_status
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import UTCDateTime, utcnow
from extensions import db

# The columns' sizes (models.py), so the editor refuses more rather than the database.
MAX_TITLE_LENGTH = 200
MAX_SUMMARY_LENGTH = 500
MAX_TAG_LENGTH = 80
MAX_URL_LENGTH = 500
# A citation's column has no size; this is what a reference list can sensibly show.
MAX_CITATION_LENGTH = 2000
# A post without a title that makes a slug ("!!!") still needs an address.
FALLBACK_SLUG = "post"
_URL_AT_END = re.compile(r"^(?P<citation>.*?)\s+(?P<url>https?://\S+)$")


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
    publish=False,
):
    """Create (``post=None``) or update a post from the editor's values, rendering its
    body to sanitised HTML, and publish it with ``publish``. The slug comes from the
    title when empty. Raises ``SlugTakenError`` when another post has the slug. Flushes;
    returns the post."""
    slug = slug or slugify(title) or FALLBACK_SLUG
    post_id = post.id if post is not None else None
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
            post.body_html = render_post(body_md)
            post.reviewed_at = reviewed_at_from_date(reviewed_on)
            post.tags = tags_named(tag_names)
            _set_references(post, references)
            db.session.flush()
    except IntegrityError as exc:
        if slug_is_taken(slug, post_id):
            raise SlugTakenError() from exc
        raise
    if publish:
        publish_post(post)
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
    author_name=None,
):
    """Add a post, its HTML rendered once here. Published when ``published_at`` is
    given, else a draft. ``references`` are citations or ``(citation, url)`` pairs.
    Flushes, never commits."""
    post = Post(
        slug=slug or slugify(title),
        title=title,
        summary=summary,
        body_md=body_md,
        body_html=render_post(body_md),
        status=PostStatus.PUBLISHED if published_at else PostStatus.DRAFT,
        published_at=published_at,
        reviewed_at=reviewed_at,
        tags=tags_named(tags),
    )
    if author_name:
        post.author_name = author_name
    if published_at is not None and published_at <= utcnow():
        # A back-dated post (demo content, an import) was written when it was published.
        post.created_at = post.updated_at = published_at
    _set_references(
        post,
        [ParsedReference(*((ref, None) if isinstance(ref, str) else ref)) for ref in references],
    )
    db.session.add(post)
    db.session.flush()
    if post.status == PostStatus.PUBLISHED:
        invalidate_after_commit(BLOG_TAG)
    return post


# --- publishing ---------------------------------------------------------------------------


def publish_post(post):
    """Make a draft public; it keeps its first publication date if it had one. A post
    already published (another editor was first) is left as it is. Flushes; True if
    this call published it."""
    first_date = func.coalesce(Post.published_at, literal(utcnow(), UTCDateTime()))
    if not claim_status(post, PostStatus.PUBLISHED, published_at=first_date):
        return False
    invalidate_after_commit(BLOG_TAG, post_page_tag(post.slug))
    return True


def unpublish_post(post):
    """Take a post back to draft (its publication date is kept for a later re-publish).
    A post already a draft is left as it is. Flushes; True if this call unpublished it."""
    if not claim_status(post, PostStatus.DRAFT):
        return False
    invalidate_after_commit(BLOG_TAG, post_page_tag(post.slug))
    return True


# --- the staff dashboard --------------------------------------------------------------------


def _count(model, condition):
    return select(func.count()).select_from(model).where(condition).scalar_subquery()


def blog_counts():
    """Pending comments, draft posts and published posts, in one query."""
    row = db.session.execute(
        select(
            _count(Comment, Comment.status == CommentStatus.PENDING),
            _count(Post, Post.status == PostStatus.DRAFT),
            _count(Post, Post.status == PostStatus.PUBLISHED),
        )
    ).one()
    return {"pending_comments": row[0], "draft_posts": row[1], "published_posts": row[2]}
