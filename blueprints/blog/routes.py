"""Blog pages: home, index, tags, search, the Atom feed, posts and their comments, and
the "confirm it's you" page of a commenter.

Views stay thin: they read the request, call the blog's services (``posts``, ``search``,
``comments``) and render. A comment POST validates, calls ``comments.add_comment`` (with
whether the browser's known-commenter cookie, or the reader's sign-in to the customer
account of that address, proves the address), commits once and redirects.
"""

import logging
from urllib.parse import urlsplit

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from blueprints.account.customers import current_customer
from blueprints.blog import commenters, comments, posts
from blueprints.blog.blueprint import bp
from blueprints.blog.cache_tags import BLOG_TAG, post_page_tags
from blueprints.blog.commenters import KNOWN_COMMENTER_COOKIE, cookie_proves, remember_commenter
from blueprints.blog.forms import COMMENT_LIMITS, CommentForm, ConfirmForm
from blueprints.blog.links import (
    post_url,
    read_known_commenter_link,
    read_reply_notices_off_link,
)
from blueprints.blog.models import DEFAULT_AUTHOR, CommentStatus
from blueprints.blog.search import MAX_SEARCH_LENGTH, parse_search, search_posts
from blueprints.core.addresses import normalise_email
from blueprints.core.cache import cached_page, query_args_unused
from blueprints.core.limits import count_as_accepted, limit_public_form, wait_in_words
from blueprints.core.links import external_url, site_url
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import utcnow
from blueprints.media.library import picture
from blueprints.pages.content import author_profile
from extensions import db, limiter

log = logging.getLogger(__name__)

HOME_POSTS = 6
FEED_POSTS = 20
MAX_PAGE_DIGITS = 6
NOTICE_KEY = "blog_comment_notice"
# The ids of the reader's own comments that wait for moderation: only she is shown them
# (a private session key, so her pages are never cached nor served from the cache).
PENDING_KEY = "blog_pending_comments"
# Lists of posts carry BLOG_TAG: publishing, editing or unpublishing any post clears
# them. Scheduled posts appear by the clock, so list pages live at most this long.
LIST_TIMEOUT = 300


def _form_limits(state):
    """The limits the blog's forms check, for the ``maxlength`` attributes of the pages
    that write their fields out (the search box, the comment form)."""
    state.app.jinja_env.globals.update(
        comment_limits=COMMENT_LIMITS, search_max_length=MAX_SEARCH_LENGTH
    )


bp.record_once(_form_limits)


def _comment_rate_limit():
    # FLASK_COMMENT_RATE_LIMIT can tighten or loosen it without a code change.
    return current_app.config["COMMENT_RATE_LIMIT"]


def _page_number(arg="page"):
    """``?page=N`` as a positive whole number; anything else is a 404, never a 500."""
    raw = request.args.get(arg, "1")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_PAGE_DIGITS or int(raw) < 1:
        abort(404)
    return int(raw)


@bp.get("/")
@cached_page(tags=[BLOG_TAG], timeout=LIST_TIMEOUT)
def home():
    return render_template("blog/home.html", posts=posts.latest_posts(HOME_POSTS))


def _found(pagination):
    """``pagination``, or a 404 when it is past the last page (an empty first page is fine)."""
    if not pagination.items and pagination.page > 1:
        abort(404)
    return pagination


@bp.get("/blog/")
@cached_page(tags=[BLOG_TAG], allow_args=("page",), timeout=LIST_TIMEOUT)
def index():
    pagination = _found(posts.paginate_posts(_page_number()))
    return render_template("blog/index.html", pagination=pagination, topics=posts.topics())


@bp.get("/blog/tag/<tag>")
@cached_page(tags=[BLOG_TAG], allow_args=("page",), timeout=LIST_TIMEOUT)
def tag(tag):
    found = posts.tag_by_slug(tag)
    if found is None:
        abort(404)
    pagination = _found(posts.paginate_posts(_page_number(), tag=found))
    return render_template("blog/tag.html", tag=found, pagination=pagination)


@bp.get("/blog/search")
@cached_page(tags=[BLOG_TAG], allow_args=("q", "page"), timeout=LIST_TIMEOUT)
def search():
    query = parse_search(request.args.get("q"))
    if query.error:
        return render_template("blog/search.html", query=query, pagination=None), 400
    pagination = _found(search_posts(query, _page_number())) if query.terms else None
    return render_template("blog/search.html", query=query, pagination=pagination)


