"""Comment impersonation (issue #17, finding 2): typed fields prove nothing.

A comment appears at once only when its browser proved the mailbox (the signed "known
commenter" cookie from the link we email when a comment is approved) and that address
already has an approved comment. Names that look like staff always wait for a person,
and the "Author" badge comes only from a staff member signed in.
"""

import hashlib
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from blueprints.blog import links as blog_links
from blueprints.blog.commenters import KNOWN_COMMENTER_COOKIE, looks_like_staff
from blueprints.blog.links import known_commenter_url
from blueprints.blog.models import Comment, CommentStatus
from blueprints.blog.moderation import moderate_comments
from extensions import db
from tests.blog.conftest import comment_form, inspect_markup
from tests.conftest import AuthActions, html_part, text_part

VICTIM = "joan@example.com"


@pytest.fixture
def post(make_post):
    return make_post("Strong backs", days_ago=3)


@pytest.fixture
def approved_commenter(post, make_comment):
    """Joan, whose earlier comment staff approved."""
    return make_comment(post, email=VICTIM, name="Joan Smith", body="My first, approved.")


def newest_comment():
    db.session.expire_all()
    return db.session.scalars(select(Comment).order_by(Comment.id.desc()).limit(1)).one()


def test_staff_name_with_an_approved_commenters_email_is_held_not_published(
    client, post, approved_commenter
):
    response = client.post(
        "/blog/strong-backs",
        data=comment_form(
            name="Dr. Susan E. Brown",
            email=VICTIM,
            body="As your doctor I recommend stopping all calcium at once.",
        ),
    )
    assert response.status_code == 303
    forged = newest_comment()
    assert forged.status == CommentStatus.PENDING
    page = client.get("/blog/strong-backs").get_data(as_text=True)
    assert "awaiting moderation" in page  # the sender sees it waits; nobody else sees it
    others = client.application.test_client().get("/blog/strong-backs").get_data(as_text=True)
    assert "stopping all calcium" not in others


def test_an_approved_commenters_email_without_the_cookie_is_held(client, post, approved_commenter):
    client.post("/blog/strong-backs", data=comment_form(email=VICTIM, body="Typed, not proved."))
    assert newest_comment().status == CommentStatus.PENDING
    others = client.application.test_client().get("/blog/strong-backs")
    assert "Typed, not proved." not in others.get_data(as_text=True)


@pytest.mark.parametrize(
    "extra",
    [
        {"by_staff": "1"},
        {"by_staff": "true"},
        {"author": "1"},
        {"badge": "Author"},
        {"is_staff": "1"},
        {"staff": "on"},
    ],
)
def test_no_form_field_gives_a_visitor_the_author_badge(
    client, post, approved_commenter, known_commenter, extra
):
    known_commenter(client, VICTIM)  # so the comment is published and the page shows it
    data = comment_form(email=VICTIM, body="Am I staff now?", **extra)
    client.post("/blog/strong-backs", data=data)
    comment = newest_comment()
    assert comment.status == CommentStatus.APPROVED
    assert comment.by_staff is False
    page = client.get("/blog/strong-backs").get_data(as_text=True)
    assert "Am I staff now?" in page
    assert badges(page) == []


def test_markup_in_a_visitors_name_or_body_cannot_draw_the_badge(
    client, post, approved_commenter, known_commenter
):
    known_commenter(client, VICTIM)
    badge = '<span class="status author-badge">Author</span>'
    client.post(
        "/blog/strong-backs",
        data=comment_form(email=VICTIM, name=badge[:80], body=badge + " and some words"),
    )
    assert newest_comment().status == CommentStatus.APPROVED
    page = client.get("/blog/strong-backs").get_data(as_text=True)
    assert "and some words" in page
    assert badges(page) == []  # the markup is shown as text, never as an element


