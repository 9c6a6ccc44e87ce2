"""The post editor (issue #20.3): scheduling in Dr. Brown's zone and ``flask blog
publish-due`` (a scheduled post is shown nowhere before its time, and published once),
the autosave that outlives the idle timeout, preview without saving, and revisions."""

import contextlib
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select, update

from blueprints.blog import revisions as revisions_module
from blueprints.blog import scheduling
from blueprints.blog.models import Post, PostAutosave, PostRevision, PostStatus
from blueprints.blog.related import related_posts
from blueprints.core.security import IDLE_TIMEOUT_SECONDS
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import utcnow
from blueprints.newsletter.issues import posts_between
from extensions import db

BODY = "Walking **every day** builds bone.\n\nA second paragraph."


def _form(**overrides):
    data = {
        "title": "Walking for stronger hips",
        "slug": "",
        "summary": "Why a daily walk matters.",
        "body": BODY,
        "tags": "Walking",
        "references": "",
        "reviewed_on": "",
        "publish_at": "",
        "action": "save",
    }
    data.update(overrides)
    return data


def _local(moment):
    """The editor's text for ``moment`` in Dr. Brown's zone."""
    return moment.astimezone(practitioner_zone()).strftime("%Y-%m-%dT%H:%M")


def _count(model):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _only_post():
    db.session.expire_all()
    return db.session.scalars(select(Post)).one()


def _expire_session(client):
    """Her session went idle for longer than the staff idle timeout."""
    with client.session_transaction() as session:
        session["_seen_at"] = int(time.time()) - IDLE_TIMEOUT_SECONDS - 5


def _reader_sees(app, path, text):
    response = app.test_client().get(path)
    return response.status_code == 200 and text in response.get_data(as_text=True)


# --- scheduling --------------------------------------------------------------------------------


