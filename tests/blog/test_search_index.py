"""Search through the trigram index (FTS5 on SQLite, pg_trgm on PostgreSQL) and, for
terms of one or two characters, the word index (FTS5 on SQLite, a ``to_tsvector`` GIN
index on PostgreSQL): the indexes follow every change to the posts, short terms match
whole words, the count stops at a cap."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from blueprints.account.services import create_staff
from blueprints.blog import search
from blueprints.blog.editing import publish_post, save_post, unpublish_post
from blueprints.blog.models import Post, PostStatus
from blueprints.blog.search import SEARCH_COUNT_CAP, SEARCH_INDEX_LIMIT
from blueprints.core.types import utcnow
from extensions import db
from tests.conftest import is_postgres

FOUND_NONE = "No posts matched"


@pytest.fixture
def app_config():
    # The search's own answer each time, not a page kept from before the change.
    return {"PAGE_CACHE": False}


def _search(client, q, page=None):
    query = {"q": q} if page is None else {"q": q, "page": page}
    response = client.get("/blog/search", query_string=query)
    return response.status_code, response.get_data(as_text=True)


def _found(client, q):
    status, html = _search(client, q)
    assert status == 200
    return html


def _check_sqlite_index():
    """FTS5 compares its indexes with the post table and raises if they differ."""
    if db.engine.dialect.name == "sqlite":
        for table in ("post_search", "post_words"):
            db.session.execute(sa.text(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')"))


def _edit(post, **changes):
    editor = create_staff("editor@betterbones.example", "a long enough passphrase")
    values = {
        "title": post.title,
        "slug": post.slug,
        "summary": post.summary,
        "body_md": post.body_md,
        "tag_names": [],
        "references": [],
    }
    values.update(changes)
    save_post(post, **values, actor=editor)
    db.session.commit()


def _insert_posts(rows):
    """Bulk Core inserts, as the seeders make them (no ORM events: only triggers)."""
    now = utcnow()
    db.session.execute(
        sa.insert(Post),
        [
            {
                "slug": f"bulk-{n}",
                "title": f"Bulk note {n}",
                "summary": "",
                "body_md": body,
                "body_html": f"<p>{body}</p>",
                "status": PostStatus.PUBLISHED,
                "published_at": now - timedelta(hours=n + 1),
            }
            for n, body in enumerate(rows)
        ],
    )
    db.session.commit()


def test_edited_post_is_found_by_its_new_words_and_not_its_old_ones(client, make_post):
    post = make_post("Squash for strong bones", "Eat zucchini in summer.")
    assert "1 post found." in _found(client, "zucchini")

    _edit(post, title="Pumpkin for strong bones", body_md="Eat butternut in autumn.")
    _check_sqlite_index()

    assert FOUND_NONE in _found(client, "zucchini")
    assert FOUND_NONE in _found(client, "squash")
    assert "Pumpkin for strong bones" in _found(client, "butternut")
    assert "Pumpkin for strong bones" in _found(client, "pumpkin")


def test_summary_changes_are_searched_too(client, make_post):
    post = make_post("Walking", "Brisk walks.", summary="Why stairs help.")
    assert ">Walking</a>" in _found(client, "stairs")
    _edit(post, summary="Why hills help.")
    assert FOUND_NONE in _found(client, "stairs")
    assert ">Walking</a>" in _found(client, "hills")


def test_publishing_makes_a_post_findable_and_unpublishing_hides_it(client, make_post):
    post = make_post("Strontium questions", "What strontium does.", draft=True)
    assert FOUND_NONE in _found(client, "strontium")

    publish_post(post, actor=None)
    db.session.commit()
    assert "Strontium questions" in _found(client, "strontium")

    unpublish_post(post, actor=None)
    db.session.commit()
    assert FOUND_NONE in _found(client, "strontium")


def test_a_deleted_post_is_no_longer_found(client, make_post):
    post = make_post("Magnesium and bone", "Magnesium matters.")
    make_post("Calcium and bone", "Calcium matters.")
    assert "Magnesium and bone" in _found(client, "magnesium")

    db.session.delete(post)
    db.session.commit()
    _check_sqlite_index()

    assert FOUND_NONE in _found(client, "magnesium")
    assert "Calcium and bone" in _found(client, "matters")


def test_posts_added_by_bulk_inserts_are_found(client):
    _insert_posts(["Notes on hydroxyapatite crystals.", "Notes on walking."])
    _check_sqlite_index()
    html = _found(client, "hydroxyapatite")
    assert "1 post found." in html and "Bulk note 0" in html


@pytest.mark.parametrize(
    ("query", "found", "not_found"),
    [
        ("K2", "Vitamin K2 and bones", "Vitamin D and sunshine"),
        ("k2", "Vitamin K2 and bones", "Vitamin D and sunshine"),
        ("vitamin k2", "Vitamin K2 and bones", "Vitamin D and sunshine"),
        ("D sunshine", "Vitamin D and sunshine", "Vitamin K2 and bones"),
    ],
)
def test_terms_too_short_for_the_trigram_index_find_posts(
    client, make_post, query, found, not_found
):
    make_post("Vitamin K2 and bones", "Leafy greens.")
    make_post("Vitamin D and sunshine", "Get outside.")
    make_post("Balance", "Stand on one foot.")
    html = _found(client, query)
    assert found in html and not_found not in html
    assert ">Balance</a>" not in html


def test_a_short_term_matches_a_whole_word_not_part_of_one(client, make_post):
    make_post("Vitamin D and sunshine", "Get outside.")
    make_post("Daily walks", "Stride out and breathe.")  # d in words, never alone
    make_post("Summer", "Vitamin D3 comes from the sun.", summary="Longer days.")
    html = _found(client, "D")
    assert "1 post found." in html and "Vitamin D and sunshine" in html
    html = _found(client, "d3")
    assert "1 post found." in html and ">Summer</a>" in html


def test_a_short_word_follows_edits_and_deletes(client, make_post):
    post = make_post("Menopause", "Estrogen and vitamin K2.")
    assert "1 post found." in _found(client, "K2")

    _edit(post, body_md="Estrogen and vitamin D3.")
    _check_sqlite_index()
    assert FOUND_NONE in _found(client, "K2")
    assert "1 post found." in _found(client, "D3")

    db.session.delete(post)
    db.session.commit()
    _check_sqlite_index()
    assert FOUND_NONE in _found(client, "D3")


def test_a_term_without_letters_or_digits_is_looked_for_as_written(client, make_post):
    make_post("Salt & pepper", "Season lightly.")
    make_post("Salt and pepper", "Season well.")
    html = _found(client, "&")
    assert "1 post found." in html and "Salt &amp; pepper" in html


def test_a_word_in_one_post_of_five_hundred_is_found(client):
    bodies = ["Bone health through the years."] * 500
    bodies[137] = "Bone health and zoledronate infusions."
    _insert_posts(bodies)
    html = _found(client, "Zoledronate")
    assert "1 post found." in html and "Bulk note 137" in html
    html = _found(client, "bone zoledronate")
    assert "1 post found." in html and "Bulk note 137" in html


@pytest.mark.parametrize(
    "query", ['"bone"', "bone*", "title:bone", "NEAR(bone walk)", "bone OR zinc", "-bone", '"']
)
def test_text_that_looks_like_index_syntax_is_looked_for_literally(client, make_post, query):
    make_post("Bone and walking", "Walk every day for bone.")
    literal = make_post(f"Odd title: {query} here", "Nothing else.")
    status, html = _search(client, query)
    assert status == 200
    assert "1 post found." in html
    assert f'href="/blog/{literal.slug}"' in html


@pytest.mark.parametrize(
    ("body", "query"),
    [("Walking is good for bone.", "walking"), ("Walk to the shops for bone.", "to")],
    ids=["trigrams", "words"],
)
def test_a_common_word_is_found_newest_first_past_the_index_limit(client, body, query):
    # More matches than SEARCH_INDEX_LIMIT: SQLite reads posts newest first instead.
    _insert_posts([body] * (SEARCH_INDEX_LIMIT + 5))
    html = _found(client, query)
    assert f"More than {SEARCH_COUNT_CAP} posts match." in html
    assert html.index("Bulk note 0") < html.index("Bulk note 9")
    assert "Bulk note 10" not in html


# --- the count cap -----------------------------------------------------------------------


def test_below_the_cap_the_count_is_exact(client):
    _insert_posts(["About bone."] * 37)
    html = _found(client, "bone")
    assert "37 posts found." in html and "More than" not in html
    assert "Page 1 of 4" in html


@pytest.fixture
def over_the_cap(client):
    """``SEARCH_COUNT_CAP`` + 5 posts about bone, newest first ``Bulk note 0``..."""
    _insert_posts(["About bone."] * (SEARCH_COUNT_CAP + 5))


def test_above_the_cap_the_page_asks_for_another_word(client, over_the_cap):
    html = _found(client, "bone")
    assert (
        f"More than {SEARCH_COUNT_CAP} posts match. Add another word to narrow your search."
    ) in html
    assert "posts found." not in html
    assert f"Page 1 of {SEARCH_COUNT_CAP // 10}" in html  # 10 posts a page in tests


def test_above_the_cap_the_last_page_works_and_the_next_is_404(client, over_the_cap):
    status, html = _search(client, "bone", page=SEARCH_COUNT_CAP // 10)
    assert status == 200
    # The last page holds the cap's last ten posts, oldest first in the listing.
    cap = SEARCH_COUNT_CAP
    assert f"Bulk note {cap - 1}" in html and f"Bulk note {cap - 10}" in html
    assert f"Bulk note {cap}" not in html and f"Bulk note {cap - 11}" not in html
    assert f"More than {SEARCH_COUNT_CAP} posts match." in html
    assert 'rel="next"' not in html

    status, _ = _search(client, "bone", page=SEARCH_COUNT_CAP // 10 + 1)
    assert status == 404


def test_exactly_the_cap_is_counted_exactly(client):
    _insert_posts(["About bone."] * SEARCH_COUNT_CAP)
    html = _found(client, "bone")
    assert f"{SEARCH_COUNT_CAP} posts found." in html and "More than" not in html


def test_the_cap_also_ends_pages_that_do_not_divide_it(app, client, over_the_cap):
    app.config["POSTS_PER_PAGE"] = 7
    last = -(-SEARCH_COUNT_CAP // 7)  # the page holding the last counted post
    status, html = _search(client, "bone", page=last)
    assert status == 200
    assert f"Bulk note {SEARCH_COUNT_CAP - 1}" in html
    assert f"Bulk note {SEARCH_COUNT_CAP}" not in html
    assert _search(client, "bone", page=last + 1)[0] == 404


# --- the plans ---------------------------------------------------------------------------


def _explain(app, q):
    """The plan of the search's statement for ``q``, the planner's statistics fresh."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "count(*) OVER ()" in statement:
            seen.append((statement, parameters))

    db.session.commit()
    if is_postgres():
        # VACUUM also brings a GIN index's own size figures up to date (an index built
        # empty and filled row by row has none), as autovacuum does in production.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE post"))
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        with app.test_request_context():
            search.search_posts(search.parse_search(q), 1)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    ((statement, parameters),) = seen
    explain = "EXPLAIN " if is_postgres() else "EXPLAIN QUERY PLAN "
    rows = db.session.connection().exec_driver_sql(explain + statement, parameters).all()
    return "\n".join(str(row[0] if is_postgres() else row[3]) for row in rows)


