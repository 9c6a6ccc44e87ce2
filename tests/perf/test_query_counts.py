"""Query counts of every listed public page stay the same when the data grows tenfold.

The pages are rendered with the page cache off: the count is the page's own work.
"""

from datetime import timedelta

import pytest
from sqlalchemy import event, func, insert, select

from blueprints import area_modules
from blueprints.blog.models import Comment, CommentStatus, Post, PostStatus, Tag, post_tag
from blueprints.booking import availability, holds
from blueprints.booking.models import BookingStatus, CallType, ConsultationType
from blueprints.core.types import utcnow
from blueprints.shop.models import Product, ProductKind, Variant, product_tag
from extensions import db

SPINE = "/blog/how-to-increase-spinal-bone-density-with-exercise"
PAGES = [
    "/",
    "/blog/",
    "/blog/?page=2",
    SPINE,
    "/blog/tag/exercise",
    "/blog/search?q=bone",
    "/blog/feed.xml",
    "/sitemap.xml",
    "/shop/",
    "/shop/weighted-walking-vest",
    "/consultations/",
    "/consultations/initial-consultation/",
    "/consultations/initial-consultation/?day=2099-01-01",
    "/newsletter/",
    "/robots.txt",
]


@pytest.fixture
def app_config():
    return {"PAGE_CACHE": False, "RATELIMIT_ENABLED": False}


def _seed_demo():
    for _area, module in area_modules("seed"):
        module.seed(large=False)
        db.session.commit()


def _counts(app, client):
    counts = {}
    statements = []

    def record(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        for url in PAGES:
            client.get(url)  # the first request may load things once per process
            statements.clear()
            response = client.get(url)
            assert response.status_code == 200, url
            counts[url] = len(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return counts


def _rows(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _grow_blog(factor):
    """Add (factor - 1) times the demo posts, each with tags and approved comments."""
    now = utcnow()
    extra = _rows(Post) * (factor - 1)
    db.session.execute(
        insert(Post),
        [
            {
                "slug": f"grown-{n}",
                "title": f"Grown bone note {n}",
                "summary": "More about bone.",
                "body_md": "Bone **health**.",
                "body_html": "<p>Bone <strong>health</strong>.</p>",
                "status": PostStatus.PUBLISHED,
                "published_at": now - timedelta(hours=n + 1),
            }
            for n in range(extra)
        ],
    )
    ids = db.session.scalars(select(Post.id).where(Post.slug.like("grown-%"))).all()
    tags = db.session.scalars(select(Tag.id)).all()
    db.session.execute(
        insert(post_tag),
        [{"post_id": i, "tag_id": t} for i in ids for t in {tags[i % len(tags)], tags[0]}],
    )
    spine = db.session.scalar(select(Post).where(Post.slug == SPINE.rsplit("/", 1)[1]))
    comments = _rows(Comment) * (factor - 1)
    db.session.execute(
        insert(Comment),
        [
            {
                "post_id": spine.id if n % 2 else ids[n % len(ids)],
                "author_name": f"Reader {n}",
                "author_email": f"r{n}@example.com",
                "body_md": "Thanks",
                "body_html": "<p>Thanks</p>",
                "status": CommentStatus.APPROVED,
                "created_at": now - timedelta(minutes=n),
            }
            for n in range(max(comments, 40))
        ],
    )


def _grow_shop(factor):
    extra = _rows(Product) * (factor - 1)
    db.session.execute(
        insert(Product),
        [
            {
                "slug": f"grown-item-{n}",
                "name": f"Grown item {n}",
                "kind": ProductKind.PHYSICAL,
                "summary": "More.",
                "active": True,
                "position": 50 + n,
            }
            for n in range(extra)
        ],
    )
    ids = db.session.scalars(select(Product.id).where(Product.slug.like("grown-item-%"))).all()
    tags = db.session.scalars(select(Tag.id)).all()
    db.session.execute(
        insert(Variant),
        [
            {
                "product_id": p,
                "sku": f"G-{p}-{k}",
                "name": f"Option {k}",
                "price_cents": 900,
                "stock": k,
                "position": k,
            }
            for p in ids
            for k in range(3)
        ],
    )
    db.session.execute(insert(product_tag), [{"product_id": p, "tag_id": tags[0]} for p in ids])


def _grow_bookings(count):
    """Confirmed bookings in the coming weeks, through the real hold step."""
    ctype = db.session.scalar(
        select(ConsultationType).where(ConsultationType.slug == "follow-up-call")
    )
    now = utcnow()
    slots = availability.free_slots(ctype, now=now)
    details = {
        "name": "C",
        "email": "c@example.com",
        "phone": "+1 555 0100",
        "client_timezone": "America/New_York",
        "call_type": CallType.PHONE,
    }
    made = 0
    for slot in slots[::3]:
        if made >= count:
            break
        booking = holds.hold_slot(ctype, slot, details, now=now)
        booking.status = BookingStatus.CONFIRMED
        booking.hold_expires_at = None
        made += 1
    assert made == count


def test_no_listed_page_runs_more_queries_with_ten_times_the_data(app, client):
    _seed_demo()
    _grow_bookings(3)
    db.session.commit()
    small = _counts(app, client)

    _grow_blog(10)
    _grow_shop(10)
    _grow_bookings(27)
    db.session.commit()
    large = _counts(app, client)

    grew = {url: (small[url], large[url]) for url in PAGES if large[url] > small[url]}
    assert not grew, f"query counts grew with the data: {grew}"
    # The pages really are database-backed: the counts are small, not zero. A product
    # page reads seven things: the product, its options, tags, gallery (its image ids,
    # then their pictures from the media library), related posts and the shipping rates.
    budget = {"/shop/weighted-walking-vest": 7}
    assert all(
        1 <= small[url] <= budget.get(url, 6)
        for url in PAGES
        if url not in ("/newsletter/", "/robots.txt")
    )


def test_free_times_for_a_week_come_from_one_query_for_bookings(app):
    _seed_demo()
    ctype = db.session.scalar(
        select(ConsultationType).where(ConsultationType.slug == "follow-up-call")
    )
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    now = utcnow()

    def measure():
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            slots = availability.free_slots(
                ctype, now=now, range_start=now, range_end=now + timedelta(days=28)
            )
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return slots, [s for s in statements]

    slots_before, before = measure()
    _grow_bookings(20)
    db.session.commit()
    db.session.refresh(ctype)  # the commit expired it; reloading it is not the page's work
    slots_after, after = measure()
    assert len(slots_after) < len(slots_before)  # the bookings took times away
    assert len(after) == len(before)
    booking_reads = [s for s in after if "FROM booking" in s]
    assert len(booking_reads) == 1, booking_reads