@bp.get("/blog/feed.xml")
@cached_page(tags=[BLOG_TAG], timeout=LIST_TIMEOUT)
def feed():
    newest = posts.feed_posts(FEED_POSTS)
    updated = max((posts.last_changed(p) for p in newest), default=utcnow())
    xml = render_template(
        "blog/feed.xml",
        posts=newest,
        updated=updated,
        site_url=site_url(),
        host=urlsplit(site_url()).hostname or "localhost",
        author=DEFAULT_AUTHOR,
        external_url=external_url,
        post_url=post_url,
        last_changed=posts.last_changed,
    )
    return Response(xml, mimetype="application/atom+xml")


@bp.get("/blog/<slug>")
# The page shows its comments and the neighbouring and recent posts.
# ``?comments=N`` is a page of its comments (10 threads to a page).
@cached_page(tags=post_page_tags, allow_args=("reply_to", "comments"))
def post(slug):
    found = posts.published_post(slug)
    if found is None:
        abort(404)
    comment_page = _page_number("comments")
    form = CommentForm()
    # "Reply" links carry the comment's id; anything odd is dropped in _render_post.
    form.parent_id.data = request.args.get("reply_to", "")
    _fill_in_customer(form)
    return _render_post(
        found, form, notice=session.pop(NOTICE_KEY, None), comment_page=comment_page
    )


def _fill_in_customer(form):
    """A signed-in customer finds her name and address already in the comment form.

    Only she gets this page: her session is private (``account`` marks its key so), and
    the page cache neither serves nor stores a page for a private session, so no other
    reader is ever shown her address."""
    customer = current_customer()
    if customer is None:
        return
    form.email.data = customer.email
    form.name.data = customer.name or commenters.last_name_used(customer.email)


def _signed_in_as(email):
    """True when the reader is signed in to the customer account of ``email``: her
    mailbox proved the address when she signed in with its emailed code."""
    customer = current_customer()
    return customer is not None and customer.email == normalise_email(email)


def _form_page(post, form):
    """The page of comments a form was sent from: a reply's, its thread's page (so the
    form, given back, still answers that thread); a new comment's, page 1."""
    parent = comments.reply_target(post, form.parent_id_value)
    return comments.thread_page(parent) if parent is not None else 1


def _comment_not_sent_yet(seconds):
    """Past the comment limit (``core/limits.py``): the post again, 429, with her
    comment still in the form and how long to wait before sending it."""
    found = posts.published_post(request.view_args["slug"])
    if found is None:
        return None
    form = CommentForm()
    slow_down = (
        "You have sent several comments in a short while. Please wait "
        f"{wait_in_words(seconds)}, then send this one again: your comment is kept in "
        "the form below."
    )
    page = _form_page(found, form)
    return make_response(
        _render_post(found, form, status=429, comment_page=page, slow_down=slow_down)
    )


@bp.post("/blog/<slug>")
@limit_public_form(_comment_rate_limit, on_breach=_comment_not_sent_yet)
def comment(slug):
    found = posts.published_post(slug)
    if found is None:
        abort(404)
    form = CommentForm()
    if form.is_bot:
        # Tell the bot what a person would hear, and keep nothing.
        log.info("Honeypot filled on %s; comment discarded", slug)
        count_as_accepted()  # as a person's comment would be
        session[NOTICE_KEY] = {"status": "pending"}
        return redirect(url_for("blog.post", slug=slug, _anchor="comment-notice"), 303)
    if form.validate_on_submit():
        parent = None
        if form.parent_id_value is not None:
            parent = comments.reply_target(found, form.parent_id_value)
            if parent is None:
                form.parent_id.errors.append(
                    "The comment you replied to is no longer available. "
                    "Your comment will be added to the post instead if you send it again."
                )
                form.parent_id.data = ""
        if not form.errors:
            # The cookie is read here only: the post page itself never looks at it, so a
            # known commenter's pages stay shared and cached.
            proven = _signed_in_as(form.email.data) or cookie_proves(
                request.cookies.get(KNOWN_COMMENTER_COOKIE), form.email.data
            )
            new = comments.add_comment(
                found,
                name=form.name.data,
                email=form.email.data,
                body=form.body.data,
                parent=parent,
                proven=proven,
            )
            db.session.commit()
            count_as_accepted()
            session[NOTICE_KEY] = {"status": new.status.value, "id": new.id}
            page = 1
            if new.status == CommentStatus.PENDING:
                _remember_pending(new.id)
            else:
                page = comments.thread_page(new)
            return redirect(_comments_page_url(slug, page, "comment-notice"), 303)
    return _render_post(found, form, status=400, comment_page=_form_page(found, form))