def badges(html):
    """The "Author" badges the page draws (elements, not text that looks like one)."""
    return [
        value
        for tag, name, value in inspect_markup(html).attributes
        if name == "class" and "author-badge" in value.split()
    ]


# --- proof of the mailbox: the known-commenter cookie ---------------------------------------

CONFIRM_LINK = re.compile(r"http://localhost(/blog/commenter/[A-Za-z0-9_.\-]+)")


def test_a_commenter_confirms_from_the_approval_email_then_her_comments_appear_at_once(
    app, client, post, staff_user, mailbox
):
    client.post("/blog/strong-backs", data=comment_form(body="My first comment."))
    first = newest_comment()
    assert first.status == CommentStatus.PENDING
    staff = app.test_client()
    assert AuthActions(staff).login().status_code == 303
    staff.post("/admin/comments", data={"one": f"{first.id}:approve"})

    [message] = [m for m in mailbox.wait_for(2) if "joan@example.com" in str(m["To"])]
    assert message["Subject"] == "Your comment on Strong backs is published"
    text = text_part(message)
    assert f"http://localhost/blog/comments/{first.id}\r\n" in text
    path = CONFIRM_LINK.search(text).group(1)
    assert f'href="http://localhost{path}"' in html_part(message)

    # Opening the link only shows a button: a mail scanner fetching it sets nothing.
    opened = client.get(path)
    assert opened.status_code == 200
    assert "Confirm it's me" in opened.get_data(as_text=True)
    assert KNOWN_COMMENTER_COOKIE not in " ".join(opened.headers.getlist("Set-Cookie"))
    confirmed = client.post(path, data={})
    assert confirmed.status_code == 303
    assert confirmed.headers["Location"].endswith("/blog/strong-backs#comment-notice")
    assert "this browser appear here at once" in client.get("/blog/strong-backs").text

    client.post("/blog/strong-backs", data=comment_form(body="My second, straight in."))
    assert newest_comment().status == CommentStatus.APPROVED
    assert "My second, straight in." in client.get("/blog/strong-backs").text
    # Anyone else typing her name and address still waits.
    app.test_client().post(
        "/blog/strong-backs", data=comment_form(body="Someone else, typing her address.")
    )
    assert newest_comment().status == CommentStatus.PENDING


def test_the_known_commenter_cookie_is_long_lived_signed_and_hidden_from_scripts(
    client, post, known_commenter
):
    response = known_commenter(client, VICTIM)
    [header] = [
        h
        for h in response.headers.getlist("Set-Cookie")
        if h.startswith(KNOWN_COMMENTER_COOKIE + "=")
    ]
    attributes = {part.strip().split("=")[0].lower(): part for part in header.split(";")}
    assert "httponly" in attributes
    assert "samesite=lax" in attributes["samesite"].lower()
    assert attributes["path"].strip() == "Path=/blog/"
    assert int(attributes["max-age"].split("=")[1]) >= 300 * 24 * 3600
    assert VICTIM not in header  # it proves the address without showing it


def test_a_cookie_for_another_address_proves_nothing(
    client, post, approved_commenter, known_commenter
):
    known_commenter(client, "ann@example.com")
    client.post("/blog/strong-backs", data=comment_form(email=VICTIM, body="Ann as Joan."))
    assert newest_comment().status == CommentStatus.PENDING


def test_the_cookie_without_an_approved_comment_is_held(
    client, post, approved_commenter, known_commenter, staff_user
):
    known_commenter(client, VICTIM)
    moderate_comments([approved_commenter.id], "spam", actor=staff_user)  # a change of mind
    db.session.commit()
    client.post("/blog/strong-backs", data=comment_form(email=VICTIM, body="Still trusted?"))
    assert newest_comment().status == CommentStatus.PENDING


