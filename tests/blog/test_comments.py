"""Comments: moderation rules, replies, bots, rate limits, staff email and bad input."""

import pytest
from sqlalchemy import select

from blueprints.blog.models import Comment, CommentStatus
from extensions import db
from tests.blog.conftest import comment_form, inspect_markup
from tests.conftest import STAFF_EMAIL, html_part, text_part


@pytest.fixture
def post(make_post):
    return make_post("Strong backs", days_ago=3)


def stored_comments():
    db.session.expire_all()
    return db.session.scalars(select(Comment).order_by(Comment.id)).all()


def test_first_comment_is_held_and_reader_sees_awaiting_moderation(client, post):
    response = client.post("/blog/strong-backs", data=comment_form())
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/blog/strong-backs#comment-notice")
    [comment] = stored_comments()
    assert comment.status == CommentStatus.PENDING
    assert comment.post_id == post.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thank you, your comment is awaiting moderation" in page
    # She sees her own comment, marked as waiting (tests/blog/test_comment_pages.py).
    assert "this helped me start exercising again" in page
    # The notice is shown once, not on every later visit.
    later = client.get("/blog/strong-backs").get_data(as_text=True)
    assert "Thank you, your comment is awaiting moderation" not in later


def test_comment_from_a_known_commenter_with_an_approved_comment_appears_at_once(
    client, post, make_comment, known_commenter
):
    make_comment(post, email="joan@example.com", body="My first, approved.")
    known_commenter(client, "joan@example.com")  # her browser proved the address
    response = client.post(
        "/blog/strong-backs", data=comment_form(email="Joan@Example.com", body="Second *one*")
    )
    assert response.status_code == 303
    newest = stored_comments()[-1]
    assert newest.status == CommentStatus.APPROVED
    assert newest.author_email == "joan@example.com"
    page = client.get("/blog/strong-backs").get_data(as_text=True)
    assert "<p>Second <em>one</em></p>" in page
    assert f'id="comment-{newest.id}"' in page


def test_trusted_address_is_still_held_with_more_than_two_links(
    client, post, make_comment, known_commenter
):
    make_comment(post, email="joan@example.com")
    known_commenter(client, "joan@example.com")
    two = "See [a](https://a.example) and [b](https://b.example)."
    three = two + " Also [c](https://c.example)."
    client.post("/blog/strong-backs", data=comment_form(body=two))
    client.post("/blog/strong-backs", data=comment_form(body=three))
    *_, with_two, with_three = stored_comments()
    assert with_two.status == CommentStatus.APPROVED
    assert with_three.status == CommentStatus.PENDING


def test_pending_or_spam_history_does_not_make_an_address_trusted(client, post, make_comment):
    make_comment(post, email="joan@example.com", status=CommentStatus.PENDING)
    make_comment(post, email="joan@example.com", status=CommentStatus.SPAM)
    client.post("/blog/strong-backs", data=comment_form())
    assert stored_comments()[-1].status == CommentStatus.PENDING


def test_commenter_email_is_never_shown_on_public_pages(client, post, make_comment):
    make_comment(post, email="private.person@example.com", name="Private Person")
    for url in ["/blog/strong-backs", "/blog/feed.xml", "/", "/blog/"]:
        assert "private.person@example.com" not in client.get(url).get_data(as_text=True)
    assert "Private Person" in client.get("/blog/strong-backs").get_data(as_text=True)


def test_reply_is_shown_under_its_comment(client, post, make_comment, known_commenter):
    parent = make_comment(post, name="Margaret", email="margaret@example.com")
    make_comment(post, email="joan@example.com")  # Joan is trusted: her reply shows at once
    known_commenter(client, "joan@example.com")
    response = client.post(
        "/blog/strong-backs", data=comment_form(body="I agree!", parent_id=str(parent.id))
    )
    assert response.status_code == 303
    reply = stored_comments()[-1]
    assert reply.parent_id == parent.id
    page = client.get("/blog/strong-backs").get_data(as_text=True)
    replies = page[page.index('aria-label="Replies to Margaret"') :]
    assert f'id="comment-{reply.id}"' in replies[: replies.index("</ol>")]


def test_reply_to_a_reply_attaches_to_the_top_level_comment(client, post, make_comment):
    top = make_comment(post)
    reply = make_comment(post, parent=top)
    client.post("/blog/strong-backs", data=comment_form(parent_id=str(reply.id)))
    assert stored_comments()[-1].parent_id == top.id


