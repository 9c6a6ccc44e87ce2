"""The post editor in Chromium, on a wide screen and a phone (issue #20.3, "done when"):
schedule a post, run ``flask blog publish-due`` and see it appear; type a draft, let
the session expire, sign in again and find the text. axe-core finds nothing on the
editor, the preview and the revisions pages."""

import time
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from blueprints.admin import post_views
from blueprints.blog.models import Post, PostStatus
from blueprints.core.security import IDLE_TIMEOUT_SECONDS
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import utcnow
from extensions import db
from tests.browser.conftest import assert_accessible
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD

WIDTHS = {"wide": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def _sign_in(page):
    page.get_by_role("main").get_by_label("Email address").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _fits_the_screen(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("screen", WIDTHS, ids=list(WIDTHS))
def test_schedule_a_post_and_see_it_appear_after_publish_due(page, app, staff_account, screen):
    page.set_viewport_size(WIDTHS[screen])
    page.goto("/admin/login")
    _sign_in(page)
    page.wait_for_url("**/admin/")

    page.goto("/admin/posts/new")
    page.get_by_label("Title").fill("Tai chi and balance")
    page.get_by_label("Body (Markdown)").fill("## Why balance\n\nFewer falls, fewer fractures.")
    later = (utcnow() + timedelta(hours=3)).astimezone(practitioner_zone())
    page.get_by_label("Publish on (date and time)").fill(later.strftime("%Y-%m-%dT%H:%M"))
    assert _fits_the_screen(page)
    assert_accessible(page)

    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="Preview").click()
    preview = popup_info.value
    preview.wait_for_load_state()
    assert preview.get_by_role("heading", level=1).inner_text() == "Tai chi and balance"
    assert "Nothing is saved" in preview.get_by_role("status").first.inner_text()
    assert preview.locator(".post-body h2", has_text="Why balance").count() == 1
    assert_accessible(preview)
    preview.close()
    assert db.session.scalar(select(Post)) is None  # the preview saved nothing

    page.get_by_role("button", name="Schedule").click()
    page.wait_for_url("**/admin/posts/*/edit")
    assert "Readers will see it from" in page.locator(".post-state").inner_text()
    assert page.goto("/blog/tai-chi-and-balance").status == 404
    page.goto("/blog/")
    assert page.get_by_text("Tai chi and balance").count() == 0

    # Three hours pass; cron runs the command.
    db.session.execute(update(Post).values(publish_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["blog", "publish-due"])
    assert "Published 1 scheduled post(s)." in result.output
    db.session.close()

    page.goto("/blog/")
    page.get_by_role("link", name="Tai chi and balance").first.click()
    page.wait_for_url("**/blog/tai-chi-and-balance")
    assert page.get_by_role("heading", level=1).inner_text() == "Tai chi and balance"

    post_id = db.session.scalar(select(Post.id))
    page.goto(f"/admin/posts/{post_id}/revisions")
    assert_accessible(page)
    page.get_by_role("link", name="See what changed").first.click()
    expect(page.get_by_text("Fewer falls, fewer fractures.")).to_be_visible()
    assert _fits_the_screen(page)
    assert_accessible(page)


def _expire_the_session(page, app):
    """Her session's last activity moves past the idle timeout, as if she had stopped
    for half an hour (the cookie is signed: re-signed here with the app's key)."""
    serializer = app.session_interface.get_signing_serializer(app)
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = next(c for c in page.context.cookies() if c["name"] == name)
    data = serializer.loads(cookie["value"])
    data["_seen_at"] = data["_seen_at"] - IDLE_TIMEOUT_SECONDS - 5
    page.context.add_cookies([{**cookie, "value": serializer.dumps(data)}])


@pytest.mark.parametrize("screen", WIDTHS, ids=list(WIDTHS))
def test_a_draft_typed_across_the_idle_timeout_is_found_after_signing_in_again(
    page, app, staff_account, screen, monkeypatch
):
    monkeypatch.setattr(post_views, "AUTOSAVE_SECONDS", 1)  # not 30: tests are quick
    page.set_viewport_size(WIDTHS[screen])
    page.goto("/admin/login")
    _sign_in(page)
    page.wait_for_url("**/admin/")

    page.goto("/admin/posts/new")
    body = page.get_by_label("Body (Markdown)")
    # The autosave that carries the body, not one that fired between the two fills with
    # the title alone: else the body is still unsent when the session ends, and the next
    # tick sends it signed out before the sentence below is filled.
    with page.expect_response(
        lambda r: "/autosave" in r.url and "part of the story" in (r.request.post_data or "")
    ) as saved:
        page.get_by_label("Title").fill("Bone broth, honestly")
        body.fill("Collagen is only part of the story.")
    assert saved.value.status == 200
    page.get_by_text("Draft autosaved at").wait_for()

    _expire_the_session(page, app)
    # One input event (not key by key): the next autosave carries the whole sentence,
    # whatever the machine's speed, and the site keeps it while answering 401.
    body.fill("Collagen is only part of the story. Minerals matter more.")
    alert = page.locator("#autosave-signed-out")
    alert.wait_for()
    assert "Your text is kept" in alert.inner_text()
    assert _fits_the_screen(page)
    assert_accessible(page)
    # She goes on typing before she reads the alert: the site never sees these words,
    # this browser keeps them.
    body.press("End")
    body.type(" Bone broth is fine.")

    alert.get_by_role("link", name="Sign in again").click()
    page.wait_for_url("**/admin/login**")
    _sign_in(page)
    page.wait_for_url("**/admin/posts/new?restore=1")
    assert "We restored your unsaved text" in page.get_by_role("status").first.inner_text()
    assert page.get_by_label("Title").input_value() == "Bone broth, honestly"
    assert body.input_value() == "Collagen is only part of the story. Minerals matter more."
    assert_accessible(page)
    # The words typed after the alert are offered from this browser's copy.
    page.get_by_role("button", name="Restore your unsaved text from").click()
    assert body.input_value() == (
        "Collagen is only part of the story. Minerals matter more. Bone broth is fine."
    )

    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url("**/admin/posts/*/edit")
    db.session.expire_all()
    post = db.session.scalar(select(Post))
    assert post.status == PostStatus.DRAFT and post.body_md.endswith("Bone broth is fine.")


def test_a_slow_autosave_is_never_overtaken_by_the_next(page, app, staff_account, monkeypatch):
    """The autosave sends one request at a time: while the site is slow to answer, the
    next tick waits, so an older answer never lands after a newer one."""
    monkeypatch.setattr(post_views, "AUTOSAVE_SECONDS", 1)
    real_store = post_views.store_autosave

    def slow_store(*args, **kwargs):
        time.sleep(2.5)  # a busy site: longer than two ticks of the autosave
        return real_store(*args, **kwargs)

    monkeypatch.setattr(post_views, "store_autosave", slow_store)
    in_flight, most = [0], [0]

    def sent(request):
        if request.url.endswith("/autosave"):
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])

    def done(request):
        if request.url.endswith("/autosave"):
            in_flight[0] -= 1

    page.on("request", sent)
    page.on("requestfinished", done)
    page.on("requestfailed", done)
    page.goto("/admin/login")
    _sign_in(page)
    page.wait_for_url("**/admin/")
    page.goto("/admin/posts/new")
    page.get_by_label("Title").fill("Walking in winter")
    expect(page.get_by_text("Draft autosaved at")).to_be_visible(timeout=10_000)
    assert most[0] == 1
