"""Blog fixtures: posts (published, draft or scheduled) and comments, numbered, on the
makers in tests/factories.py; a comment form; an inspector of rendered markup."""

import itertools
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from blueprints.blog.links import known_commenter_url
from blueprints.blog.models import CommentStatus, PostStatus
from blueprints.core.types import utcnow
from tests import factories


@pytest.fixture
def make_post(app):
    """``make_post(title=..., days_ago=3, tags=[...], draft=False, ...)`` -> a committed Post.

    Posts are published ``days_ago`` days back (by default each new one a day older).
    """
    numbers = itertools.count(1)

    def factory(
        title=None,
        body="A short note about bones.",
        *,
        days_ago=None,
        draft=False,
        future=False,
        commit=True,
        **kwargs,
    ):
        number = next(numbers)
        title = title or f"Bone note number {number}"
        if draft:
            published_at = None
        elif future:
            published_at = utcnow() + timedelta(days=3)
        else:
            published_at = utcnow() - timedelta(days=number if days_ago is None else days_ago)
        status = PostStatus.DRAFT if draft else PostStatus.PUBLISHED
        return factories.make_post(
            title, body, status=status, published_at=published_at, commit=commit, **kwargs
        )

    return factory


@pytest.fixture
def make_comment(app):
    """``make_comment(post, body=..., status=APPROVED, parent=None, email=...)``."""
    numbers = itertools.count(1)

    def factory(
        post,
        body=None,
        *,
        status=CommentStatus.APPROVED,
        parent=None,
        email=None,
        name=None,
        commit=True,
    ):
        number = next(numbers)
        return factories.make_comment(
            post,
            body or f"Comment number {number}: thank you for this article.",
            status=status,
            parent=parent,
            name=name or f"Reader {number}",
            email=email or f"reader{number}@example.com",
            created_at=utcnow() - timedelta(minutes=10_000 - number),
            commit=commit,
        )

    return factory


def comment_form(**overrides):
    data = {
        "name": "Joan Smith",
        "email": "joan@example.com",
        "body": "Thank you, this helped me start exercising again.",
    }
    data.update(overrides)
    return data


class MarkupInspector(HTMLParser):
    """Collects every tag and attribute, to prove rendered HTML is harmless."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.attributes = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)


def inspect_markup(html):
    inspector = MarkupInspector()
    inspector.feed(html)
    inspector.close()
    return inspector


@pytest.fixture
def known_commenter(app):
    """``known_commenter(client, email)``: the client's browser proves ``email`` as a
    commenter would, by following the "confirm it's you" link emailed to that address."""

    def confirm(client, email, slug="strong-backs"):
        path = urlsplit(known_commenter_url(email, slug)).path
        assert client.get(path).status_code == 200
        response = client.post(path, data={})
        assert response.status_code == 303
        return response

    return confirm