# Posts big enough that reading the whole table costs more than an index (PostgreSQL
# keeps no statistics on values over 1 kB: these stay under it).
ARTICLE = "Bone health through the years: walk to strength and food. " * 15


@pytest.mark.parametrize(
    ("query", "extra", "postgresql_index", "sqlite_table"),
    [
        ("teriparatide", "Teriparatide injections.", "ix_post_body_md_trgm", "post_search"),
        ("K2", "Vitamin K2 too.", "ix_post_words", "post_words"),
    ],
    ids=["trigrams", "words"],
)
def test_a_rare_word_is_looked_up_in_its_index(app, query, extra, postgresql_index, sqlite_table):
    _insert_posts([ARTICLE] * 1000 + [ARTICLE + extra])
    plan = _explain(app, query)
    if is_postgres():
        assert f"Bitmap Index Scan on {postgresql_index}" in plan
    else:
        assert f"SCAN {sqlite_table} VIRTUAL TABLE" in plan


def test_a_common_word_reads_posts_newest_first(app):
    _insert_posts([ARTICLE] * 1000)
    plan = _explain(app, "bone")
    assert "ix_post_status_published_at_id" in plan
    assert "trgm" not in plan and "VIRTUAL TABLE" not in plan


def test_a_common_short_word_reads_posts_newest_first(app):
    _insert_posts([ARTICLE] * 1000)
    plan = _explain(app, "to")
    assert "ix_post_status_published_at_id" in plan
    if is_postgres():
        assert "ix_post_words" not in plan
    else:
        # The word's posts are a list to test against, not rows to look up and sort.
        assert "USING INTEGER PRIMARY KEY" not in plan
