"""Staff pages: sign-in and sign-out, the dashboard, posts, and comment moderation."""

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from blueprints.account.roles import is_owner
from blueprints.account.services import authenticate, sign_out_everywhere
from blueprints.account.sign_in import (
    complete_sign_in,
    count_failed_attempt,
    login_rate_limit,
    sign_in_failed,
    start_second_step,
)
from blueprints.admin.blueprint import bp
from blueprints.admin.confirming import confirmation_page, confirmed
from blueprints.admin.dashboard import Panel, PanelLink, build_panels, dashboard_panel
from blueprints.admin.forms import LoginForm, ModerationForm, PostForm
from blueprints.admin.media_picker import picker_images
from blueprints.admin.post_views import editor_context, editor_staff, editor_state, schedule_time
from blueprints.blog.autosave import discard_autosave
from blueprints.blog.editing import (
    SlugTakenError,
    blog_counts,
    parse_tag_names,
    publish_post,
    reviewed_date,
    save_post,
    unpublish_post,
)
from blueprints.blog.forms import StaffReplyForm
from blueprints.blog.models import Comment, CommentStatus, Post, PostStatus
from blueprints.blog.moderation import (
    ModerationAction,
    add_staff_reply,
    moderate_comments,
    moderation_queue_query,
    staff_reply_name,
)
from blueprints.blog.scheduling import ScheduleError, local_publish_time, schedule_post
from blueprints.core.security import is_safe_next, safe_next, staff_required
from blueprints.core.timezones import format_when, practitioner_zone, zone_name
from blueprints.core.types import parse_id
from blueprints.media import library as media_library
from extensions import db, limiter

SIGN_IN_FAILED = "That email and password do not match. Please check them and try again."


def _staff():
    """The signed-in staff account, as the services take it (``actor``)."""
    return current_user._get_current_object()