def test_reply_link_prefills_the_form_with_the_thread(client, post, make_comment):
    top = make_comment(post, name="Margaret")
    reply = make_comment(post, parent=top)
    html = client.get(f"/blog/strong-backs?reply_to={reply.id}").get_data(as_text=True)
    assert f'name="parent_id" type="hidden" value="{top.id}"' in html
    assert "You are replying to <strong>Margaret</strong>" in html
    ignored = client.get("/blog/strong-backs?reply_to=abc").get_data(as_text=True)
    assert 'name="parent_id" type="hidden" value=""' in ignored


@pytest.mark.parametrize("parent_id", ["999999", "abc", "-1", "1e3", "9" * 40])
def test_reply_to_a_missing_comment_is_refused_with_a_message(client, post, parent_id):
    response = client.post("/blog/strong-backs", data=comment_form(parent_id=parent_id))
    assert response.status_code == 400
    assert "The comment you replied to" in response.get_data(as_text=True)
    assert stored_comments() == []


def test_reply_to_a_comment_on_another_post_or_a_pending_one_is_refused(
    client, post, make_post, make_comment
):
    other = make_comment(make_post("Other post"))
    pending = make_comment(post, status=CommentStatus.PENDING)
    for parent in (other, pending):
        response = client.post("/blog/strong-backs", data=comment_form(parent_id=str(parent.id)))
        assert response.status_code == 400
    assert len(stored_comments()) == 2


def test_honeypot_filled_stores_nothing_and_sends_no_mail(client, post, staff_user, mailbox):
    response = client.post("/blog/strong-backs", data=comment_form(website="http://spam.example"))
    assert response.status_code == 303
    assert stored_comments() == []
    page = client.get("/blog/strong-backs").get_data(as_text=True)
    assert "awaiting moderation" in page  # the bot learns nothing
    assert mailbox.messages == []


def test_honeypot_is_hidden_from_people_and_screen_readers(client, post):
    html = client.get("/blog/strong-backs").get_data(as_text=True)
    assert '<div class="hp-field" aria-hidden="true">' in html
    field = html[html.index('<div class="hp-field"') :]
    assert 'name="website"' in field[: field.index("</div>")]
    assert 'tabindex="-1"' in field[: field.index("</div>")]


def test_more_than_five_comments_a_minute_from_one_address_get_429(client, post):
    statuses = [
        client.post("/blog/strong-backs", data=comment_form(body=f"Comment {n}")).status_code
        for n in range(6)
    ]
    assert statuses == [303] * 5 + [429]
    assert len(stored_comments()) == 5
    refused = client.post("/blog/strong-backs", data=comment_form())
    assert "Your comment was not sent yet" in refused.get_data(as_text=True)
    # Reading is not limited.
    assert client.get("/blog/strong-backs").status_code == 200


def test_refused_tries_do_not_count_toward_the_comment_limit(client, post):
    """Five slips (a field left empty, a mistyped address) in a minute: her sixth try,
    a good one, is taken."""
    for slip in ({"body": ""}, {"email": "joan@"}, {"name": ""}, {"body": ""}, {"email": ""}):
        assert client.post("/blog/strong-backs", data=comment_form(**slip)).status_code == 400
    response = client.post("/blog/strong-backs", data=comment_form())
    assert response.status_code == 303
    assert len(stored_comments()) == 1


def test_past_the_limit_her_comment_comes_back_in_the_form(client, post):
    for n in range(5):
        client.post("/blog/strong-backs", data=comment_form(body=f"Comment {n}"))
    typed = comment_form(name="Joan O'Neil", body="My sixth thought & a <b>question</b>.")
    refused = client.post("/blog/strong-backs", data=typed)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "Your comment was not sent yet" in html
    assert "Please wait a minute" in html
    assert "kept" in html  # she is told her words are kept
    assert '<h1 id="post-title">Strong backs</h1>' in html
    # What she typed is in the form, ready to send again (escaped).
    assert "My sixth thought &amp; a &lt;b&gt;question&lt;/b&gt;.</textarea>" in html
    assert 'value="Joan O&#39;Neil"' in html
    assert 'value="joan@example.com"' in html
    assert len(stored_comments()) == 5


