"""The post editor's helpers and pages (issue #20.3): scheduling from the editor, the
autosave that outlives a session, preview in the site's own layout, and revisions.

Her text is never lost at the idle timeout:

- ``static/js/post-autosave.js`` posts the editor's fields every 30 seconds when they
  changed (typing is activity, so it keeps her signed in; an editor left open and
  untouched does not) and keeps them in the browser's localStorage as she types.
- When her session has ended, the first request after it (an autosave, or the editor's
  own form sent without JavaScript) still carries the session's CSRF token and is checked
  against it before the session is cleared (``core/security.py`` then notes whose session
  it was). Its fields are kept as her autosave, the autosave answers 401 (the page then
  says she is signed out and her text is kept) and the form goes to the sign-in page;
  after signing in she is sent back to the editor, which loads her text, says so, and
  offers to discard it.
"""

from contextlib import suppress
from functools import wraps
from types import SimpleNamespace

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.account.models import User
from blueprints.admin.blueprint import bp
from blueprints.admin.forms import CSRFOnlyForm, PostForm
from blueprints.blog import revisions as post_revisions
from blueprints.blog.autosave import autosave_of, discard_autosave, editor_fields, store_autosave
from blueprints.blog.editing import (
    parse_tag_names,
    reviewed_at_from_date,
    slugify,
)
from blueprints.blog.links import post_url
from blueprints.blog.models import DEFAULT_AUTHOR, Post, PostStatus
from blueprints.blog.posts import RECENT_POSTS, TagLink, latest_posts
from blueprints.blog.references import citation, render_body
from blueprints.blog.scheduling import (
    ScheduleError,
    check_publish_time,
    publish_time_from_local,
)
from blueprints.core.security import staff_required
from blueprints.core.timezones import format_time, format_when, practitioner_zone, zone_name
from blueprints.core.types import utcnow
from blueprints.media.library import picture
from blueprints.pages.content import author_profile
from extensions import db

AUTOSAVE_SECONDS = 30
RESTORE_ARG = "restore"


def _post_or_none(post_id):
    return db.get_or_404(Post, post_id) if post_id is not None else None


def editor_url(post, restore=False):
    """The editor of ``post`` (None: a new post); ``restore`` loads her autosaved text."""
    args = {RESTORE_ARG: 1} if restore else {}
    if post is None:
        return url_for("admin.post_new", **args)
    return url_for("admin.post_edit", post_id=post.id, **args)


def _field_names():
    return {f.name for f in PostForm(formdata=None, meta={"csrf": False})}


def _signed_out_staff_id():
    """The staff account whose session ended at the start of this request (idle or too
    old), whose form was checked against that session's CSRF token; else None."""
    user_id = g.get("idle_signed_out_user_id")
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    return user.id if user is not None and user.active and user.is_staff else None


def _keep_for_signed_out(post):
    """Keep this request's editor fields as the autosave of the staff member whose
    session just ended. True if kept."""
    user_id = _signed_out_staff_id()
    if user_id is None:
        return False
    store_autosave(user_id, post, editor_fields(request.form, _field_names()))
    db.session.commit()
    return True


