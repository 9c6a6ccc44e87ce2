"""Newsletter pages: signup, confirmation, unsubscribe and pause.

Every signup answers with the same redirect and page, whoever the address belongs to.
Only POSTs change anything; the one-click unsubscribe (RFC 8058) is the one POST here
without a CSRF token, because mail providers send it without a session.
"""

from functools import wraps
from types import SimpleNamespace

from flask import current_app, make_response, redirect, render_template, session, url_for

from blueprints.core.cache import cached_page
from blueprints.core.headers import no_store
from blueprints.core.limits import count_as_accepted, limit_public_form, wait_in_words
from blueprints.newsletter import cache_tags
from blueprints.newsletter.blueprint import bp
from blueprints.newsletter.forms import SignupForm
from blueprints.newsletter.models import (
    CONFIRM_LINK_HOURS,
    MAX_EMAIL_LENGTH,
    MAX_FIRST_NAME_LENGTH,
    PAUSE_WEEKS,
)
from blueprints.newsletter.subscriptions import (
    check_confirm_token,
    confirm_subscription,
    pause_subscription,
    read_unsubscribe_link,
    request_subscription,
    resend_confirmation,
)
from blueprints.newsletter.subscriptions import (
    unsubscribe as take_off_list,
)
from extensions import csrf, db, limiter

_NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
# What she typed in the signup form, shown once on "Please check your inbox" so that she
# can spot a typo: kept in her session (a private key: no cached page while it is
# there), never in a URL, on a page no cache keeps.
TYPED_KEY = "newsletter_signup_typed"

# The numbers the newsletter's pages and emails state, from the code that enforces them
# (the footer's signup form is on every page, so they are a global, not a context).
bp.add_app_template_global(
    SimpleNamespace(
        confirm_link_hours=CONFIRM_LINK_HOURS,
        pause_weeks=PAUSE_WEEKS,
        pause_weeks_words=_NUMBER_WORDS.get(PAUSE_WEEKS, str(PAUSE_WEEKS)),
        max_email_length=MAX_EMAIL_LENGTH,
        max_first_name_length=MAX_FIRST_NAME_LENGTH,
    ),
    "newsletter_numbers",
)


def _signup_limit():
    return current_app.config["NEWSLETTER_SIGNUP_LIMIT"]


def _bad_link(status=400):
    return render_template("newsletter/link_invalid.html"), status


def _already_signed_up(subscriber):
    """A confirmation link she used already: she is on the list (or paused), 200."""
    return render_template("newsletter/already_signed_up.html", subscriber=subscriber)


def _commit_and_show(endpoint):
    """Commit the request's one transaction, then redirect (303) to the page saying what
    was done."""
    db.session.commit()
    return redirect(url_for(endpoint), code=303)


def _with_subscriber(view):
    """Load the subscriber the unsubscribe token in the URL names and pass it on, or
    say plainly why not, and the view never runs: an altered or incomplete token names
    nobody we can tell (400); a genuine one whose subscriber was deleted since (her
    account was deleted) sends nothing any more (404). Neither says who is on the list."""

    @wraps(view)
    def wrapped(token):
        link = read_unsubscribe_link(token)
        if not link.genuine:
            return render_template("newsletter/unsubscribe_link_invalid.html"), 400
        if link.subscriber is None:
            return render_template("newsletter/subscription_gone.html"), 404
        return view(token, link.subscriber)

    return wrapped


def _signup_not_sent_yet(seconds):
    """Past the signup limit (``core/limits.py``): the signup page, 429, with what she
    typed still in the form and how long to wait."""
    slow_down = (
        "You have signed up several times in a short while. Please wait "
        f"{wait_in_words(seconds)}, then choose Sign up again: what you typed is kept "
        "in the form below."
    )
    page = render_template("newsletter/signup.html", form=SignupForm(), slow_down=slow_down)
    return make_response(page, 429)


@bp.route("/", methods=["GET", "POST"])
@limit_public_form(_signup_limit, on_breach=_signup_not_sent_yet)
@cached_page(tags=cache_tags.signup_page())  # GET only: a POST is never cached
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        if not form.website.data:  # a filled honeypot is a bot: it gets the page, no row
            request_subscription(form.email.data, form.first_name.data)
            db.session.commit()
        count_as_accepted()
        session[TYPED_KEY] = {
            "email": form.email.data.strip(),
            "first_name": form.first_name.data or "",
        }
        return redirect(url_for("newsletter.check_inbox"), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("newsletter/signup.html", form=form), status


@bp.get("/confirm/<token>")
def confirm(token):
    check = check_confirm_token(token)
    if check.already_confirmed:
        return _already_signed_up(check.subscriber)
    if check.subscriber is None:
        return _bad_link()
    # Pages with a token in their URL carry <meta name="referrer" content="no-referrer">.
    template = "newsletter/link_expired.html" if check.expired else "newsletter/confirm.html"
    return render_template(template, token=token), 400 if check.expired else 200


@bp.post("/confirm/<token>")
def confirm_post(token):
    if confirm_subscription(token) is None:
        return _used_or_bad_link(token)
    return _commit_and_show("newsletter.welcome")


def _used_or_bad_link(token):
    """The answer to a confirmation link that confirms nothing now: she used it already
    (she is signed up), else it does not work."""
    check = check_confirm_token(token)
    return _already_signed_up(check.subscriber) if check.already_confirmed else _bad_link()


@bp.post("/confirm/<token>/resend")
@limiter.limit(_signup_limit)
def resend(token):
    if not resend_confirmation(token):
        return _used_or_bad_link(token)
    return _commit_and_show("newsletter.check_inbox")


@bp.get("/unsubscribe/<token>")
@_with_subscriber
def unsubscribe_page(token, subscriber):
    return render_template("newsletter/unsubscribe.html", token=token, subscriber=subscriber)


@bp.post("/unsubscribe/<token>")
@csrf.exempt
@_with_subscriber
def unsubscribe(token, subscriber):
    """RFC 8058 one-click: mail providers POST here with no session; safe to repeat."""
    take_off_list(subscriber)
    db.session.commit()
    return render_template("newsletter/unsubscribed.html")


@bp.post("/unsubscribe/<token>/leave")
@_with_subscriber
def leave(token, subscriber):
    take_off_list(subscriber)
    return _commit_and_show("newsletter.unsubscribed")


@bp.post("/unsubscribe/<token>/pause")
@_with_subscriber
def pause(token, subscriber):
    pause_subscription(subscriber)
    return _commit_and_show("newsletter.paused")


def _notice(template):
    def view():
        return render_template(template)

    return view


@bp.get("/check-your-inbox")
@no_store
def check_inbox():
    """After a signup: the address she typed (once), and the signup form filled in with
    it to send again corrected. The same page whoever the address belongs to."""
    typed = session.pop(TYPED_KEY, None)
    form = None
    if isinstance(typed, dict) and isinstance(typed.get("email"), str):
        form = SignupForm(formdata=None, data=typed)
    return render_template("newsletter/check_inbox.html", form=form)


# Pages that only say what has just happened (each POST above redirects to one).
for _rule, _endpoint in (
    ("/welcome", "welcome"),
    ("/unsubscribed", "unsubscribed"),
    ("/paused", "paused"),
):
    bp.add_url_rule(_rule, _endpoint, _notice(f"newsletter/{_endpoint}.html"), methods=["GET"])