def test_a_flood_of_refused_tries_is_still_stopped(client, post):
    """Refused tries cost nothing to store, yet a visitor sending them without end is
    stopped too, past a number no person reaches (20 a minute)."""
    codes = [
        client.post("/blog/strong-backs", data=comment_form(body="")).status_code for _ in range(21)
    ]
    assert codes == [400] * 20 + [429]
    assert stored_comments() == []


def test_staff_get_an_email_on_the_smtp_server_when_a_comment_waits(
    client, post, staff_user, mailbox
):
    client.post("/blog/strong-backs", data=comment_form(body="Is this safe with *scoliosis*?"))
    [message] = mailbox.wait_for(1)
    assert message["To"] == STAFF_EMAIL
    assert message["Subject"] == "A comment waits for moderation: Strong backs"
    assert message["Message-ID"]
    text = text_part(message)
    assert "Joan Smith" in text
    assert "Is this safe with *scoliosis*?" in text
    assert "http://localhost/admin/comments" in text
    assert "http://localhost/blog/strong-backs" in text
    assert 'href="http://localhost/admin/comments"' in html_part(message)


def test_no_staff_email_when_the_comment_appears_at_once(
    client, post, staff_user, mailbox, make_comment, known_commenter
):
    make_comment(post, email="joan@example.com")
    known_commenter(client, "joan@example.com")
    client.post("/blog/strong-backs", data=comment_form())
    assert stored_comments()[-1].status == CommentStatus.APPROVED
    assert mailbox.messages == []


def test_comment_without_csrf_token_is_400_and_stores_nothing(client, post):
    response = client.post("/blog/strong-backs", data=comment_form(), csrf=False)
    assert response.status_code == 400
    assert "This form had expired" in response.get_data(as_text=True)
    assert stored_comments() == []


def test_comment_with_a_wrong_csrf_token_is_400_and_stores_nothing(client, post):
    response = client.post("/blog/strong-backs", data=comment_form(csrf_token="forged"))
    assert response.status_code == 400
    assert stored_comments() == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "Please enter your name."),
        ({"name": "   "}, "Please enter your name."),
        ({"name": "N" * 81}, "Please keep your name to 80 characters."),
        ({"email": ""}, "Please enter your email address."),
        ({"email": "not-an-email"}, "Please enter an email address like name@example.com."),
        ({"email": "joan@"}, "Please enter an email address like name@example.com."),
        ({"email": "a" * 250 + "@example.com"}, "Please enter a shorter email address."),
        ({"body": ""}, "Please write your comment."),
        ({"body": "  \n "}, "Please write your comment."),
        ({"body": "x" * 10_000}, "Please shorten your comment to 5,000 characters or fewer."),
        ({"body": "Hello\x00world"}, "unusual invisible characters"),
        ({"body": "Bell\x07"}, "unusual invisible characters"),
        ({"body": "C1\x85control"}, "unusual invisible characters"),
        ({"name": "Joan\nSmith"}, "unusual invisible characters"),
        ({"name": "Joan\x1bSmith"}, "unusual invisible characters"),
        ({"email": "joan\x00@example.com"}, "unusual invisible characters"),
    ],
)
def test_bad_comment_is_refused_with_a_message_and_the_form_kept(client, post, overrides, message):
    data = comment_form(**overrides)
    response = client.post("/blog/strong-backs", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert "Your comment was not sent yet" in html  # the summary at the top of the form
    assert 'aria-invalid="true"' in html
    assert stored_comments() == []
    # What the person typed is still there (escaped), unless it was the bad part.
    if "name" not in overrides:
        assert 'value="Joan Smith"' in html
    if "body" not in overrides:
        assert "this helped me start exercising again" in html


def test_error_page_keeps_the_post_and_links_errors_to_fields(client, post):
    response = client.post("/blog/strong-backs", data=comment_form(name="", email="bad"))
    html = response.get_data(as_text=True)
    assert '<h1 id="post-title">Strong backs</h1>' in html
    assert '<a href="#name">Please enter your name.</a>' in html
    assert 'aria-describedby="email-hint email-error"' in html
    assert "<title>Error: Strong backs" in html


def test_a_5000_character_comment_with_windows_newlines_is_accepted(client, post):
    body = ("a" * 98 + "\r\n") * 50  # 5,000 characters once CRLF becomes LF
    response = client.post("/blog/strong-backs", data=comment_form(body=body))
    assert response.status_code == 303
    [comment] = stored_comments()
    assert "\r" not in comment.body_md
    assert len(comment.body_md) <= 5000


XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<scr<script>ipt>alert(1)</script>",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '<div onmouseover="alert(1)">hover me</div>',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="data:text/html,<script>alert(1)</script>">click</a>',
    "<iframe src=javascript:alert(1)></iframe>",
    '"><script>alert(document.cookie)</script>',
    "<style>body{display:none}</style>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    '[x](https://example.com "onmouseover=alert(1)")',
    "![x](javascript:alert(1))",
    "<https://example.com/<script>>",
    "`<script>alert(1)</script>`",
]
ALLOWED_COMMENT_TAGS = {"a", "blockquote", "br", "code", "em", "li", "ol", "p", "strong", "ul"}


