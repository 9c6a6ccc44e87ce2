"""Factories for the staff-area tests: posts, comments, and a signed-in staff client."""

from datetime import timedelta

import pytest

from blueprints.account.models import User
from blueprints.account.services import hash_password
from blueprints.blog.models import Comment, CommentStatus, Post, PostStatus
from blueprints.core.markdown import render_comment, render_post
from blueprints.core.types import utcnow
from extensions import db


@pytest.fixture
def make_post(app):
    counter = {"n": 0}

    def make(title=None, status=PostStatus.DRAFT, slug=None, body="Some **bold** words."):
        counter["n"] += 1
        title = title or f"Post number {counter['n']}"
        post = Post(
            title=title,
            slug=slug or f"post-number-{counter['n']}",
            body_md=body,
            body_html=render_post(body),
            status=status,
            published_at=utcnow() if status == PostStatus.PUBLISHED else None,
        )
        db.session.add(post)
        db.session.commit()
        return post

    return make


@pytest.fixture
def make_comment(app):
    counter = {"n": 0}

    def make(post, status=CommentStatus.PENDING, body="Thank you for this.", parent=None):
        counter["n"] += 1
        comment = Comment(
            post=post,
            parent_id=parent.id if parent else None,
            author_name=f"Reader {counter['n']}",
            author_email=f"reader{counter['n']}@example.com",
            body_md=body,
            body_html=render_comment(body),
            status=status,
            created_at=utcnow() - timedelta(minutes=100 - counter["n"]),
        )
        db.session.add(comment)
        db.session.commit()
        return comment

    return make


@pytest.fixture
def staff_client(client, auth):
    """A client signed in as staff."""
    response = auth.login()
    assert response.status_code == 303
    return client


@pytest.fixture
def reader_account(app):
    """A signed-up person who is not staff."""
    user = User(
        email="reader@example.com",
        name="Reader",
        password_hash=hash_password("a reader's long password"),
        is_staff=False,
    )
    db.session.add(user)
    db.session.commit()
    return user
