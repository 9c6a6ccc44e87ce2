"""The blog's work: finding published posts, searching, taking comments, the sitemap.

Every query a public page runs lives here, so the page's query budget is easy to see:
the post page runs four (post with tags and references, its approved comments, recent
posts, the neighbours), the index four (count, page, the page's tags, topics) however
many posts or comments exist.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy import and_, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import defer, joinedload, load_only, selectinload

from blueprints.blog.models import (
    Comment,
    CommentStatus,
    Post,
    PostStatus,
    Reference,
    Tag,
    post_tag,
)
from blueprints.core.cache import cached_value, invalidate_after_commit
from blueprints.core.markdown import count_links, render_comment, render_post
from blueprints.core.types import utcnow
from extensions import db

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG_LENGTH = 200
MAX_SEARCH_LENGTH = 200
MAX_SEARCH_TERMS = 8
# A comment with more links than this waits for a person, whoever wrote it.
MAX_LINKS_WITHOUT_MODERATION = 2
RECENT_POSTS = 5
DUPLICATE_WINDOW = timedelta(minutes=10)


# --- finding posts -------------------------------------------------------------------


def is_valid_slug(slug):
    """True for slugs we could have made; anything else is a 404 without a query."""
    return bool(slug) and len(slug) <= MAX_SLUG_LENGTH and SLUG_PATTERN.match(slug) is not None


def slugify(text):
    """``"Vitamin K2 & bones!"`` -> ``"vitamin-k2-bones"`` (ASCII, lower case)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:MAX_SLUG_LENGTH].strip("-")


def is_published():
    """The SQL condition for a post readers may see: published and its date has come."""
    return and_(Post.status == PostStatus.PUBLISHED, Post.published_at <= utcnow())


def _newest_first(stmt):
    return stmt.order_by(Post.published_at.desc(), Post.id.desc())


def _listing():
    """Published posts for a list page: tags loaded in one extra query, bodies left out."""
    return _newest_first(
        select(Post)
        .where(is_published())
        .options(defer(Post.body_md), defer(Post.body_html), selectinload(Post.tags))
    )


def latest_posts(limit):
    """The newest published posts (home page)."""
    return db.session.scalars(_listing().limit(limit)).all()


# Counts and topics are kept this long at most (scheduled posts appear by the clock).
AGGREGATE_TIMEOUT = 300


def paginate_posts(page, tag=None):
    """One page of published posts, newest first, optionally only those with ``tag``.

    Aborts with 404 when the page is past the end (Flask-SQLAlchemy's ``error_out``).
    The total (a count over every published post) is kept in the cache until a post
    changes, so a page costs the same with 10 posts or 10,000.
    """
    stmt = _listing()
    if tag is not None:
        stmt = stmt.where(Post.tags.any(Tag.id == tag.id))

    def count():
        return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))

    name = f"blog:count:{tag.id if tag is not None else 'all'}"
    total = cached_value(name, ["blog"], count, timeout=AGGREGATE_TIMEOUT)
    pagination = db.paginate(
        stmt, page=page, per_page=current_app.config["POSTS_PER_PAGE"], count=False
    )
    pagination.total = total
    return pagination


def tag_by_slug(slug):
    if not is_valid_slug(slug):
        return None
    return db.session.scalar(select(Tag).where(Tag.slug == slug))


@dataclass(frozen=True)
class Topic:
    """A tag as the topic list shows it (plain data: it is kept in the cache)."""

    id: int
    slug: str
    name: str


def topics():
    """Tags that have at least one published post, with how many, by name: ``[(Topic,
    count)]``. Counted once per change to the posts, not on every page."""

    def compute():
        count = func.count(Post.id)
        rows = db.session.execute(
            select(Tag.id, Tag.slug, Tag.name, count.label("posts"))
            .join(post_tag, post_tag.c.tag_id == Tag.id)
            .join(Post, Post.id == post_tag.c.post_id)
            .where(is_published())
            .group_by(Tag.id, Tag.slug, Tag.name)
            .order_by(Tag.name)
        ).all()
        return [(Topic(r.id, r.slug, r.name), r.posts) for r in rows]

    return cached_value("blog:topics", ["blog"], compute, timeout=AGGREGATE_TIMEOUT)


def published_post(slug):
    """A published post with its tags and references (one query), or None."""
    if not is_valid_slug(slug):
        return None
    return (
        db.session.execute(
            select(Post)
            .where(Post.slug == slug, is_published())
            .options(joinedload(Post.tags), joinedload(Post.references))
        )
        .unique()
        .scalar_one_or_none()
    )


def recent_posts(exclude=None, limit=RECENT_POSTS):
    """Titles and dates of the newest posts, for the sidebar."""
    stmt = _newest_first(
        select(Post)
        .where(is_published())
        .options(load_only(Post.id, Post.slug, Post.title, Post.published_at))
        .limit(limit)
    )
    if exclude is not None:
        stmt = stmt.where(Post.id != exclude.id)
    return db.session.scalars(stmt).all()


def neighbours(post):
    """``(previous, next)``: the older and the newer published post, in one query."""
    columns = (Post.id, Post.slug, Post.title, Post.published_at)
    key = (Post.published_at, Post.id)
    here = (post.published_at, post.id)
    older = (
        select(*columns)
        .where(is_published(), tuple_lt(key, here))
        .order_by(Post.published_at.desc(), Post.id.desc())
        .limit(1)
        .subquery()
    )
    newer = (
        select(*columns)
        .where(is_published(), tuple_lt(here, key))
        .order_by(Post.published_at.asc(), Post.id.asc())
        .limit(1)
        .subquery()
    )
    rows = db.session.execute(
        union_all(
            select(older, literal(0).label("newer")),
            select(newer, literal(1).label("newer")),
        )
    ).all()
    previous = next((r for r in rows if not r.newer), None)
    following = next((r for r in rows if r.newer), None)
    return previous, following


