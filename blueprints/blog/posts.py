"""Reading published posts: the home page, the index and topic pages, a post's page,
the feed and the sitemap.

Every query a public page runs lives in the blog's reading modules (this one, ``search``
and ``comments``), so a page's query budget is easy to see: the post page runs four (the
post, its tags and references, its approved comments, the neighbouring and recent
posts), the index four (count, page, the page's tags, topics) however many posts or
comments exist; counts and topics usually come from the cache.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from math import ceil
from typing import NamedTuple

from flask import current_app
from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import load_only, selectinload

from blueprints.blog.cache_tags import BLOG_TAG
from blueprints.blog.links import post_url, tag_url
from blueprints.blog.models import Post, PostStatus, Reference, Tag, post_tag
from blueprints.blog.references import ReferenceData, citation
from blueprints.core.cache_tags import cached_value
from blueprints.core.links import external_url
from blueprints.core.types import UTCDateTime, utcnow
from extensions import db

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG_LENGTH = 200
RECENT_POSTS = 5
# Counts and topics are kept this long at most (scheduled posts appear by the clock).
AGGREGATE_TIMEOUT = 300


def is_valid_slug(slug):
    """True for slugs we could have made; anything else is a 404 without a query."""
    return bool(slug) and len(slug) <= MAX_SLUG_LENGTH and SLUG_PATTERN.match(slug) is not None


def is_published():
    """The SQL condition for a post readers may see: published and its date has come.
    (The public pages' prebuilt statements use ``PUBLISHED``, the same with ``now`` bound.)"""
    return and_(Post.status == PostStatus.PUBLISHED, Post.published_at <= utcnow())


# The public pages' statements are built once, here, with bound parameters for what
# changes per request (``now``, the slug, the post): building a statement and its cache
# key costs more than running it. Lists select the table's columns (Core rows), not
# mapped objects, which spares them the ORM's per-row work; readers never change them.
_post = Post.__table__.c
_tag = Tag.__table__.c
_post_tag = post_tag.c
_reference = Reference.__table__.c

PUBLISHED = and_(
    _post.status == PostStatus.PUBLISHED,
    _post.published_at <= bindparam("now", type_=UTCDateTime()),
)
NEWEST_FIRST = (_post.published_at.desc(), _post.id.desc())
_OLDEST_FIRST = (_post.published_at.asc(), _post.id.asc())
CARD_COLUMNS = (
    _post.id,
    _post.slug,
    _post.title,
    _post.summary,
    _post.author_name,
    _post.published_at,
)


def _newest_first(stmt):
    return stmt.order_by(Post.published_at.desc(), Post.id.desc())


class TagLink(NamedTuple):
    """A topic as a post links to it."""

    slug: str
    name: str


@dataclass(frozen=True)
class PostCard:
    """A post as lists show it: no body, its tags (``TagLink``) by name."""

    id: int
    slug: str
    title: str
    summary: str
    author_name: str
    published_at: datetime
    tags: list[TagLink]


@dataclass
class Page:
    """One page of a list, with what the pager needs (as Flask-SQLAlchemy's pagination)."""

    items: list
    page: int
    per_page: int
    total: int
    # True when more than ``total`` match: search counts only up to a cap.
    more: bool = False

    @property
    def pages(self):
        return ceil(self.total / self.per_page) if self.total else 0

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def prev_num(self):
        return self.page - 1 if self.has_prev else None

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def next_num(self):
        return self.page + 1 if self.has_next else None


_CARD_TAGS = (
    select(_post_tag.post_id, _tag.slug, _tag.name)
    .join(post_tag, _post_tag.tag_id == _tag.id)
    .where(_post_tag.post_id.in_(bindparam("ids", expanding=True)))
    .order_by(_tag.name)
)


def _cards(stmt, params):
    """``PostCard``s for the rows of ``stmt`` (``CARD_COLUMNS``), their tags loaded in
    one more query."""
    return cards_of(db.session.execute(stmt, params).all())


def cards_of(rows):
    """``PostCard``s for rows that start with ``CARD_COLUMNS``, their tags loaded in one
    query."""
    tags = {row.id: [] for row in rows}
    if rows:
        for tag in db.session.execute(_CARD_TAGS, {"ids": list(tags)}):
            tags[tag.post_id].append(TagLink(tag.slug, tag.name))
    return [PostCard(*row[: len(CARD_COLUMNS)], tags=tags[row.id]) for row in rows]


_LATEST = select(*CARD_COLUMNS).where(PUBLISHED).order_by(*NEWEST_FIRST).limit(bindparam("limit"))


def latest_posts(limit):
    """The newest published posts (home page), as ``PostCard``s."""
    return _cards(_LATEST, {"now": utcnow(), "limit": limit})


def _page_and_count(where):
    """``(page, count)`` statements for the published posts matching ``where``: one
    page of cards, newest first (``limit``, ``offset``), and how many there are."""
    posts = select(*CARD_COLUMNS).where(PUBLISHED, *where)
    page = posts.order_by(*NEWEST_FIRST).limit(bindparam("limit")).offset(bindparam("offset"))
    return page, select(func.count()).select_from(posts.subquery())


_ALL_POSTS = _page_and_count(())
_TAGGED_POSTS = _page_and_count(
    (exists().where(_post_tag.post_id == _post.id, _post_tag.tag_id == bindparam("tag_id")),)
)


def _page_params(page):
    per_page = current_app.config["POSTS_PER_PAGE"]
    return {"now": utcnow(), "limit": per_page, "offset": (page - 1) * per_page}


def paginate_posts(page, tag=None):
    """One ``Page`` of published posts (``PostCard``s), newest first, optionally only
    those with ``tag``. Past the end its ``items`` are empty.

    The total (a count over every published post) is kept in the cache until a post
    changes, so a page costs the same with 10 posts or 10,000.
    """
    page_stmt, count_stmt = _ALL_POSTS if tag is None else _TAGGED_POSTS
    params = _page_params(page)
    if tag is not None:
        params["tag_id"] = tag.id

    def count():
        return db.session.scalar(count_stmt, params)

    name = f"blog:count:{tag.id if tag is not None else 'all'}"
    total = cached_value(name, [BLOG_TAG], count, timeout=AGGREGATE_TIMEOUT)
    return Page(_cards(page_stmt, params), page, params["limit"], total)


_TAG_BY_SLUG = select(_tag.id, _tag.slug, _tag.name).where(_tag.slug == bindparam("slug"))


def tag_by_slug(slug):
    """The tag (``id``, ``slug``, ``name``) with this slug, or None."""
    if not is_valid_slug(slug):
        return None
    return db.session.execute(_TAG_BY_SLUG, {"slug": slug}).first()


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

    return cached_value("blog:topics", [BLOG_TAG], compute, timeout=AGGREGATE_TIMEOUT)


_PUBLISHED_POST = select(Post.__table__).where(_post.slug == bindparam("slug"), PUBLISHED)


def published_post(slug):
    """A published post as a read-only row (``post.title``...), or None. Its tags and
    references are ``post_details``."""
    if not is_valid_slug(slug):
        return None
    return db.session.execute(_PUBLISHED_POST, {"slug": slug, "now": utcnow()}).first()


# A post's tags (by name) and references (in order): two short lists, one query. A tag's
# row has its name and slug in the reference's title and url, and nothing in the rest.
_REFERENCE_PARTS = ("authors", "journal", "year", "volume", "issue", "pages", "doi", "pmid")
_POST_DETAILS = union_all(
    select(
        literal_column("'reference'").label("kind"),
        _reference.position,
        _reference.title.label("text"),
        _reference.url.label("link"),
        *(_reference[name] for name in _REFERENCE_PARTS),
    ).where(_reference.post_id == bindparam("post_id")),
    select(
        literal_column("'tag'"),
        literal_column("0"),
        _tag.name,
        _tag.slug,
        *(null().label(name) for name in _REFERENCE_PARTS),
    )
    .join(post_tag, _post_tag.tag_id == _tag.id)
    .where(_post_tag.post_id == bindparam("post_id")),
).order_by("kind", "position", "text")


def post_details(post):
    """``(tags, references)`` of a post: tags (``name``, ``slug``) by name, references
    (``references.Citation``) in order."""
    tags, references = [], []
    for row in db.session.execute(_POST_DETAILS, {"post_id": post.id}):
        if row.kind == "tag":
            tags.append(TagLink(name=row.text, slug=row.link))
        else:
            parts = {name: getattr(row, name) for name in _REFERENCE_PARTS}
            data = ReferenceData(title=row.text, url=row.link, **parts)
            references.append(citation(len(references) + 1, data))
    return tags, references


def tuple_lt(left, right):
    """``left < right`` for (date, id) pairs, written out so SQLite and PostgreSQL agree."""
    (left_date, left_id), (right_date, right_id) = left, right
    return or_(left_date < right_date, and_(left_date == right_date, left_id < right_id))


def _around(condition, order, limit, kind):
    # SQLite accepts LIMIT in a UNION only inside a subquery.
    return select(
        select(_post.id, _post.slug, _post.title, _post.published_at)
        .where(PUBLISHED, condition)
        .order_by(*order)
        .limit(limit)
        .subquery(),
        literal_column(f"'{kind}'").label("kind"),
    )


_HERE = (bindparam("published_at", type_=UTCDateTime()), bindparam("post_id", type_=Integer()))
_KEY = (_post.published_at, _post.id)
_SIDEBAR = union_all(
    _around(tuple_lt(_KEY, _HERE), NEWEST_FIRST, 1, "previous"),
    _around(tuple_lt(_HERE, _KEY), _OLDEST_FIRST, 1, "next"),
    _around(_post.id != bindparam("post_id"), NEWEST_FIRST, bindparam("recent"), "recent"),
)


def post_surroundings(post, recent=RECENT_POSTS):
    """``(previous, next, recent)`` in one query: the older and the newer published
    post (or None), and the newest ``recent`` others (``id``, ``slug``, ``title``,
    ``published_at``)."""
    rows = db.session.execute(
        _SIDEBAR,
        {
            "now": utcnow(),
            "published_at": post.published_at,
            "post_id": post.id,
            "recent": recent,
        },
    ).all()
    by_kind = {"previous": [], "next": [], "recent": []}
    for row in rows:
        by_kind[row.kind].append(row)
    previous = by_kind["previous"][0] if by_kind["previous"] else None
    following = by_kind["next"][0] if by_kind["next"] else None
    return previous, following, by_kind["recent"]


# --- the feed and the sitemap ----------------------------------------------------------


def feed_posts(limit):
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
        (external_url("blog.home"), newest),
        (external_url("blog.index"), newest),
    ]
    urls += [(post_url(p.slug), last_changed(p)) for p in posts]
    urls += [(tag_url(tag.slug), None) for tag, _count in topics()]
    return urls