def assert_harmless(html):
    markup = inspect_markup(html)
    assert set(markup.tags) <= ALLOWED_COMMENT_TAGS, markup.tags
    for tag, name, value in markup.attributes:
        assert not name.startswith("on"), (tag, name)
        if name in ("href", "src"):
            assert value.startswith(("http://", "https://", "mailto:")), value
        if tag == "a" and name == "rel":
            assert value == "nofollow ugc noopener"


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payloads_are_stored_and_rendered_harmless(
    client, post, make_comment, known_commenter, payload
):
    make_comment(post, email="joan@example.com")  # trusted, so the comment shows at once
    known_commenter(client, "joan@example.com")
    response = client.post("/blog/strong-backs", data=comment_form(body=payload))
    assert response.status_code == 303
    comment = stored_comments()[-1]
    assert comment.status == CommentStatus.APPROVED
    assert comment.body_md == payload  # what the reader typed, kept for moderators
    assert_harmless(comment.body_html)
    page = client.get("/blog/strong-backs").get_data(as_text=True)
    start = page.index(f'id="comment-{comment.id}"')
    opening = page.index('<div class="comment-body">', start) + len('<div class="comment-body">')
    rendered = page[opening : page.index('<p class="comment-actions">', opening)]
    assert_harmless(rendered.strip().removesuffix("</div>"))


@pytest.mark.parametrize("payload", XSS_PAYLOADS[:6])
def test_markup_in_the_name_is_shown_as_text(client, post, make_comment, known_commenter, payload):
    make_comment(post, email="joan@example.com")
    known_commenter(client, "joan@example.com")  # so the comment, and its name, show
    client.post("/blog/strong-backs", data=comment_form(name=payload[:80]))
    page = client.get("/blog/strong-backs").get_data(as_text=True)
    comments = page[page.index('<ol class="comment-list">') : page.index('id="add-comment"')]
    assert "<script" not in comments and "<img" not in comments and "<svg" not in comments
    assert "onerror=alert" not in comments.replace("&lt;img src=x onerror=alert", "")


def test_links_in_comments_get_nofollow_ugc_noopener(client, post, make_comment, known_commenter):
    make_comment(post, email="joan@example.com")
    known_commenter(client, "joan@example.com")
    client.post("/blog/strong-backs", data=comment_form(body="[my site](https://joan.example)"))
    assert (
        '<a href="https://joan.example" rel="nofollow ugc noopener">my site</a>'
        in stored_comments()[-1].body_html
    )


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"name": ["a", "b"]},
        {"body": "\ufffe\U0010ffff"},
        {"parent_id": "\x00"},
        {"email": "@" * 300},
        {"name": "x", "email": "x@x.x", "body": "x", "website": ""},
    ],
)
def test_odd_form_input_never_causes_a_500(client, post, data):
    response = client.post("/blog/strong-backs", data=data)
    assert response.status_code in (303, 400)


def test_the_same_comment_sent_twice_is_stored_once(client, post, staff_user, mailbox):
    first = client.post("/blog/strong-backs", data=comment_form())
    second = client.post("/blog/strong-backs", data=comment_form())
    assert first.status_code == second.status_code == 303
    assert len(stored_comments()) == 1
    mailbox.wait_for(1)
    assert len(mailbox.messages) == 1


def test_a_different_comment_from_the_same_person_is_stored(client, post):
    client.post("/blog/strong-backs", data=comment_form(body="First thought."))
    client.post("/blog/strong-backs", data=comment_form(body="Second thought."))
    assert [c.body_md for c in stored_comments()] == ["First thought.", "Second thought."]
