"""The blog's work: finding published posts, searching, taking comments, the sitemap.

Every query a public page runs lives here, so the page's query budget is easy to see:
the post page runs four (the post, its tags and references, its approved comments, the
neighbouring and recent posts), the index four (count, page, the page's tags, topics)
however many posts or comments exist; counts and topics usually come from the cache.
Search runs two (the page with its capped count, the page's tags), and on SQLite one
more first (how many posts the index holds for the words).
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from math import ceil
from typing import NamedTuple

from flask import current_app, url_for
from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    column,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy.orm import load_only, selectinload

from blueprints.blog.models import (
    SEARCH_TABLE,
    WORDS_COLUMN,
    WORDS_CONFIG,
    WORDS_TABLE,
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
from blueprints.core.types import UTCDateTime, utcnow
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
    """The SQL condition for a post readers may see: published and its date has come.
    (The public pages' prebuilt statements use ``_PUBLISHED``, the same with ``now`` bound.)"""
    return and_(Post.status == PostStatus.PUBLISHED, Post.published_at <= utcnow())


# The public pages' statements are built once, here, with bound parameters for what
# changes per request (``now``, the slug, the post): building a statement and its cache
# key costs more than running it. Lists select the table's columns (Core rows), not
# mapped objects, which spares them the ORM's per-row work; readers never change them.
_post = Post.__table__.c
_tag = Tag.__table__.c
_post_tag = post_tag.c
_comment = Comment.__table__.c
_reference = Reference.__table__.c

_NOW = bindparam("now", type_=UTCDateTime())
_PUBLISHED = and_(_post.status == PostStatus.PUBLISHED, _post.published_at <= _NOW)
_NEWEST_FIRST = (_post.published_at.desc(), _post.id.desc())
_OLDEST_FIRST = (_post.published_at.asc(), _post.id.asc())
_CARD_COLUMNS = (
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


class Citation(NamedTuple):
    """A reference under a post."""

    citation: str
    url: str | None


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
    """``PostCard``s for the rows of ``stmt`` (``_CARD_COLUMNS``), their tags loaded in
    one more query."""
    return _cards_of(db.session.execute(stmt, params).all())


def _cards_of(rows):
    """``PostCard``s for rows that start with ``_CARD_COLUMNS``, their tags loaded in one
    query."""
    tags = {row.id: [] for row in rows}
    if rows:
        for tag in db.session.execute(_CARD_TAGS, {"ids": list(tags)}):
            tags[tag.post_id].append(TagLink(tag.slug, tag.name))
    return [PostCard(*row[: len(_CARD_COLUMNS)], tags=tags[row.id]) for row in rows]


_LATEST = (
    select(*_CARD_COLUMNS).where(_PUBLISHED).order_by(*_NEWEST_FIRST).limit(bindparam("limit"))
)


def latest_posts(limit):
    """The newest published posts (home page), as ``PostCard``s."""
    return _cards(_LATEST, {"now": utcnow(), "limit": limit})


# Counts and topics are kept this long at most (scheduled posts appear by the clock).
AGGREGATE_TIMEOUT = 300


def _page_and_count(where):
    """``(page, count)`` statements for the published posts matching ``where``: one
    page of cards, newest first (``limit``, ``offset``), and how many there are."""
    posts = select(*_CARD_COLUMNS).where(_PUBLISHED, *where)
    page = posts.order_by(*_NEWEST_FIRST).limit(bindparam("limit")).offset(bindparam("offset"))
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
    total = cached_value(name, ["blog"], count, timeout=AGGREGATE_TIMEOUT)
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

    return cached_value("blog:topics", ["blog"], compute, timeout=AGGREGATE_TIMEOUT)


_PUBLISHED_POST = select(Post.__table__).where(_post.slug == bindparam("slug"), _PUBLISHED)


def published_post(slug):
    """A published post as a read-only row (``post.title``...), or None. Its tags and
    references are ``post_details``."""
    if not is_valid_slug(slug):
        return None
    return db.session.execute(_PUBLISHED_POST, {"slug": slug, "now": utcnow()}).first()


# A post's tags (by name) and references (in order): two short lists, one query.
_POST_DETAILS = union_all(
    select(
        literal_column("'reference'").label("kind"),
        _reference.position,
        _reference.citation.label("text"),
        _reference.url.label("link"),
    ).where(_reference.post_id == bindparam("post_id")),
    select(
        literal_column("'tag'"),
        literal_column("0"),
        _tag.name,
        _tag.slug,
    )
    .join(post_tag, _post_tag.tag_id == _tag.id)
    .where(_post_tag.post_id == bindparam("post_id")),
).order_by("kind", "position", "text")


def post_details(post):
    """``(tags, references)`` of a post: tags (``name``, ``slug``) by name, references
    (``citation``, ``url``) in order."""
    tags, references = [], []
    for row in db.session.execute(_POST_DETAILS, {"post_id": post.id}):
        if row.kind == "tag":
            tags.append(TagLink(name=row.text, slug=row.link))
        else:
            references.append(Citation(citation=row.text, url=row.link))
    return tags, references


def tuple_lt(left, right):
    """``left < right`` for (date, id) pairs, written out so SQLite and PostgreSQL agree."""
    (left_date, left_id), (right_date, right_id) = left, right
    return or_(left_date < right_date, and_(left_date == right_date, left_id < right_id))


def _around(condition, order, limit, kind):
    # SQLite accepts LIMIT in a UNION only inside a subquery.
    return select(
        select(_post.id, _post.slug, _post.title, _post.published_at)
        .where(_PUBLISHED, condition)
        .order_by(*order)
        .limit(limit)
        .subquery(),
        literal_column(f"'{kind}'").label("kind"),
    )


_HERE = (bindparam("published_at", type_=UTCDateTime()), bindparam("post_id", type_=Integer()))
_KEY = (_post.published_at, _post.id)
_SIDEBAR = union_all(
    _around(tuple_lt(_KEY, _HERE), _NEWEST_FIRST, 1, "previous"),
    _around(tuple_lt(_HERE, _KEY), _OLDEST_FIRST, 1, "next"),
    _around(_post.id != bindparam("post_id"), _NEWEST_FIRST, bindparam("recent"), "recent"),
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


# A search counts its matches up to this many (ten pages) and pages through them:
# counting 10,000 matches costs as much as reading them, and a common word costs the
# reading of this many matches. Above it the page says "more than 100" and asks for
# another word. (At 200, a common word made the search page 20 % slower on the large
# data than on the demo; at 100, 10 to 14 %: bench/sizes.py.)
SEARCH_COUNT_CAP = 100
# Trigram indexes find terms of three characters or more, as substrings of any word. A
# shorter term ("K2", "D") is looked up in the word index and matches a whole word:
# "D" finds "vitamin D", not every word with a d in it.
MIN_INDEXED_TERM = 3
# SQLite: when fewer posts than this hold every term, the search reads just those (from
# the FTS5 indexes); when more do, a common word, it reads posts newest first and stops
# once the page and the capped count are filled, as collecting every match from the
# index would cost more than the whole page.
SEARCH_INDEX_LIMIT = 500

# Title first: a common word is found there without reading the body.
_SEARCHED = (_post.title, _post.summary, _post.body_md)
_search_index = table(SEARCH_TABLE, column("rowid"), column(SEARCH_TABLE))
_words_index = table(WORDS_TABLE, column("rowid"), column(WORDS_TABLE))
# SQLite: the posts holding every long term (``match``) and every short word (``words``).
_IN_TRIGRAMS = select(_search_index.c.rowid).where(
    _search_index.c[SEARCH_TABLE].match(bindparam("match"))
)
_IN_WORDS = select(_words_index.c.rowid).where(
    _words_index.c[WORDS_TABLE].match(bindparam("words"))
)


@cache
def _index_probe(long_terms, short_words):
    """SQLite: ``(trigrams, words)``, how many posts each FTS5 index finds, counted up
    to ``probe``; None for an index the search has no term for."""

    def counted(found):
        return (
            select(func.count())
            .select_from(found.limit(bindparam("probe")).subquery())
            .scalar_subquery()
        )

    return select(
        counted(_IN_TRIGRAMS) if long_terms else null(),
        counted(_IN_WORDS) if short_words else null(),
    )


def _fts_query(terms):
    """The FTS5 query for posts holding every term: each a quoted string (so nothing in
    it is FTS5 syntax), side by side (AND)."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _is_word(term):
    """A short term the word index can look up: it has a letter or a digit. (A term of
    punctuation alone, "&", has no word to find: it is matched as a substring only.)"""
    return any(character.isalnum() for character in term)


@cache
def _search_statement(dialect, substrings, short_words, trigram_posts, word_posts):
    """The statement for a search of ``substrings`` terms (bound as ``term_0``,
    ``term_1``...) and, with ``short_words``, whole words (bound together as ``words``),
    built once per shape: one page of cards (``limit``, ``offset``), newest first, each
    row with ``found``, how many posts match up to ``count_limit``. Every term must be in
    the title, summary or body.

    PostgreSQL: ILIKE, which the trigram indexes answer, and ``@@`` on the word column;
    the planner reads the indexes for a rare word and posts newest first for a common
    one. SQLite: LIKE (see below), and the FTS5 tables' posts: ``trigram_posts`` reads
    only the posts the trigram table finds for the long terms (bound as ``match``),
    which are never fewer than LIKE finds; ``word_posts`` reads only those the word
    table finds, and without it posts are read newest first and each tested against
    the word table's list.
    """
    where = []
    for pattern in (bindparam(f"term_{position}") for position in range(substrings)):
        if dialect == "postgresql":
            columns = (searched.ilike(pattern, escape="\\") for searched in _SEARCHED)
        else:
            # SQLite's LIKE ignores the case of ASCII letters only, and ``lower()``
            # folds only those: the same test as ILIKE's ``lower(x) LIKE lower(y)``,
            # without copying every body to lower case first (three times faster).
            columns = (searched.like(pattern, escape="\\") for searched in _SEARCHED)
        where.append(or_(*columns))
    if short_words and dialect == "postgresql":
        words = func.plainto_tsquery(WORDS_CONFIG, bindparam("words"))
        where.append(WORDS_COLUMN.op("@@")(words))
    elif short_words and word_posts:
        where.append(_post.id.in_(_IN_WORDS))
    elif short_words:
        # ``id + 0``, not a bare ``id``: SQLite would otherwise look up each of the
        # word's many posts and sort them all, instead of stopping at a page's worth.
        where.append((_post.id + literal_column("0")).in_(_IN_WORDS))
    if trigram_posts:
        where.append(_post.id.in_(_IN_TRIGRAMS))
    # The matches up to the cap, then the page among them, counted on the way: one
    # statement reads each matching row once.
    matches = (
        select(*_CARD_COLUMNS)
        .where(_PUBLISHED, *where)
        .order_by(*_NEWEST_FIRST)
        .limit(bindparam("count_limit"))
        .subquery()
    )
    return (
        select(*matches.c, func.count().over().label("found"))
        .order_by(matches.c.published_at.desc(), matches.c.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


def search_posts(query, page):
    """One ``Page`` of the published posts whose title, summary or body contain every
    term (any case; a term of one or two letters or digits as a whole word), newest
    first, with their count up to ``SEARCH_COUNT_CAP`` (``more`` when there are more).
    Past the end, or past the cap, its ``items`` are empty.

    Terms of three characters or more go through the trigram index, shorter ones through
    the word index (``MIN_INDEXED_TERM``): a rare word costs the same among 10 posts or
    10,000, a common one a page's worth of posts read newest first (up to the cap, to
    count them).
    """
    per_page = current_app.config["POSTS_PER_PAGE"]
    offset = (page - 1) * per_page
    if offset >= SEARCH_COUNT_CAP:
        return Page([], page, per_page, 0)  # past the last page there is: nothing to read
    params = {
        "now": utcnow(),
        "limit": per_page,
        "offset": offset,
        "count_limit": SEARCH_COUNT_CAP + 1,
    }
    dialect = db.session.get_bind().dialect.name
    # A short term is a whole word, which the word index answers on its own; every
    # other term is a substring (LIKE), found through the trigram index when long.
    short_words = [term for term in query.terms if len(term) < MIN_INDEXED_TERM and _is_word(term)]
    substrings = [term for term in query.terms if term not in short_words]
    long_terms = [term for term in substrings if len(term) >= MIN_INDEXED_TERM]
    params.update(
        {f"term_{position}": _like_pattern(term) for position, term in enumerate(substrings)}
    )
    if short_words:
        postgresql = dialect == "postgresql"
        params["words"] = " ".join(short_words) if postgresql else _fts_query(short_words)
    trigram_posts = word_posts = False
    if dialect == "sqlite" and (long_terms or short_words):
        if long_terms:
            params["match"] = _fts_query(long_terms)
        probe = _index_probe(bool(long_terms), bool(short_words))
        counts = db.session.execute(probe, params | {"probe": SEARCH_INDEX_LIMIT}).one()
        trigram_posts, word_posts = (
            count is not None and count < SEARCH_INDEX_LIMIT for count in counts
        )
    stmt = _search_statement(dialect, len(substrings), bool(short_words), trigram_posts, word_posts)
    rows = db.session.execute(stmt, params).all()
    # The row past the cap only says "more": it is never shown.
    rows = rows[: max(0, SEARCH_COUNT_CAP - offset)]
    found = rows[0].found if rows else 0
    return Page(
        _cards_of(rows),
        page,
        per_page,
        min(found, SEARCH_COUNT_CAP),
        more=found > SEARCH_COUNT_CAP,
    )


# --- comments ------------------------------------------------------------------------


def has_control_characters(text, allow_newlines=True):
    """True when ``text`` holds control characters (other than newline, CR and tab)."""
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)


@dataclass
class ThreadedComment:
    """An approved comment as the post shows it; a top-level one carries its approved
    replies, oldest first (replies go one level deep)."""

    id: int
    author_name: str
    body_html: str
    created_at: datetime
    replies: list["ThreadedComment"] = field(default_factory=list)


_APPROVED_COMMENTS = (
    select(
        _comment.id,
        _comment.parent_id,
        _comment.author_name,
        _comment.body_html,
        _comment.created_at,
    )
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
