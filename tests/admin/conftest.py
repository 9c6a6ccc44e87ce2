"""Fixtures for the staff-area tests: numbered posts (drafts unless told) and comments
(pending unless told) on the makers in tests/factories.py, a signed-in staff client,
and a reader's account."""

from datetime import timedelta

import pytest

from blueprints.account.models import User
from blueprints.account.services import hash_password
from blueprints.blog.models import CommentStatus, PostStatus
from blueprints.core.types import utcnow
from extensions import db
from tests import factories
from tests.conftest import (
    ASSISTANT_EMAIL,
    ASSISTANT_PASSWORD,
    STAFF_EMAIL,
    STAFF_PASSWORD,
    signed_in_client,
)


@pytest.fixture
def make_post(app):
    counter = {"n": 0}

    def make(title=None, status=PostStatus.DRAFT, slug=None, body="Some **bold** words.", **kw):
        counter["n"] += 1
        return factories.make_post(
            title or f"Post number {counter['n']}",
            body,
            status=status,
            published_at=utcnow() if status == PostStatus.PUBLISHED else None,
            slug=slug or f"post-number-{counter['n']}",
            **kw,
        )

    return make


@pytest.fixture
def make_comment(app):
    counter = {"n": 0}

    def make(post, status=CommentStatus.PENDING, body="Thank you for this.", parent=None, **kw):
        counter["n"] += 1
        kw.setdefault("name", f"Reader {counter['n']}")
        kw.setdefault("email", f"reader{counter['n']}@example.com")
        return factories.make_comment(
            post,
            body,
            status=status,
            parent=parent,
            created_at=utcnow() - timedelta(minutes=100 - counter["n"]),
            **kw,
        )

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


@pytest.fixture
def owner_client(app, staff_user):
    """The owner (Dr. Brown) signed in through the real sign-in form."""
    return signed_in_client(app, STAFF_EMAIL, STAFF_PASSWORD)


@pytest.fixture
def assistant_client(app, assistant):
    """An assistant signed in through the real sign-in form."""
    return signed_in_client(app, ASSISTANT_EMAIL, ASSISTANT_PASSWORD)