def tuple_lt(left, right):
    """``left < right`` for (date, id) pairs, written out so SQLite and PostgreSQL agree."""
    (left_date, left_id), (right_date, right_id) = left, right
    return or_(left_date < right_date, and_(left_date == right_date, left_id < right_id))


# --- search --------------------------------------------------------------------------


@dataclass
class SearchQuery:
    """What the reader typed, cleaned, and why it cannot be run (if it cannot)."""

    text: str = ""
    terms: list[str] = field(default_factory=list)
    error: str | None = None


def parse_search(raw):
    """Split the search box into terms; explain, rather than fail, on bad input."""
    text = (raw or "").strip()
    if len(text) > MAX_SEARCH_LENGTH:
        return SearchQuery(
            text[:MAX_SEARCH_LENGTH],
            error=f"Please search with {MAX_SEARCH_LENGTH} characters or fewer.",
        )
    if has_control_characters(text, allow_newlines=False):
        return SearchQuery("", error="The search contained characters we cannot look for.")
    return SearchQuery(text, terms=text.split()[:MAX_SEARCH_TERMS])


def _like_pattern(term):
    # Escape LIKE's wildcards so "50%" and "vitamin_d" mean exactly what they say.
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_posts(query, page):
    """Published posts whose title, summary or body contain every term (any case)."""
    stmt = _listing()
    for term in query.terms:
        pattern = _like_pattern(term)
        stmt = stmt.where(
            or_(
                Post.title.ilike(pattern, escape="\\"),
                Post.summary.ilike(pattern, escape="\\"),
                Post.body_md.ilike(pattern, escape="\\"),
            )
        )
    return db.paginate(stmt, page=page, per_page=current_app.config["POSTS_PER_PAGE"])


# --- comments ------------------------------------------------------------------------


def has_control_characters(text, allow_newlines=True):
    """True when ``text`` holds control characters (other than newline, CR and tab)."""
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)


@dataclass
class CommentThread:
    """An approved top-level comment and its approved replies, oldest first."""

    comment: Comment
    replies: list[Comment] = field(default_factory=list)


def approved_threads(post):
    """The post's approved comments as threads, from one query (replies grouped here)."""
    comments = db.session.scalars(
        select(Comment)
        .where(Comment.post_id == post.id, Comment.status == CommentStatus.APPROVED)
        .options(defer(Comment.author_email), defer(Comment.body_md))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    threads = {c.id: CommentThread(c) for c in comments if c.parent_id is None}
    for comment in comments:
        if comment.parent_id is not None and comment.parent_id in threads:
            threads[comment.parent_id].replies.append(comment)
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
    an approved comment appear at once, unless they carry more than two links. Staff
    are emailed (through the outbox, after the commit) about each comment that waits.
    The same comment sent twice in a few minutes is stored once. Flushes, never commits.
    """
    from blueprints.blog.emails import notify_staff_comment_pending

    email = email.strip().lower()
    duplicate = _recent_duplicate(post, email, body)
    if duplicate is not None:
        return duplicate
    trusted = is_trusted_address(email)
    held = not trusted or count_links(body) > MAX_LINKS_WITHOUT_MODERATION
    now = utcnow()
    comment = Comment(
        post=post,
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
        invalidate_after_commit(f"post:{post.slug}")  # it shows on the post at once
    return comment


# --- writing posts (seed data, tests) ----------------------------------------------------


def tags_named(names):
    """The tags with these names, created when missing (matched by slug)."""
    wanted = {slugify(name): name for name in names if slugify(name)}
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
    for position, ref in enumerate(references, start=1):
        citation, url = (ref, None) if isinstance(ref, str) else ref
        post.references.append(Reference(position=position, citation=citation, url=url))
    db.session.add(post)
    db.session.flush()
    if post.status == PostStatus.PUBLISHED:
        invalidate_after_commit("blog")
    return post


# --- links for feeds and the sitemap -----------------------------------------------------


def absolute_url(endpoint, **values):
    """An absolute address on the public site (SITE_URL), whatever host asked."""
    return current_app.config["SITE_URL"].rstrip("/") + url_for(endpoint, **values)


def feed_posts(limit=20):
    """The newest published posts with their bodies, for the Atom feed."""
    return db.session.scalars(
        _newest_first(
            select(Post).where(is_published()).options(selectinload(Post.tags)).limit(limit)
        )
    ).all()


def last_changed(post):
    """When a post last changed for readers (never before it was published)."""
    return max(post.published_at, post.updated_at or post.published_at)


def sitemap_urls():
    """``[(absolute_url, lastmod)]`` for the home page, blog index, posts and topics."""
    posts = db.session.scalars(
        _newest_first(
            select(Post)
            .where(is_published())
            .options(load_only(Post.slug, Post.published_at, Post.updated_at))
        )
    ).all()
    newest = last_changed(posts[0]) if posts else None
    urls = [
        (absolute_url("blog.home"), newest),
        (absolute_url("blog.index"), newest),
    ]
    urls += [(absolute_url("blog.post", slug=p.slug), last_changed(p)) for p in posts]
    urls += [(absolute_url("blog.tag", tag=tag.slug), None) for tag, _count in topics()]
    return urls
