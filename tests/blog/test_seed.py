"""The demo content: the spinal-exercise article with 20 comments, a dozen more posts."""

from sqlalchemy import func, select

from blueprints.blog.models import Comment, CommentStatus, Post, PostStatus, Tag
from blueprints.blog.seed import DEMO_POSTS, SPINE_SLUG, seed
from extensions import db


def _counts():
    return (
        db.session.scalar(select(func.count(Post.id))),
        db.session.scalar(select(func.count(Tag.id))),
        db.session.scalar(select(func.count(Comment.id))),
    )


def test_seed_creates_the_spinal_article_with_its_references_and_tags(app):
    seed()
    db.session.commit()
    post = db.session.scalar(select(Post).where(Post.slug == SPINE_SLUG))
    assert post.title == "How to increase spinal bone density with exercise"
    assert post.author_name == "Dr. Susan E. Brown, PhD"
    assert post.status == PostStatus.PUBLISHED
    assert "60 to 75" in post.body_md and "paraspinal" in post.body_md
    assert post.body_html.count("<li>") == 5
    lee, sinaki = post.references
    assert (lee.authors, lee.journal, lee.year, lee.volume, lee.issue, lee.pages) == (
        "Lee D-Y, et al",
        "J Bone Metab",
        2015,
        "22",
        "4",
        "197-204",
    )
    assert (lee.doi, lee.pmid) == ("10.11005/jbm.2015.22.4.197", "26713311")
    assert (sinaki.authors, sinaki.journal, sinaki.year, sinaki.pages) == (
        "Sinaki M, et al",
        "Bone",
        2002,
        "836-841",
    )
    assert (sinaki.volume, sinaki.issue, sinaki.doi, sinaki.pmid) == ("30", "6", None, "12052450")
    # The text cites both, and a clinician reviewed it.
    assert 'id="cite-1"' in post.body_html and 'id="cite-2"' in post.body_html
    assert post.reviewer_name and post.reviewed_at is not None
    assert {t.slug for t in post.tags} == {"exercise", "spine", "weighted-vests"}


def test_seed_adds_enough_posts_for_pagination_and_tags(app, client):
    seed()
    db.session.commit()
    posts, tags, _ = _counts()
    assert posts >= 13
    assert tags >= 10
    assert client.get("/blog/?page=2").status_code == 200
    dates = db.session.scalars(select(Post.published_at)).all()
    assert len(set(dates)) == len(dates)
    assert "How to increase spinal bone density" in client.get("/").get_data(as_text=True)


def test_seed_adds_approved_comments_with_a_reply(app, client):
    seed()
    db.session.commit()
    comments = db.session.scalars(select(Comment)).all()
    assert len(comments) == 20  # the benchmark's seed post has 20 approved comments
    assert all(c.status == CommentStatus.APPROVED for c in comments)
    assert any(c.parent_id is not None for c in comments)
    html = client.get(f"/blog/{SPINE_SLUG}").get_data(as_text=True)
    assert "Replies to Ellen R." in html


def test_seeded_reply_by_dr_brown_carries_the_author_badge_as_staff_replies_do(app, client):
    seed()
    db.session.commit()
    reply = db.session.scalars(select(Comment).where(Comment.parent_id.is_not(None))).one()
    post = db.session.get(Post, reply.post_id)
    # What moderation.add_staff_reply writes: the post's author, by staff.
    assert reply.by_staff is True
    assert reply.author_name == post.author_name
    html = client.get(f"/blog/{SPINE_SLUG}").get_data(as_text=True)
    reply_html = html[html.index(f'id="comment-{reply.id}-author"') :]
    assert reply_html.startswith(
        f'id="comment-{reply.id}-author">{post.author_name} '
        '<span class="status author-badge">Author</span></p>'
    )
    # Readers' comments carry no badge.
    assert html.count("author-badge") == 1


def test_seed_is_safe_to_run_twice(app, runner):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    before = _counts()
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0, second.output
    db.session.expire_all()
    assert _counts() == before


def test_seed_large_adds_the_archive_once_with_its_comments(app, monkeypatch):
    import blueprints.blog.seed as blog_seed

    # The real set is 10,000 posts with 20 comments each; a smaller one proves the same.
    monkeypatch.setattr(blog_seed, "LARGE_POSTS", 30)
    seed(large=True)
    db.session.commit()
    posts, _, comments = _counts()
    assert posts == len(DEMO_POSTS) + 1 + 30
    assert comments == len(blog_seed.DEMO_COMMENTS) + 30 * blog_seed.LARGE_COMMENTS_PER_POST
    archived = db.session.scalar(select(Post).where(Post.slug == "archive-note-7"))
    assert archived.status == PostStatus.PUBLISHED and archived.tags
    assert archived.body_html.startswith("<")  # rendered once, stored with the post
    seed(large=True)  # a second run adds nothing
    db.session.commit()
    assert _counts()[0] == posts and _counts()[2] == comments