def editor_staff(view):
    """``staff_required`` for the editor, except that a form sent just after her session
    ended is kept (her autosave) before she is asked to sign in, and she comes back to
    it afterwards."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if request.method == "POST" and not current_user.is_authenticated:
            post = _post_or_none(kwargs.get("post_id"))
            if _keep_for_signed_out(post):
                flash("Your text is kept. Sign in again and you will find it in the editor.")
                return redirect(url_for("admin.login", next=editor_url(post, True)), 303)
        return staff_required(view)(*args, **kwargs)

    return wrapped


# --- the editor's page ---------------------------------------------------------------------


def editor_state(post):
    """What the editor shows about unsaved text: ``(form_data, offer, restored)``.
    ``form_data`` is her autosaved fields when the address asks to restore them (the
    form is then filled from them), ``offer`` an autosave newer than the saved post that
    she may restore, ``restored`` the autosave loaded."""
    autosave = autosave_of(current_user.id, post)
    if autosave is None or (post is not None and autosave.saved_at <= post.updated_at):
        return None, None, None
    if request.args.get(RESTORE_ARG):
        return autosave.fields, None, autosave
    return None, autosave, None


def editor_context(form, post, restored=None, offer=None):
    """The template values the editor's additions need."""
    zone = practitioner_zone()
    saved_at = restored.saved_at if restored else (post.updated_at if post else None)
    return {
        "zone_label": zone_name(zone),
        "autosave_offer": offer,
        "autosave_restored": restored,
        "autosave_url": (
            url_for("admin.post_autosave", post_id=post.id)
            if post
            else url_for("admin.post_autosave_new")
        ),
        "autosave_slot": f"post-{post.id}" if post else "new",
        "autosave_seconds": AUTOSAVE_SECONDS,
        "saved_at": saved_at.isoformat() if saved_at else "",
        "sign_in_url": url_for("admin.login", next=editor_url(post, True)),
        "restore_url": editor_url(post, True),
        "preview_url": (
            url_for("admin.post_preview", post_id=post.id)
            if post
            else url_for("admin.post_preview_new")
        ),
    }


def schedule_time(form):
    """The aware UTC time the editor's "Schedule" asks for; raises ``ScheduleError``
    (the message goes under the field) when it is missing, has passed, or does not exist
    in Dr. Brown's zone. Checked before anything is saved."""
    if form.publish_at.data is None:  # (what is no date at all the field refused)
        raise ScheduleError("Choose the date and time to publish the post.")
    publish_at = publish_time_from_local(form.publish_at.data)
    check_publish_time(publish_at)
    return publish_at


# --- autosave ----------------------------------------------------------------------------------


@bp.post("/posts/new/autosave", endpoint="post_autosave_new")
@bp.post("/posts/<int:post_id>/autosave")
def post_autosave(post_id=None):
    """Keep the editor's fields (JSON answer). Signed out: 401, after keeping the fields
    of the session that has just ended (see the module's docstring)."""
    post = _post_or_none(post_id)
    if not current_user.is_authenticated:
        kept = _keep_for_signed_out(post)
        sign_in = url_for("admin.login", next=editor_url(post, True))
        return jsonify(signed_out=True, kept=kept, sign_in=sign_in), 401
    if not current_user.is_staff:
        abort(403)
    row = store_autosave(current_user.id, post, editor_fields(request.form, _field_names()))
    db.session.commit()
    return jsonify(
        saved_at=row.saved_at.isoformat(),
        saved_at_text=format_time(row.saved_at, practitioner_zone()),
    )


@bp.post("/posts/new/autosave/discard", endpoint="post_autosave_discard_new")
@bp.post("/posts/<int:post_id>/autosave/discard")
@staff_required
def post_autosave_discard(post_id=None):
    """Throw her unsaved text away; back to the editor with the post as saved."""
    post = _post_or_none(post_id)
    if not CSRFOnlyForm().validate():
        abort(400)
    discard_autosave(current_user.id, post)
    db.session.commit()
    flash("Your unsaved text is discarded.", "success")
    return redirect(editor_url(post), 303)


# --- preview in the site's layout -------------------------------------------------------------


