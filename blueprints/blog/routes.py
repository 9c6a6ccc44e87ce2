"""Blog pages: home, index, tags, search, the Atom feed, posts and their comments.

Views stay thin: they read the request, call ``services`` and render. The one POST
(a comment) validates, calls ``services.add_comment``, commits once and redirects.
"""

import logging
from urllib.parse import urlsplit

from flask import (
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from blueprints.blog import bp, services
from blueprints.blog.forms import CommentForm
from blueprints.blog.models import DEFAULT_AUTHOR
from blueprints.core.cache import cached_page, query_args_unused
from blueprints.core.types import utcnow
from extensions import db, limiter

log = logging.getLogger(__name__)

HOME_POSTS = 6
FEED_POSTS = 20
MAX_PAGE_DIGITS = 6
DEFAULT_COMMENT_RATE_LIMIT = "5 per minute;30 per day"  # when config has none
NOTICE_KEY = "blog_comment_notice"
# Lists of posts carry "blog": publishing, editing or unpublishing any post clears them.
# Scheduled posts appear by the clock, so list pages live at most this long.
LIST_TIMEOUT = 300


def _comment_rate_limit():
    # FLASK_COMMENT_RATE_LIMIT can tighten or loosen it without a code change.
    return current_app.config.get("COMMENT_RATE_LIMIT", DEFAULT_COMMENT_RATE_LIMIT)


def _page_number():
    """``?page=N`` as a positive whole number; anything else is a 404, never a 500."""
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_PAGE_DIGITS or int(raw) < 1:
        abort(404)
    return int(raw)


@bp.get("/")
@cached_page(tags=["blog"], timeout=LIST_TIMEOUT)
def home():
    return render_template("blog/home.html", posts=services.latest_posts(HOME_POSTS))


def _found(pagination):
    """``pagination``, or a 404 when it is past the last page (an empty first page is fine)."""
    if not pagination.items and pagination.page > 1:
        abort(404)
    return pagination


@bp.get("/blog/")
@cached_page(tags=["blog"], allow_args=("page",), timeout=LIST_TIMEOUT)
def index():
    pagination = _found(services.paginate_posts(_page_number()))
    return render_template("blog/index.html", pagination=pagination, topics=services.topics())


@bp.get("/blog/tag/<tag>")
@cached_page(tags=["blog"], allow_args=("page",), timeout=LIST_TIMEOUT)
def tag(tag):
    found = services.tag_by_slug(tag)
    if found is None:
        abort(404)
    pagination = _found(services.paginate_posts(_page_number(), tag=found))
    return render_template("blog/tag.html", tag=found, pagination=pagination)


@bp.get("/blog/search")
@cached_page(tags=["blog"], allow_args=("q", "page"), timeout=LIST_TIMEOUT)
def search():
    query = services.parse_search(request.args.get("q"))
    if query.error:
        return render_template("blog/search.html", query=query, pagination=None), 400
    pagination = _found(services.search_posts(query, _page_number())) if query.terms else None
    return render_template("blog/search.html", query=query, pagination=pagination)


@bp.get("/blog/feed.xml")
@cached_page(tags=["blog"], timeout=LIST_TIMEOUT)
def feed():
    posts = services.feed_posts(FEED_POSTS)
    updated = max((services.last_changed(p) for p in posts), default=utcnow())
    site_url = current_app.config["SITE_URL"].rstrip("/")
    xml = render_template(
        "blog/feed.xml",
        posts=posts,
        updated=updated,
        site_url=site_url,
        host=urlsplit(site_url).hostname or "localhost",
        author=DEFAULT_AUTHOR,
        absolute_url=services.absolute_url,
        last_changed=services.last_changed,
    )
    return Response(xml, mimetype="application/atom+xml")


@bp.get("/blog/<slug>")
# The page shows its comments, the neighbouring and recent posts, and shop products.
@cached_page(tags=lambda slug: ["blog", f"post:{slug}", "catalogue"], allow_args=("reply_to",))
def post(slug):
    found = services.published_post(slug)
    if found is None:
        abort(404)
    form = CommentForm()
    # "Reply" links carry the comment's id; anything odd is dropped in _render_post.
    form.parent_id.data = request.args.get("reply_to", "")
    return _render_post(found, form, notice=session.pop(NOTICE_KEY, None))


@bp.post("/blog/<slug>")
@limiter.limit(_comment_rate_limit)
def comment(slug):
    found = services.published_post(slug)
    if found is None:
        abort(404)
    form = CommentForm()
    if form.is_bot:
        # Tell the bot what a person would hear, and keep nothing.
        log.info("Honeypot filled on %s; comment discarded", slug)
        session[NOTICE_KEY] = {"status": "pending"}
        return redirect(url_for("blog.post", slug=slug, _anchor="comment-notice"), 303)
    if form.validate_on_submit():
        parent = None
        if form.parent_id_value is not None:
            parent = services.reply_target(found, form.parent_id_value)
            if parent is None:
                form.parent_id.errors.append(
                    "The comment you replied to is no longer available. "
                    "Your comment will be added to the post instead if you send it again."
                )
                form.parent_id.data = ""
        if not form.errors:
            new = services.add_comment(
                found,
                name=form.name.data,
                email=form.email.data,
                body=form.body.data,
                parent=parent,
            )
            db.session.commit()
            session[NOTICE_KEY] = {"status": new.status.value, "id": new.id}
            return redirect(url_for("blog.post", slug=slug, _anchor="comment-notice"), 303)
    return _render_post(found, form, status=400)


def _render_post(post, form, *, status=200, notice=None):
    tags, references = services.post_details(post)
    threads = services.approved_threads(post)
    previous, following, recent = services.post_surroundings(post)
    replying_to = None
    if form.parent_id_value is not None:
        # A reply to a reply joins its thread: replies go one level deep.
        replying_to = next(
            (t for t in threads if form.parent_id_value in {t.id, *(r.id for r in t.replies)}),
            None,
        )
    form.parent_id.data = str(replying_to.id) if replying_to else ""
    if replying_to is None:
        query_args_unused("reply_to")  # no such comment: the plain page, not a new copy
    html = render_template(
        "blog/post.html",
        post=post,
        tags=tags,
        references=references,
        form=form,
        threads=threads,
        comment_count=sum(1 + len(t.replies) for t in threads),
        replying_to=replying_to,
        notice=notice,
        previous=previous,
        following=following,
        recent=recent,
        canonical_url=services.absolute_url("blog.post", slug=post.slug),
    )
    return html, status