@pytest.mark.parametrize(
    "forged",
    [
        "joan@example.com",
        "garbage.value.here",
        URLSafeTimedSerializer("another-secret", salt="blog-known-commenter-cookie").dumps(
            hashlib.sha256(VICTIM.encode()).hexdigest()
        ),
        URLSafeTimedSerializer("test-secret-key", salt="some-other-purpose").dumps(
            hashlib.sha256(VICTIM.encode()).hexdigest()
        ),
    ],
)
def test_a_forged_cookie_proves_nothing(client, post, approved_commenter, forged):
    client.set_cookie(KNOWN_COMMENTER_COOKIE, forged, path="/blog/")
    client.post("/blog/strong-backs", data=comment_form(email=VICTIM, body="Forged cookie."))
    assert newest_comment().status == CommentStatus.PENDING


def test_an_altered_or_expired_confirm_link_sets_no_cookie(client, post, monkeypatch):
    path = urlsplit(known_commenter_url(VICTIM, "strong-backs")).path
    altered = path[:-3] + ("xyz" if not path.endswith("xyz") else "abc")
    for bad in (altered, "/blog/commenter/nonsense"):
        assert client.get(bad).status_code == 400
        response = client.post(bad, data={})
        assert response.status_code == 400
        assert KNOWN_COMMENTER_COOKIE not in " ".join(response.headers.getlist("Set-Cookie"))
    monkeypatch.setattr(blog_links, "KNOWN_COMMENTER_LINK_LIFETIME", timedelta(seconds=-1))
    assert "This link has expired" in client.get(path).get_data(as_text=True)
    response = client.post(path, data={})
    assert response.status_code == 400
    assert KNOWN_COMMENTER_COOKIE not in " ".join(response.headers.getlist("Set-Cookie"))


def test_confirming_needs_the_forms_csrf_token(client, post):
    path = urlsplit(known_commenter_url(VICTIM, "strong-backs")).path
    response = client.post(path, data={}, csrf=False)
    assert response.status_code == 400
    assert KNOWN_COMMENTER_COOKIE not in " ".join(response.headers.getlist("Set-Cookie"))


# --- names that look like ours --------------------------------------------------------------

STAFF_LIKE = [
    "Dr. Brown",
    "Susan Brown",
    "Dr. Susan E. Brown",
    "Better Bones",
    "dr.  susan e brown",
    "DR BROWN",
    "Susan  E. Brown, PhD",
    "Dr. Brown, Ph.D.",
    "Brown, Susan",
    "S. E. Brown",
    "Susаn Brown",  # a Cyrillic "а"
    "Su\u200bsan Brown",  # a zero-width space
    "Súsan Brówn",
    "ＳＵＳＡＮ　ＢＲＯＷＮ",
    "BetterBones",
    "The Better-Bones team",
    "Dr.",
]


@pytest.mark.parametrize("name", STAFF_LIKE)
def test_a_staff_like_name_is_held_even_from_a_known_commenter(
    client, post, approved_commenter, known_commenter, name
):
    known_commenter(client, VICTIM)
    client.post("/blog/strong-backs", data=comment_form(name=name, email=VICTIM))
    assert newest_comment().status == CommentStatus.PENDING


@pytest.mark.parametrize(
    "name",
    ["Joan Smith", "James Brown", "Susan Smith", "Margaret Browning", "Dr. Green", "Bones lover"],
)
def test_ordinary_names_are_not_taken_for_staff(app, name):
    assert not looks_like_staff(name)


def test_reserved_names_come_from_the_settings(app):
    app.config["RESERVED_COMMENT_NAMES"] = ["Anna Lee, RD"]
    assert looks_like_staff("anna   LEE")
    assert not looks_like_staff("Susan Brown")


def test_staff_are_told_why_a_staff_like_name_waits(
    client, post, approved_commenter, staff_user, mailbox
):
    client.post("/blog/strong-backs", data=comment_form(name="Dr. Susan E. Brown", email=VICTIM))
    [message] = mailbox.wait_for(1)
    assert "the name looks like one of ours" in text_part(message)