@bp.post("/posts/new/preview", endpoint="post_preview_new")
@bp.post("/posts/<int:post_id>/preview")
@staff_required
def post_preview(post_id=None):
    """The editor's fields as readers would see the post, in the public post template,
    marked as a preview; nothing is saved (never cached nor indexed: staff pages)."""
    post = _post_or_none(post_id)
    form = PostForm()
    form.validate()  # for the hero image's id; an unfinished post still previews
    records = form.reference_records()
    title = form.title.data or "(no title yet)"
    published_at = post.published_at if post and post.published_at else utcnow()
    publish_at = post.publish_at if post and post.status == PostStatus.SCHEDULED else None
    if form.publish_at.data is not None:
        with suppress(ScheduleError):  # the preview shows the date it can
            published_at = publish_at = publish_time_from_local(form.publish_at.data)
    # A post not published now is not dated as if it were: it says when it will be.
    not_published = None
    if post is None or post.status != PostStatus.PUBLISHED:
        not_published = "Not published yet"
        if publish_at is not None:
            when = format_when(publish_at, practitioner_zone())
            not_published += f": to be published {when}"
    shown = SimpleNamespace(
        id=post.id if post else 0,
        slug=form.slug.data or slugify(title) or "preview",
        title=title,
        summary=form.summary.data or "",
        author_name=post.author_name if post else DEFAULT_AUTHOR,
        published_at=published_at,
        not_published=not_published,
        reviewed_at=reviewed_at_from_date(form.reviewed_on.data),
        reviewer_name=(form.reviewer.data or "").strip() or None,
        updated_at=utcnow(),
        body_html=render_body(form.body.data or "", len(records)),
        hero_image_id=form.hero_image_id,
    )
    return render_template(
        "blog/post.html",
        preview=True,
        post=shown,
        tags=[TagLink(slug=slugify(n, 80), name=n) for n in parse_tag_names(form.tags.data)],
        references=[citation(n, ref) for n, ref in enumerate(records, start=1)],
        form=SimpleNamespace(errors={}),
        threads=[],
        comment_count=0,
        comment_page=None,
        own_pending=[],
        replying_to=None,
        notice=None,
        staff_replies=False,
        previous=None,
        following=None,
        recent=[p for p in latest_posts(RECENT_POSTS) if not post or p.id != post.id],
        canonical_url=post_url(shown.slug),
        hero=picture(shown.hero_image_id),
        author=author_profile(),
        practice_zone=practitioner_zone(),
    )


# --- revisions ------------------------------------------------------------------------------------


@bp.get("/posts/<int:post_id>/revisions")
@staff_required
def post_revisions_list(post_id):
    post = db.get_or_404(Post, post_id)
    return render_template(
        "admin/post_revisions.html",
        post=post,
        revisions=post_revisions.revisions_of(post),
        form=CSRFOnlyForm(),
    )


def _revision_or_404(post_id, revision_id):
    post = db.get_or_404(Post, post_id)
    revision = post_revisions.revision_of(post, revision_id)
    if revision is None:
        abort(404)
    return post, revision


@bp.get("/posts/<int:post_id>/revisions/<int:revision_id>")
@staff_required
def post_revision(post_id, revision_id):
    post, revision = _revision_or_404(post_id, revision_id)
    before = post_revisions.previous_revision(revision)
    return render_template(
        "admin/post_revision.html",
        post=post,
        revision=revision,
        before=before,
        title_diff=post_revisions.diff_lines(before.title if before else "", revision.title),
        summary_diff=post_revisions.diff_lines(before.summary if before else "", revision.summary),
        body_diff=post_revisions.diff_lines(before.body_md if before else "", revision.body_md),
        form=CSRFOnlyForm(),
    )


@bp.post("/posts/<int:post_id>/revisions/<int:revision_id>/restore")
@staff_required
def post_revision_restore(post_id, revision_id):
    """Put a revision's text back into the post (a new revision; nothing is lost)."""
    post, revision = _revision_or_404(post_id, revision_id)
    if not CSRFOnlyForm().validate():
        abort(400)
    post_revisions.restore_revision(post, revision, actor=current_user._get_current_object())
    db.session.commit()
    state = " Readers see it now." if post.status == PostStatus.PUBLISHED else ""
    flash(f"Restored the text of “{revision.title}”.{state}", "success")
    return redirect(url_for("admin.post_edit", post_id=post.id), 303)
