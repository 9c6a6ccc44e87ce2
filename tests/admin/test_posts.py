"""Writing posts: create, edit, preview (stores nothing), slugs, tags,
publish and unpublish, and that GET or a missing CSRF token never changes anything."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from blueprints.blog.editing import slugify
from blueprints.blog.models import Post, PostStatus, Reference, Tag
from blueprints.core.types import utcnow
from extensions import db

BODY = "## Why muscles matter\n\nStrong **back muscles** pull on bone.\n\n- walk\n- lift"


def _form(**overrides):
    data = {
        "title": "Spinal bone density and exercise",
        "slug": "",
        "summary": "What a Korean MRI study found.",
        "body": BODY,
        "tags": "Exercise, Osteoporosis",
        "reviewed_on": "",
        "action": "save",
    }
    data.update(overrides)
    return data


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _only_post():
    db.session.expire_all()
    return db.session.scalars(select(Post)).one()


def test_new_post_is_saved_as_a_draft_with_rendered_html(staff_client):
    response = staff_client.post("/admin/posts/new", data=_form())
    post = _only_post()
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/posts/{post.id}/edit")
    assert post.status == PostStatus.DRAFT and post.published_at is None
    assert post.title == "Spinal bone density and exercise"
    assert post.summary == "What a Korean MRI study found."
    assert post.body_md == BODY
    assert "<h2>Why muscles matter</h2>" in post.body_html
    assert "<strong>back muscles</strong>" in post.body_html


def test_slug_is_made_from_the_title_when_left_empty(staff_client):
    staff_client.post("/admin/posts/new", data=_form(title="Bone & Muscle: 5 Tips for Café"))
    assert _only_post().slug == "bone-muscle-5-tips-for-cafe"


def test_body_html_is_sanitised(staff_client):
    staff_client.post(
        "/admin/posts/new",
        data=_form(
            body="<script>alert(1)</script>\n\n[click](javascript:alert(1)) <img src=x onerror=alert(1)>"
        ),
    )
    html = _only_post().body_html
    assert "<script" not in html
    assert 'href="javascript' not in html
    assert "<img" not in html  # raw HTML in the source is shown as text, never as markup


def test_tags_are_created_once_and_reused_by_slug(staff_client):
    db.session.add(Tag(slug="exercise", name="Exercise"))
    db.session.commit()
    staff_client.post(
        "/admin/posts/new", data=_form(tags="exercise, Bone Health, bone health , , Exercise")
    )
    post = _only_post()
    assert sorted(tag.slug for tag in post.tags) == ["bone-health", "exercise"]
    assert _count(Tag) == 2


def test_reviewed_date_is_stored_and_shown_back_in_the_editor(staff_client):
    staff_client.post("/admin/posts/new", data=_form(reviewed_on="2026-03-08"))
    post = _only_post()
    assert post.reviewed_at is not None and post.reviewed_at.tzinfo is not None
    html = staff_client.get(f"/admin/posts/{post.id}/edit").get_data(as_text=True)
    assert 'value="2026-03-08"' in html


def test_editing_changes_the_post_and_rerenders_html(staff_client, make_post):
    post = make_post(title="Old title", body="old body")
    response = staff_client.post(
        f"/admin/posts/{post.id}/edit",
        data=_form(title="New title", slug="new-title", body="*new* body"),
    )
    assert response.status_code == 303
    post = _only_post()
    assert (post.title, post.slug) == ("New title", "new-title")
    assert "<em>new</em>" in post.body_html


def test_edit_form_shows_current_values(staff_client, make_post):
    post = make_post(title="Walking for bones")
    post.tags = [Tag(slug="walking", name="Walking")]
    post.references = [Reference(position=1, title="A study", url="https://a.example/s")]
    db.session.commit()
    html = staff_client.get(f"/admin/posts/{post.id}/edit").get_data(as_text=True)
    assert 'value="Walking for bones"' in html
    assert 'value="Walking"' in html
    assert "A study</textarea>" in html and 'value="https://a.example/s"' in html


def test_preview_renders_markdown_in_the_site_layout_and_stores_nothing(staff_client):
    response = staff_client.post("/admin/posts/new/preview", data=_form(action="preview"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "preview-banner" in html and "Nothing is saved" in html
    assert '<h1 id="post-title">Spinal bone density and exercise</h1>' in html
    assert "<h2>Why muscles matter</h2>" in html
    assert '<footer class="site-footer">' in html  # the public layout, not the admin's
    assert '<meta name="robots" content="noindex, nofollow">' in html
    # No comments in a preview, so no link to a comment form that is not there.
    assert 'id="add-comment"' not in html and 'href="#add-comment"' not in html
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert _count(Post) == 0 and _count(Tag) == 0


def test_preview_of_an_existing_post_leaves_it_unchanged(staff_client, make_post):
    post = make_post(title="Kept title", body="kept body")
    response = staff_client.post(
        f"/admin/posts/{post.id}/preview",
        data=_form(title="Changed", body="changed", action="preview"),
    )
    assert response.status_code == 200
    assert '<h1 id="post-title">Changed</h1>' in response.get_data(as_text=True)
    post = _only_post()
    assert (post.title, post.body_md) == ("Kept title", "kept body")


def _shown_date(html):
    return re.search(r"<dt>Published</dt> <dd>(.*?)</dd>", html).group(1)


def test_preview_of_a_post_not_yet_published_says_so_not_todays_date(staff_client, make_post):
    """A draft's preview said "Published 5 December 2026": it is not published."""
    new = staff_client.post("/admin/posts/new/preview", data=_form(action="preview")).text
    assert _shown_date(new) == "Not published yet"
    draft = make_post(title="A draft")
    html = staff_client.post(f"/admin/posts/{draft.id}/preview", data=_form(action="preview"))
    assert _shown_date(html.text) == "Not published yet"
    # A time chosen to publish it at is what the preview says.
    scheduled = staff_client.post(
        "/admin/posts/new/preview", data=_form(action="preview", publish_at="2031-03-04T09:30")
    ).text
    shown = _shown_date(scheduled)
    assert shown.startswith("Not published yet: to be published ") and "4 March" in shown
    assert "9:30 am" in shown
    # A published post's preview keeps its date.
    live = make_post(title="Live", status=PostStatus.PUBLISHED)
    html = staff_client.post(f"/admin/posts/{live.id}/preview", data=_form(action="preview"))
    assert "<time datetime=" in _shown_date(html.text)