def test_a_scheduled_post_is_shown_nowhere_until_publish_due_publishes_it_once(
    app, staff_client, runner
):
    when = (utcnow() + timedelta(hours=2)).replace(second=0, microsecond=0)
    response = staff_client.post(
        "/admin/posts/new", data=_form(action="schedule", publish_at=_local(when))
    )
    assert response.status_code == 303
    post = _only_post()
    assert post.status == PostStatus.SCHEDULED and post.published_at is None
    assert post.publish_at == when  # read in Dr. Brown's zone, stored in UTC
    # The readers' pages (warmed before, so a cached copy would show it too).
    title, slug = post.title, post.slug
    for path in ("/", "/blog/", "/blog/feed.xml", "/sitemap.xml", "/blog/search?q=walking"):
        assert not _reader_sees(app, path, title) and not _reader_sees(app, path, slug)
    assert app.test_client().get(f"/blog/{slug}").status_code == 404
    assert app.test_client().get("/blog/tag/walking").status_code in (200, 404)
    assert not _reader_sees(app, "/blog/tag/walking", title)
    assert related_posts([t.id for t in post.tags]) == []
    assert post.id not in [
        p.id for p in posts_between(utcnow() - timedelta(days=7), utcnow() + timedelta(days=1))
    ]

    result = runner.invoke(args=["blog", "publish-due"])
    assert result.exit_code == 0 and "Published 0 scheduled post(s)." in result.output
    assert app.test_client().get(f"/blog/{slug}").status_code == 404

    # Its time comes.
    db.session.execute(update(Post).values(publish_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    result = runner.invoke(args=["blog", "publish-due"])
    assert "Published 1 scheduled post(s)." in result.output
    again = runner.invoke(args=["blog", "publish-due"])
    assert "Published 0 scheduled post(s)." in again.output
    post = _only_post()
    assert post.status == PostStatus.PUBLISHED and post.published_at == post.publish_at
    for path in ("/", "/blog/", "/blog/feed.xml", "/sitemap.xml", "/blog/search?q=walking"):
        assert _reader_sees(app, path, slug), path
    assert _reader_sees(app, f"/blog/{slug}", title)


def _scheduled_a_minute_ago(make_post, title):
    post = make_post(title=title)
    db.session.execute(
        update(Post)
        .where(Post.id == post.id)
        .values(status=PostStatus.SCHEDULED, publish_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    return post


def test_two_publish_due_runs_at_once_publish_a_post_once(app, make_post, monkeypatch):
    post = _scheduled_a_minute_ago(make_post, "Due now")
    # The second run read the post as due before the first run's UPDATE.
    seen_by_second = scheduling.due_posts()
    assert [p.id for p in scheduling.publish_due_posts()] == [post.id]
    db.session.commit()
    monkeypatch.setattr(scheduling, "due_posts", lambda now=None: seen_by_second)
    assert scheduling.publish_due_posts() == []


def test_a_rescheduled_post_is_not_published_at_its_old_time(app, make_post, monkeypatch):
    _scheduled_a_minute_ago(make_post, "Moved later")
    seen = scheduling.due_posts()
    # Staff moved it to tomorrow after the run read it.
    db.session.execute(update(Post).values(publish_at=utcnow() + timedelta(days=1)))
    db.session.commit()
    monkeypatch.setattr(scheduling, "due_posts", lambda now=None: seen)
    assert scheduling.publish_due_posts() == []
    assert _only_post().status == PostStatus.SCHEDULED


def test_a_time_in_the_past_is_refused_with_the_form_kept(staff_client):
    past = utcnow() - timedelta(hours=1)
    response = staff_client.post(
        "/admin/posts/new",
        data=_form(action="schedule", publish_at=_local(past), title="My careful title"),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "That time has passed" in html
    assert 'value="My careful title"' in html and "Walking <strong>" not in html
    assert f'value="{_local(past)}"' in html
    assert _count(Post) == 0


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Choose the date and time to publish the post."),
        ("2027-03-14T02:30", "does not exist"),  # the clocks go forward in New York
        ("not a date", "Not a valid datetime value"),  # the field refuses it
    ],
)
def test_a_missing_or_impossible_time_is_refused(staff_client, typed, message):
    response = staff_client.post(
        "/admin/posts/new", data=_form(action="schedule", publish_at=typed)
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(Post) == 0


def test_a_scheduled_post_can_be_published_now_or_sent_back_to_draft(staff_client, make_post):
    post = make_post(status=PostStatus.DRAFT)
    later = utcnow() + timedelta(days=1)
    staff_client.post(
        f"/admin/posts/{post.id}/edit", data=_form(action="schedule", publish_at=_local(later))
    )
    page = staff_client.get(f"/admin/posts/{post.id}/edit").get_data(as_text=True)
    assert "Readers will see it from" in page
    staff_client.post(f"/admin/posts/{post.id}/unpublish", data={})
    assert _only_post().status == PostStatus.DRAFT
    staff_client.post(
        f"/admin/posts/{post.id}/edit", data=_form(action="schedule", publish_at=_local(later))
    )
    staff_client.post(f"/admin/posts/{post.id}/publish", data={})
    post = _only_post()
    assert post.status == PostStatus.PUBLISHED and post.published_at <= utcnow()


def test_a_local_time_is_read_in_dr_browns_zone(app):
    moment = scheduling.publish_time_from_local(datetime(2027, 7, 1, 9, 0))
    assert moment.isoformat() == "2027-07-01T13:00:00+00:00"  # 9 am in New York (EDT)


# --- autosave ---------------------------------------------------------------------------------


def test_autosave_keeps_the_fields_without_saving_the_post_or_a_revision(staff_client, make_post):
    post = make_post(title="Saved title", status=PostStatus.DRAFT)
    response = staff_client.post(
        f"/admin/posts/{post.id}/autosave", data=_form(title="Typed title", body="Typed body")
    )
    assert response.status_code == 200 and response.json["saved_at_text"]
    assert _only_post().title == "Saved title"
    assert _count(PostRevision) == 0
    row = db.session.scalars(select(PostAutosave)).one()
    assert row.fields["title"] == "Typed title" and "csrf_token" not in row.fields

    page = staff_client.get(f"/admin/posts/{post.id}/edit").get_data(as_text=True)
    assert "Restore your unsaved text from" in page
    assert 'value="Saved title"' in page  # offered, not loaded, until she asks
    restored = staff_client.get(f"/admin/posts/{post.id}/edit?restore=1").get_data(as_text=True)
    assert 'value="Typed title"' in restored and "We restored your unsaved text" in restored

    staff_client.post(f"/admin/posts/{post.id}/edit", data=_form(title="Typed title"))
    assert _count(PostAutosave) == 0  # saved: nothing left to restore


def test_autosave_of_a_new_post_is_offered_on_the_new_post_page(staff_client):
    staff_client.post("/admin/posts/new/autosave", data=_form(title="Half a thought"))
    page = staff_client.get("/admin/posts/new?restore=1").get_data(as_text=True)
    assert 'value="Half a thought"' in page
    staff_client.post("/admin/posts/new/autosave/discard", data={})
    assert _count(PostAutosave) == 0
    assert "Half a thought" not in staff_client.get("/admin/posts/new").get_data(as_text=True)


def test_autosave_after_the_idle_timeout_answers_401_and_keeps_the_text(
    staff_client, auth, staff_user
):
    staff_client.get("/admin/posts/new")
    _expire_session(staff_client)
    response = staff_client.post(
        "/admin/posts/new/autosave", data=_form(title="Typed for forty minutes")
    )
    assert response.status_code == 401
    assert response.json["signed_out"] is True and response.json["kept"] is True
    assert unquote(response.json["sign_in"]).endswith("next=/admin/posts/new?restore=1")
    row = db.session.scalars(select(PostAutosave)).one()
    assert row.user_id == staff_user.id and row.fields["title"] == "Typed for forty minutes"

    signed_in = auth.login(next_url="/admin/posts/new?restore=1")
    assert signed_in.headers["Location"].endswith("/admin/posts/new?restore=1")
    page = staff_client.get("/admin/posts/new?restore=1").get_data(as_text=True)
    assert 'value="Typed for forty minutes"' in page


def test_a_plain_save_after_the_idle_timeout_keeps_the_text_for_after_sign_in(
    staff_client, auth, make_post
):
    post = make_post(title="Saved title", status=PostStatus.DRAFT)
    _expire_session(staff_client)
    response = staff_client.post(
        f"/admin/posts/{post.id}/edit", data=_form(title="Typed without JavaScript")
    )
    assert response.status_code == 303
    location = unquote(response.headers["Location"])
    assert location.endswith(f"/admin/login?next=/admin/posts/{post.id}/edit?restore=1")
    assert _only_post().title == "Saved title"  # nothing saved while signed out

    auth.login(next_url=f"/admin/posts/{post.id}/edit?restore=1")
    page = staff_client.get(f"/admin/posts/{post.id}/edit?restore=1").get_data(as_text=True)
    assert 'value="Typed without JavaScript"' in page


def test_autosave_from_someone_never_signed_in_keeps_nothing(client, app):
    response = client.post("/admin/posts/new/autosave", data=_form())
    assert response.status_code == 401 and response.json["kept"] is False
    assert _count(PostAutosave) == 0


def test_autosave_needs_the_csrf_token(staff_client):
    response = staff_client.post("/admin/posts/new/autosave", data=_form(), csrf=False)
    assert response.status_code == 400
    assert _count(PostAutosave) == 0


# --- revisions ----------------------------------------------------------------------------------


def test_each_save_keeps_a_revision_and_restoring_one_adds_another(staff_client):
    staff_client.post("/admin/posts/new", data=_form(title="First title", body="First body"))
    post = _only_post()
    staff_client.post(f"/admin/posts/{post.id}/edit", data=_form(title="Second", body="Second"))
    revisions = db.session.scalars(select(PostRevision).order_by(PostRevision.id)).all()
    assert [(r.title, r.author_name) for r in revisions] == [
        ("First title", "Susan Brown"),
        ("Second", "Susan Brown"),
    ]

    listing = staff_client.get(f"/admin/posts/{post.id}/revisions")
    assert listing.status_code == 200 and "Restore this version" in listing.text
    compare = staff_client.get(f"/admin/posts/{post.id}/revisions/{revisions[1].id}")
    assert "Removed: </span>" in compare.text and "First body" in compare.text
    assert (
        staff_client.get(f"/admin/posts/{post.id}/revisions/{revisions[0].id}/restore").status_code
        == 405
    )

    response = staff_client.post(
        f"/admin/posts/{post.id}/revisions/{revisions[0].id}/restore", data={}
    )
    assert response.status_code == 303
    post = _only_post()
    assert (post.title, post.body_md) == ("First title", "First body")
    assert "First body" in post.body_html
    latest = db.session.scalars(select(PostRevision).order_by(PostRevision.id.desc())).first()
    assert latest.title == "First title" and latest.note.startswith("Restored the version of")
    assert _count(PostRevision) == 3


def test_restore_needs_the_csrf_token_and_the_revision_of_that_post(staff_client, make_post):
    staff_client.post("/admin/posts/new", data=_form(title="Mine"))
    mine = _only_post()
    other = make_post(title="Other")
    revision = db.session.scalars(select(PostRevision)).one()
    assert (
        staff_client.post(
            f"/admin/posts/{other.id}/revisions/{revision.id}/restore", data={}
        ).status_code
        == 404
    )
    assert (
        staff_client.post(
            f"/admin/posts/{mine.id}/revisions/{revision.id}/restore", data={}, csrf=False
        ).status_code
        == 400
    )
    assert _count(PostRevision) == 1


def test_revisions_are_kept_up_to_a_bound(staff_client, monkeypatch):
    monkeypatch.setattr(revisions_module, "MAX_REVISIONS", 3)
    staff_client.post("/admin/posts/new", data=_form(title="Version 1"))
    post = _only_post()
    for n in range(2, 6):
        staff_client.post(f"/admin/posts/{post.id}/edit", data=_form(title=f"Version {n}"))
    titles = db.session.scalars(select(PostRevision.title).order_by(PostRevision.id)).all()
    assert titles == ["Version 3", "Version 4", "Version 5"]


def test_revisions_pages_are_for_staff_only(client, make_post):
    post = make_post()
    response = client.get(f"/admin/posts/{post.id}/revisions")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_saving_a_scheduled_post_with_a_new_time_moves_it(staff_client, make_post):
    post = make_post(status=PostStatus.DRAFT)
    first = (utcnow() + timedelta(days=1)).replace(second=0, microsecond=0)
    staff_client.post(
        f"/admin/posts/{post.id}/edit", data=_form(action="schedule", publish_at=_local(first))
    )
    staff_client.post(f"/admin/posts/{post.id}/edit", data=_form(publish_at=_local(first)))
    assert _only_post().publish_at == first  # the same time: only the text was saved
    second = first + timedelta(days=2)
    staff_client.post(f"/admin/posts/{post.id}/edit", data=_form(publish_at=_local(second)))
    post = _only_post()
    assert post.status == PostStatus.SCHEDULED and post.publish_at == second


def test_the_comparison_marks_added_and_removed_lines(app):
    lines = revisions_module.diff_lines("one\ntwo\nthree", "one\n2\nthree\nfour")
    assert [(line.kind, line.text) for line in lines] == [
        ("same", "one"),
        ("removed", "two"),
        ("added", "2"),
        ("same", "three"),
        ("added", "four"),
    ]


@pytest.mark.postgres_only
def test_two_publish_due_commands_running_together_publish_a_post_once(app, make_post):
    """Two cron machines at the same instant: both read the post as due, then both try
    to publish it; the guarded UPDATE lets one through (the other waits for its row lock,
    then finds it published)."""
    post_id = _scheduled_a_minute_ago(make_post, "Due on two machines").id
    db.session.close()
    both_read = threading.Barrier(2, timeout=10)
    waited = threading.local()
    results, errors = [], []

    def meet_before_update(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE POST") and not getattr(
            waited, "done", False
        ):
            waited.done = True
            with contextlib.suppress(threading.BrokenBarrierError):
                both_read.wait()

    def run():
        with app.app_context():
            try:
                results.append([p.id for p in scheduling.publish_due_posts()])
                db.session.commit()
            except Exception as error:  # reported below, never hidden
                errors.append(repr(error))
            finally:
                db.session.remove()

    sa.event.listen(db.engine, "before_cursor_execute", meet_before_update)
    try:
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", meet_before_update)
    assert errors == [] and not both_read.broken  # both had read it as due
    assert sorted(results) == [[], [post_id]]
    assert _only_post().status == PostStatus.PUBLISHED


def test_scheduling_a_published_post_leaves_it_published_and_says_so(staff_client, make_post):
    post = make_post(status=PostStatus.PUBLISHED)
    later = utcnow() + timedelta(days=1)
    response = staff_client.post(
        f"/admin/posts/{post.id}/edit",
        data=_form(action="schedule", publish_at=_local(later)),
        follow_redirects=True,
    )
    assert "It is already published, so it was not scheduled." in response.text
    assert _only_post().status == PostStatus.PUBLISHED