@bp.get("/blog/comments/<int:comment_id>")
def comment_link(comment_id):
    """One comment's lasting address (emails, My account): the page of its post's
    comments that shows it now, worked out at each visit, as comments before it come
    and go. A comment readers are not shown is not found."""
    comment = comments.shown_comment(comment_id)
    if comment is None or posts.published_post(comment.post.slug) is None:
        abort(404)
    page = comments.thread_page(comment)
    return redirect(_comments_page_url(comment.post.slug, page, f"comment-{comment.id}"), 303)


def _comments_page_url(slug, page, anchor):
    """The post's address showing page ``page`` of its comments (page 1: the plain one)."""
    args = {"comments": page} if page > 1 else {}
    return url_for("blog.post", slug=slug, _anchor=anchor, **args)


def _remember_pending(comment_id):
    """Let this browser show the reader her own comment while it waits."""
    remembered = [i for i in session.get(PENDING_KEY, []) if i != comment_id]
    session[PENDING_KEY] = [*remembered, comment_id][-comments.MAX_REMEMBERED_PENDING :]


def _own_pending(post):
    """Her own comments on ``post`` that still wait; her session forgets the others
    (once none wait, her session is no longer private on their account)."""
    remembered = session.get(PENDING_KEY)
    if not remembered:
        return []
    here, waiting = comments.own_pending(post, remembered)
    if waiting != remembered:
        if waiting:
            session[PENDING_KEY] = waiting
        else:
            session.pop(PENDING_KEY)
    return here


def _render_post(post, form, *, status=200, notice=None, comment_page=1, slow_down=None):
    tags, references = posts.post_details(post)
    page = comments.approved_threads(post, comment_page)
    if comment_page > 1 and not page.threads:
        abort(404)
    if comment_page == 1:
        query_args_unused("comments")  # ?comments=1 is the plain page, not a new copy
    threads = page.threads
    previous, following, recent = posts.post_surroundings(post)
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
        comment_count=page.total,
        comment_page=page,
        own_pending=_own_pending(post),
        replying_to=replying_to,
        notice=notice,
        slow_down=slow_down,
        # Staff never get a cached page (their session is private): their copy links each
        # comment to the staff reply, which carries the "Author" badge.
        staff_replies=current_user.is_authenticated and current_user.is_staff,
        previous=previous,
        following=following,
        recent=recent,
        canonical_url=post_url(post.slug),
        hero=picture(post.hero_image_id),
        author=author_profile(),
        practice_zone=practitioner_zone(),
    )
    return html, status


# --- "confirm it's you" ----------------------------------------------------------------------


@bp.get("/blog/commenter/<token>")
def known_commenter(token):
    """The link from a "your comment is published" email: a button, so that opening the
    link (or a mail scanner fetching it) sets nothing."""
    link = read_known_commenter_link(token)
    if link is None or link.expired:
        return render_template("blog/known_commenter.html", confirm_link=link, form=None), 400
    return render_template("blog/known_commenter.html", confirm_link=link, form=ConfirmForm())


@bp.post("/blog/commenter/<token>")
def known_commenter_confirm(token):
    """Remember this browser as the commenter the link names, then show her the post."""
    link = read_known_commenter_link(token)
    form = ConfirmForm()
    if link is None or link.expired or not form.validate_on_submit():
        return render_template("blog/known_commenter.html", confirm_link=link, form=None), 400
    if posts.published_post(link.slug) is not None:
        session[NOTICE_KEY] = {"status": "known"}
        target = url_for("blog.post", slug=link.slug, _anchor="comment-notice")
    else:
        target = url_for("blog.index")
    return remember_commenter(redirect(target, 303), link.email)


@bp.get("/blog/reply-emails/<token>")
def reply_notices_off(token):
    """The link in a "Dr. Brown replied" email: a button, so that opening the link (or a
    mail scanner fetching it) changes nothing. Once stopped, the page says so."""
    email = read_reply_notices_off_link(token)
    if email is None:
        return render_template("blog/reply_notices_off.html", email=None, done=False), 400
    return render_template(
        "blog/reply_notices_off.html",
        email=email,
        done=not commenters.reply_notices_wanted(email),
    )


@bp.post("/blog/reply-emails/<token>")
@limiter.limit(_comment_rate_limit)
def reply_notices_off_confirm(token):
    """Stop emailing this address when Dr. Brown replies to its comments."""
    email = read_reply_notices_off_link(token)
    if email is None or not ConfirmForm().validate_on_submit():
        return render_template("blog/reply_notices_off.html", email=None, done=False), 400
    commenters.stop_reply_notices(email)
    db.session.commit()
    return redirect(url_for("blog.reply_notices_off", token=token), 303)
