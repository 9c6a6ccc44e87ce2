"""Makers of rows more than one area's tests need: blog posts and their comments.

Each area's conftest keeps its own defaults (the blog's posts are published, the staff
area's are drafts) in a small fixture around these. Makers of one area's rows live in
that area's conftest (tests/shop: products and orders, tests/booking: types and
bookings, tests/newsletter: subscribers); the fake Stripe API is tests/stripe_fake.py.
"""

from datetime import timedelta

from blueprints.blog.editing import create_post
from blueprints.blog.models import Comment, CommentStatus, PostStatus
from blueprints.core.markdown import render_comment
from blueprints.core.types import utcnow
from extensions import db


def make_post(
    title,
    body="A short note about bones.",
    *,
    status=PostStatus.PUBLISHED,
    published_at=None,
    commit=True,
    **fields,
):
    """A post made as staff make one (the blog's ``create_post``): published an hour ago
    unless ``published_at`` or a draft ``status`` says otherwise. ``fields`` are
    ``create_post``'s own (slug, summary, tags, references, ...)."""
    if status == PostStatus.PUBLISHED and published_at is None:
        published_at = utcnow() - timedelta(hours=1)
    post = create_post(title, body, published_at=published_at, **fields)
    post.status = status  # a draft may keep the date it was once published
    if commit:
        db.session.commit()
    return post


def make_comment(
    post,
    body="Thank you for this.",
    *,
    status=CommentStatus.APPROVED,
    parent=None,
    name="Reader",
    email="reader@example.com",
    created_at=None,
    commit=True,
):
    """A reader's comment on ``post`` (a reply when ``parent`` is given), its HTML
    rendered as the blog renders it."""
    comment = Comment(
        post_id=post.id,
        parent_id=parent.id if parent is not None else None,
        author_name=name,
        author_email=email,
        body_md=body,
        body_html=render_comment(body),
        status=status,
        created_at=created_at or utcnow(),
    )
    db.session.add(comment)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return comment
