"""Searching published posts: what the reader typed, and the page of posts holding
every term.

A search runs two queries (the page with its capped count, the page's tags), and on
SQLite one more first (how many posts the index holds for the words).
"""

from dataclasses import dataclass, field
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, column, func, literal_column, null, or_, select, table

from blueprints.blog.comments import has_control_characters
from blueprints.blog.models import SEARCH_TABLE, WORDS_COLUMN, WORDS_CONFIG, WORDS_TABLE, Post
from blueprints.blog.posts import CARD_COLUMNS, NEWEST_FIRST, PUBLISHED, Page, cards_of
from blueprints.core.types import utcnow
from extensions import db

MAX_SEARCH_LENGTH = 200
MAX_SEARCH_TERMS = 8

_post = Post.__table__.c


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
        select(*CARD_COLUMNS)
        .where(PUBLISHED, *where)
        .order_by(*NEWEST_FIRST)
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
        cards_of(rows),
        page,
        per_page,
        min(found, SEARCH_COUNT_CAP),
        more=found > SEARCH_COUNT_CAP,
    )