def test_taken_slug_shows_the_form_back_with_what_was_typed(staff_client, make_post):
    make_post(slug="taken-slug")
    response = staff_client.post(
        "/admin/posts/new", data=_form(title="My careful title", slug="taken-slug")
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Another post already uses this web address." in html
    assert 'value="My careful title"' in html
    assert "Strong **back muscles** pull on bone." in html
    assert _count(Post) == 1


def test_title_that_slugifies_to_a_taken_slug_is_refused(staff_client, make_post):
    make_post(slug="vitamin-d")
    response = staff_client.post("/admin/posts/new", data=_form(title="Vitamin D"))
    assert response.status_code == 400
    assert _count(Post) == 1


def test_editing_a_post_to_another_posts_slug_is_refused_and_changes_nothing(
    staff_client, make_post
):
    make_post(slug="taken-slug")
    post = make_post(title="Mine", slug="mine")
    response = staff_client.post(
        f"/admin/posts/{post.id}/edit", data=_form(title="Renamed", slug="taken-slug")
    )
    assert response.status_code == 400
    assert "Another post already uses this web address." in response.get_data(as_text=True)
    db.session.expire_all()
    post = db.session.get(Post, post.id)
    assert (post.title, post.slug) == ("Mine", "mine")


def test_post_keeps_its_own_slug_when_edited(staff_client, make_post):
    post = make_post(slug="keep-me")
    response = staff_client.post(f"/admin/posts/{post.id}/edit", data=_form(slug="keep-me"))
    assert response.status_code == 303


@pytest.mark.parametrize(
    "slug", ["Has Spaces", "under_score", "-leading", "double--hyphen", "ünïcode"]
)
def test_malformed_slug_is_refused_with_a_message(staff_client, slug):
    response = staff_client.post("/admin/posts/new", data=_form(slug=slug))
    assert response.status_code == 400
    assert "Use only lowercase letters, digits and single hyphens" in response.get_data(
        as_text=True
    )
    assert _count(Post) == 0


def test_missing_title_and_body_are_reported_at_the_top_and_by_the_fields(staff_client):
    response = staff_client.post("/admin/posts/new", data=_form(title="", body=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'class="form-errors"' in html
    assert 'href="#title"' in html and 'href="#body"' in html
    assert 'aria-invalid="true"' in html
    assert _count(Post) == 0


def test_huge_title_is_refused_not_a_500(staff_client):
    response = staff_client.post("/admin/posts/new", data=_form(title="x" * 5000))
    assert response.status_code == 400


def test_publish_sets_status_and_date_once(staff_client, make_post):
    post = make_post()
    response = staff_client.post(f"/admin/posts/{post.id}/publish", data={})
    assert response.status_code == 303
    post = _only_post()
    first_date = post.published_at
    assert post.status == PostStatus.PUBLISHED and first_date is not None

    staff_client.post(f"/admin/posts/{post.id}/unpublish", data={})
    post = _only_post()
    assert post.status == PostStatus.DRAFT
    staff_client.post(f"/admin/posts/{post.id}/publish", data={})
    assert _only_post().published_at == first_date


@pytest.mark.parametrize(
    ("status", "action"), [(PostStatus.PUBLISHED, "publish"), (PostStatus.DRAFT, "unpublish")]
)
def test_a_second_publish_or_unpublish_changes_nothing(staff_client, make_post, status, action):
    # Two editors pressed the same button: the second finds the post as they wanted it.
    post = make_post(title="Hip strength", status=status)
    before = (post.status, post.published_at, post.updated_at)
    response = staff_client.post(f"/admin/posts/{post.id}/{action}", data={})
    assert response.status_code == 303
    post = _only_post()
    assert (post.status, post.published_at, post.updated_at) == before


def test_save_and_publish_of_a_post_published_meanwhile_saves_the_edit(staff_client, make_post):
    # The editor opened it as a draft; another editor published it before this save.
    post = make_post(title="Old title", status=PostStatus.PUBLISHED)
    response = staff_client.post(
        f"/admin/posts/{post.id}/edit", data=_form(title="New title", action="publish")
    )
    assert response.status_code == 303
    post = _only_post()
    assert (post.title, post.status) == ("New title", PostStatus.PUBLISHED)


def test_save_and_publish_from_the_editor(staff_client):
    response = staff_client.post("/admin/posts/new", data=_form(action="publish"))
    assert response.status_code == 303
    post = _only_post()
    assert post.status == PostStatus.PUBLISHED and post.published_at is not None


def test_save_and_publish_with_errors_publishes_nothing(staff_client, make_post):
    post = make_post(title="Still a draft")
    response = staff_client.post(
        f"/admin/posts/{post.id}/edit", data=_form(title="", action="publish")
    )
    assert response.status_code == 400
    post = _only_post()
    assert post.status == PostStatus.DRAFT and post.title == "Still a draft"


def test_publish_returns_to_the_list_when_asked(staff_client, make_post):
    post = make_post()
    response = staff_client.post(
        f"/admin/posts/{post.id}/publish?next=/admin/posts?status=draft", data={}
    )
    assert response.headers["Location"].endswith("/admin/posts?status=draft")


def test_publish_of_unknown_post_is_404(staff_client):
    assert staff_client.post("/admin/posts/999/publish", data={}).status_code == 404


@pytest.mark.parametrize("action", ["publish", "unpublish"])
def test_publish_and_unpublish_refuse_get(staff_client, make_post, action):
    post = make_post(status=PostStatus.PUBLISHED if action == "unpublish" else PostStatus.DRAFT)
    before = post.status
    response = staff_client.get(f"/admin/posts/{post.id}/{action}")
    assert response.status_code == 405
    assert _only_post().status == before


@pytest.mark.parametrize("action", ["publish", "unpublish"])
def test_publish_and_unpublish_without_csrf_change_nothing(staff_client, make_post, action):
    post = make_post(status=PostStatus.PUBLISHED if action == "unpublish" else PostStatus.DRAFT)
    before = post.status
    response = staff_client.post(f"/admin/posts/{post.id}/{action}", data={}, csrf=False)
    assert response.status_code == 400
    assert _only_post().status == before


def test_saving_without_csrf_stores_nothing(staff_client):
    response = staff_client.post("/admin/posts/new", data=_form(), csrf=False)
    assert response.status_code == 400
    assert _count(Post) == 0


def test_posts_list_shows_drafts_and_published_with_status(staff_client, make_post):
    make_post(title="A draft about calcium")
    make_post(title="A published walk guide", status=PostStatus.PUBLISHED)
    html = staff_client.get("/admin/posts").get_data(as_text=True)
    assert "A draft about calcium" in html and "A published walk guide" in html
    assert "<caption>" in html and 'scope="col"' in html
    drafts = staff_client.get("/admin/posts?status=draft").get_data(as_text=True)
    assert "A draft about calcium" in drafts and "A published walk guide" not in drafts


def test_posts_list_ignores_an_unknown_status_filter(staff_client, make_post):
    make_post(title="Still listed")
    response = staff_client.get("/admin/posts?status=<script>")
    assert response.status_code == 200
    assert "Still listed" in response.get_data(as_text=True)


def test_edit_of_unknown_post_is_404(staff_client):
    assert staff_client.get("/admin/posts/12345/edit").status_code == 404


def test_admin_get_pages_change_nothing(staff_client, make_post, make_comment):
    post = make_post()
    comment = make_comment(post)
    before = (post.status, post.updated_at, comment.status)
    for path in [
        "/admin/",
        "/admin/posts",
        "/admin/posts/new",
        f"/admin/posts/{post.id}/edit",
        "/admin/comments",
        "/admin/comments?status=all",
    ]:
        assert staff_client.get(path).status_code == 200
    db.session.expire_all()
    assert (post.status, post.updated_at, comment.status) == before
    assert _count(Post) == 1


def test_dashboard_counts_pending_comments_drafts_scheduled_and_published(
    staff_client, make_post, make_comment
):
    draft = make_post()
    make_post()
    later = make_post()
    db.session.execute(
        update(Post)
        .where(Post.id == later.id)
        .values(status=PostStatus.SCHEDULED, publish_at=utcnow() + timedelta(days=2))
    )
    db.session.commit()
    live = make_post(status=PostStatus.PUBLISHED)
    make_comment(live)
    make_comment(live)
    make_comment(draft, status="approved")
    html = staff_client.get("/admin/").get_data(as_text=True)
    assert '<strong class="figure">2</strong> Comments waiting for moderation' in html
    assert '<strong class="figure">2</strong> Draft posts' in html
    assert '<strong class="figure">1</strong> Scheduled post</a>' in html
    assert 'href="/admin/posts?status=scheduled"' in html
    assert '<strong class="figure">1</strong> Published post</a>' in html


def test_admin_pages_are_never_cached_or_indexed(staff_client):
    response = staff_client.get("/admin/comments")
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_dashboard_panels_are_extensible(app, staff_client):
    from flask import url_for

    from blueprints.admin import dashboard

    @dashboard.dashboard_panel(order=50)
    def extra_panel():
        return dashboard.Panel(
            "Test area", [dashboard.PanelLink("Things to do", 7, url_for("admin.posts"))]
        )

    try:
        html = staff_client.get("/admin/").get_data(as_text=True)
        assert "Test area" in html and '<strong class="figure">7</strong> Things to do' in html
        assert html.index("Blog") < html.index("Test area")
    finally:
        dashboard._PANELS[:] = [p for p in dashboard._PANELS if p[2] is not extra_panel]


# --- the helpers behind the form ------------------------------------------------------------


def test_slugify_handles_accents_symbols_and_length():
    assert slugify("  Vitamin K2 & D3: Why?  ") == "vitamin-k2-d3-why"
    assert slugify("Ostéoporose") == "osteoporose"
    assert slugify("!!!") == ""
    assert len(slugify("word " * 100)) <= 200


def test_empty_review_date_stays_empty(staff_client):
    staff_client.post("/admin/posts/new", data=_form(reviewed_on=""))
    assert _only_post().reviewed_at is None


@pytest.mark.parametrize("day", [date(2026, 3, 8), date(2026, 11, 1), date(2026, 12, 31)])
def test_review_date_maps_to_the_same_day(app, day):
    from blueprints.blog.editing import reviewed_at_from_date, reviewed_date

    class Holder:
        reviewed_at = reviewed_at_from_date(day)

    assert reviewed_date(Holder) == day