@bp.after_request
def _private_pages(response):
    """Staff pages carry readers' email addresses: never cache or index them."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- sign-in ------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"], deduct_when=sign_in_failed)
def login():
    """Staff sign-in. Errors never say whether an account exists."""
    next_url = safe_next(url_for("admin.dashboard"))
    if current_user.is_authenticated and current_user.is_staff:
        return redirect(next_url)
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None and user.is_staff and user.has_totp:
            # Step one done: only a short-lived pending state, never a signed-in session.
            start_second_step(user, next_url)
            db.session.commit()
            return redirect(url_for("admin.login_code"), code=303)
        if user is not None and user.is_staff:
            complete_sign_in(user)
            db.session.commit()
            return redirect(next_url, code=303)
        error = SIGN_IN_FAILED
    if request.method == "POST":
        count_failed_attempt()
        db.session.rollback()
    form.password.data = ""
    status = 400 if request.method == "POST" else 200
    action_next = request.values.get("next")
    action = url_for("admin.login", next=action_next if is_safe_next(action_next) else None)
    return render_template("admin/login.html", form=form, error=error, action=action), status


@bp.post("/logout")
def logout():
    """Sign out here and everywhere: the session token rotates, so copies stop working."""
    if current_user.is_authenticated:
        sign_out_everywhere(current_user._get_current_object())
        db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out on every device.", "success")
    return redirect(url_for("admin.login"), code=303)


# --- dashboard ------------------------------------------------------------------------------


@dashboard_panel(order=10)
def _blog_panel():
    counts = blog_counts()
    return Panel(
        title="Blog",
        links=[
            PanelLink(
                "Comments waiting for moderation",
                counts["pending_comments"],
                url_for("admin.comments", status="pending"),
                one="Comment waiting for moderation",
            ),
            PanelLink(
                "Draft posts",
                counts["draft_posts"],
                url_for("admin.posts", status="draft"),
                one="Draft post",
            ),
            PanelLink(
                "Scheduled posts",
                counts["scheduled_posts"],
                url_for("admin.posts", status="scheduled"),
                one="Scheduled post",
            ),
            PanelLink(
                "Published posts",
                counts["published_posts"],
                url_for("admin.posts", status="published"),
                one="Published post",
            ),
        ],
        actions=[("Write a new post", url_for("admin.post_new"))],
    )


@bp.get("/")
@staff_required
def dashboard():
    return render_template("admin/dashboard.html", panels=build_panels())


# --- posts ------------------------------------------------------------------------------------

POSTS_PER_PAGE = 50


@bp.get("/posts")
@staff_required
def posts():
    status = _post_status_filter()
    query = select(Post)
    if status is not None:
        query = query.where(Post.status == status)
    query = query.order_by(Post.updated_at.desc(), Post.id.desc())
    page = db.paginate(
        query, page=_page_arg(), per_page=POSTS_PER_PAGE, error_out=False, count=True
    )
    return render_template("admin/posts.html", page=page, status=status, statuses=list(PostStatus))


def _post_status_filter():
    value = request.args.get("status")
    return PostStatus(value) if value in {s.value for s in PostStatus} else None


def _post_or_404(post_id):
    return db.get_or_404(Post, post_id)


def _editor_response(form, post, status=200, restored=None, offer=None):
    return (
        render_template(
            "admin/post_form.html",
            form=form,
            post=post,
            picker=picker_images(),
            **editor_context(form, post, restored=restored, offer=offer),
        ),
        status,
    )


def _post_form(**kwargs):
    form = PostForm(**kwargs).with_hero_choices(media_library.image_choices())
    return form.with_zone(zone_name(practitioner_zone()))


def _handle_editor(form, post):
    """Validate and save (and publish, for "Save and publish"; schedule, for
    "Schedule"); shared by the new and edit pages. A reference row's button (add,
    move, remove) only shows the rows changed. Preview is ``post_views.post_preview``."""
    if form.rearrange_rows(request.form):
        return _editor_response(form, post)
    if not form.validate():
        return _editor_response(form, post, status=400)
    action = request.form.get("action")
    if (
        action == "save"
        and post is not None
        and post.status == PostStatus.SCHEDULED
        and form.publish_at.data != local_publish_time(post)
    ):
        action = "schedule"  # "Save changes" of a scheduled post with a new time
    publish = action == "publish"
    publish_at = None
    if action == "schedule":
        # Checked before anything is saved: a time that has passed keeps the form as typed.
        try:
            publish_at = schedule_time(form)
        except ScheduleError as error:
            form.publish_at.errors = [*form.publish_at.errors, error.message]
            return _editor_response(form, post, status=400)
    try:
        saved = save_post(
            post,
            title=form.title.data,
            slug=form.slug.data,
            summary=form.summary.data,
            body_md=form.body.data,
            tag_names=parse_tag_names(form.tags.data),
            references=form.reference_records(),
            reviewed_on=form.reviewed_on.data,
            reviewer_name=form.reviewer.data,
            hero_image_id=form.hero_image_id,
            publish=publish,
            actor=_staff(),
        )
    except SlugTakenError as error:
        db.session.rollback()
        form.slug.errors = [*form.slug.errors, error.message]
        return _editor_response(form, post, status=400)
    # A post published meanwhile (another editor) stays published: said, not scheduled.
    scheduled = publish_at is not None and schedule_post(saved, publish_at, actor=_staff())
    discard_autosave(current_user.id, post)  # saved: the unsaved copy has done its job
    db.session.commit()
    message = "Saved and published “{}”." if publish else "Saved “{}”."
    if scheduled:
        when = format_when(publish_at, practitioner_zone())
        message = "Saved “{}”. It will be published " + when + "."
    elif publish_at is not None:
        message = "Saved “{}”. It is already published, so it was not scheduled."
    flash(message.format(saved.title), "success")
    return redirect(url_for("admin.post_edit", post_id=saved.id), code=303)


@bp.route("/posts/new", methods=["GET", "POST"])
@editor_staff
def post_new():
    if request.method == "POST":
        return _handle_editor(_post_form(), None)
    restore, offer, restored = editor_state(None)
    form = _post_form(formdata=MultiDict(restore) if restore else None)
    return _editor_response(form, None, restored=restored, offer=offer)


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@editor_staff
def post_edit(post_id):
    post = _post_or_404(post_id)
    if request.method == "POST":
        form = _post_form()
        return _handle_editor(form, post)
    restore, offer, restored = editor_state(post)
    if restore:
        form = _post_form(formdata=MultiDict(restore))
        return _editor_response(form, post, restored=restored)
    form = _post_form(
        data={
            "title": post.title,
            "slug": post.slug,
            "summary": post.summary,
            "body": post.body_md,
            "tags": ", ".join(tag.name for tag in post.tags),
            "reviewed_on": reviewed_date(post),
            "reviewer": post.reviewer_name or "",
            "hero_image": str(post.hero_image_id or ""),
            "publish_at": local_publish_time(post),
        }
    )
    form.rows_of(post.references)
    return _editor_response(form, post, offer=offer)


def _change_status(post_id, change, message):
    """Publish or unpublish (``change``), then back to the editor or to ``next``."""
    post = _post_or_404(post_id)
    change(post, actor=_staff())
    db.session.commit()
    flash(message.format(post.title), "success")
    return redirect(safe_next(url_for("admin.post_edit", post_id=post.id)), code=303)


@bp.post("/posts/<int:post_id>/publish")
@staff_required
def post_publish(post_id):
    return _change_status(post_id, publish_post, "Published “{}”.")


@bp.post("/posts/<int:post_id>/unpublish")
@staff_required
def post_unpublish(post_id):
    return _change_status(
        post_id, unpublish_post, "“{}” is a draft again; readers no longer see it."
    )


# --- comments --------------------------------------------------------------------------------

COMMENTS_PER_PAGE = 50
_DONE = {
    ModerationAction.APPROVE: "Approved",
    ModerationAction.SPAM: "Marked as spam",
    ModerationAction.DELETE: "Deleted",
}


MAX_PAGE = 100_000


def _page_arg():
    """The ``page`` query argument, bounded: a huge page number would overflow OFFSET."""
    return parse_id(request.args.get("page", ""), maximum=MAX_PAGE) or 1


def _queue_status():
    """The status filter: pending by default; ``all`` shows every comment."""
    value = request.args.get("status", CommentStatus.PENDING.value)
    if value == "all":
        return None, "all"
    if value not in {member.value for member in CommentStatus}:
        value = CommentStatus.PENDING.value
    return CommentStatus(value), value


def _render_queue(form, selected=(), status=200):
    status_filter, status_value = _queue_status()
    page = db.paginate(
        moderation_queue_query(status_filter),
        page=_page_arg(),
        per_page=COMMENTS_PER_PAGE,
        error_out=False,
        count=True,
    )
    return (
        render_template(
            "admin/comments.html",
            page=page,
            status_value=status_value,
            statuses=[(s.value, s.value.capitalize()) for s in CommentStatus] + [("all", "All")],
            form=form,
            selected=set(selected),
        ),
        status,
    )


@bp.get("/comments")
@staff_required
def comments():
    return _render_queue(ModerationForm())


@bp.post("/comments")
@staff_required
def comments_moderate():
    """One comment (a row's own button sends ``one=<id>:<action>``) or the ticked ones."""
    form = ModerationForm()
    one = request.form.get("one", "")
    if one:
        comment_id, _, action = one.partition(":")
        if parse_id(comment_id) is None or action not in ModerationAction.ALL:
            abort(400)
        ids = [parse_id(comment_id)]
    else:
        ids = [n for n in map(parse_id, request.form.getlist("ids")) if n is not None]
        valid = form.validate()
        if not ids:
            form.form_errors.append("Tick at least one comment, then choose an action.")
        if not valid or not ids:
            return _render_queue(form, selected=ids, status=400)
        action = form.action.data
    if action == ModerationAction.DELETE and not confirmed():
        return _ask_delete(ids)
    done = moderate_comments(ids, action, actor=_staff())
    db.session.commit()
    noun = "comment" if done == 1 else "comments"
    flash(f"{_DONE[action]}: {done} {noun}.", "success")
    return redirect(url_for("admin.comments", **_filter_args()), code=303)


def _ask_delete(ids):
    """The "are you sure?" page before comments are deleted: it cannot be undone."""
    if len(ids) == 1:
        comment = db.session.get(Comment, ids[0])
        question = (
            f"Delete this comment by {comment.author_name} on “{comment.post.title}” for good?"
            if comment
            else "Delete this comment for good?"
        )
    else:
        question = f"Delete these {len(ids)} comments for good?"
    return confirmation_page(
        question,
        "Yes, delete for good",
        url_for("admin.comments", **_filter_args()),
        detail="Replies to a deleted comment are deleted with it. This cannot be undone.",
    )


@bp.route("/comments/<int:comment_id>/reply", methods=["GET", "POST"])
@staff_required
def comment_reply(comment_id):
    """A staff reply: published at once, approving the comment it answers; the owner's
    as Dr. Brown with the "Author" badge, an assistant's under her own name with the
    team badge. The form says which."""
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        abort(404)
    form = StaffReplyForm()
    if form.validate_on_submit():
        reply = add_staff_reply(comment, body=form.body.data, actor=_staff())
        db.session.commit()
        flash(
            f"Your reply to {comment.author_name} is published as {reply.author_name}.",
            "success",
        )
        # From the post page, back to it; from the queue, back to the queue.
        return redirect(safe_next(url_for("admin.comments", **_filter_args())), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/comment_reply.html",
        comment=comment,
        form=form,
        publish_as=staff_reply_name(_staff(), comment.post),
        as_author=is_owner(_staff()),
    ), status


def _filter_args():
    """Keep the queue's filter and page across a moderation POST (sent as query args)."""
    args = {}
    _status, value = _queue_status()
    if value != CommentStatus.PENDING.value:
        args["status"] = value
    page = _page_arg()
    if page > 1:
        args["page"] = page
    return args
