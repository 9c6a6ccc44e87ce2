"""The weekly issue: which posts it lists, its frozen message, and starting it.

An issue is rendered once, when it starts, with placeholders for each reader's details;
its MIME message is built once per run from that (``freeze_message``) and each reader's
copy is a few byte replacements (``personalise``). Services flush; the caller commits.
"""

from dataclasses import dataclass
from datetime import timedelta
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

import sqlalchemy as sa
from flask import current_app, render_template
from markupsafe import escape

from blueprints.blog.models import Post, PostStatus
from blueprints.core.addresses import sender, sender_domain
from blueprints.core.links import site_url
from blueprints.core.states import change_status
from blueprints.core.types import utcnow
from blueprints.newsletter.links import post_url, unsubscribe_url
from blueprints.newsletter.models import (
    DeliveryStatus,
    IssueStatus,
    NewsletterDelivery,
    NewsletterIssue,
    Subscriber,
)
from blueprints.newsletter.subscriptions import eligible_subscribers_clause
from extensions import db

FIRST_ISSUE_LOOKBACK = timedelta(days=7)  # the first issue lists the last week's posts
SUBJECT_LENGTH = 300  # NewsletterIssue.subject

# Placeholders in a frozen issue body, replaced per recipient.
UNSUBSCRIBE_MARK = "%%UNSUBSCRIBE_URL%%"
GREETING_MARK = "%%GREETING%%"
GREETING_HTML_MARK = "%%GREETING_HTML%%"


# --- content ----------------------------------------------------------------------------


@dataclass
class IssueContent:
    subject: str
    body_text: str
    body_html: str
    posts: list
    since_at: object
    until_at: object


def posts_between(since_at, until_at):
    """The posts published after ``since_at`` and up to ``until_at``, oldest first."""
    return db.session.scalars(
        sa.select(Post)
        .where(
            Post.status == PostStatus.PUBLISHED,
            Post.published_at > since_at,
            Post.published_at <= until_at,
        )
        .order_by(Post.published_at, Post.id)
    ).all()


def default_since():
    """Where the next issue starts: the end of the last one, else a week ago."""
    last_until = db.session.scalar(sa.select(sa.func.max(NewsletterIssue.until_at)))
    return last_until or utcnow() - FIRST_ISSUE_LOOKBACK


def build_issue_content(since_at, until_at):
    """Render the next issue (with per-recipient placeholders), or None with no posts."""
    posts = posts_between(since_at, until_at)
    if not posts:
        return None
    items = [{"title": p.title, "summary": p.summary, "url": post_url(p)} for p in posts]
    site_name = current_app.config["SITE_NAME"]
    subject = f"{site_name} weekly: {posts[0].title}"
    if len(posts) > 1:
        subject += f" (and {len(posts) - 1} more)"
    context = {
        "subject": subject,
        "posts": items,
        "site_name": site_name,
        "site_url": site_url(),
        "unsubscribe_mark": UNSUBSCRIBE_MARK,
    }
    return IssueContent(
        subject=subject[:SUBJECT_LENGTH],
        body_text=render_template(
            "email/newsletter_issue.txt", greeting_mark=GREETING_MARK, **context
        ),
        body_html=render_template(
            "email/newsletter_issue.html", greeting_mark=GREETING_HTML_MARK, **context
        ),
        posts=items,
        since_at=since_at,
        until_at=until_at,
    )


# --- the frozen message -----------------------------------------------------------------

# Stand-ins in the frozen message, swapped per recipient. They are valid where they
# stand (an address, a Message-ID, a URL), so the email package formats them normally.
_TO = b"recipient@placeholder.invalid"
_MESSAGE_ID = b"<message-id@placeholder.invalid>"
_LINK = b"https://placeholder.invalid/unsubscribe"
_GREETING_TEXT = GREETING_MARK.encode()
_GREETING_HTML = GREETING_HTML_MARK.encode()


def freeze_message(subject, body_text, body_html, date):
    """The issue as one MIME message with stand-ins for each reader's details.

    Built once per run with the standard ``email`` package; each recipient's copy is
    then a few byte replacements, which is what lets one process send hundreds of
    messages a second. Both parts are UTF-8 with 8-bit transfer encoding, so the
    stand-ins survive encoding unchanged.
    """
    msg = EmailMessage(policy=email_policy.SMTP)
    msg["Subject"] = subject
    msg["From"] = formataddr(sender())
    msg["To"] = _TO.decode()
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = _MESSAGE_ID.decode()
    msg["List-Id"] = f"{current_app.config['SITE_NAME']} weekly <weekly.{sender_domain()}>"
    msg["List-Unsubscribe"] = f"<{_LINK.decode()}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text = body_text.replace(UNSUBSCRIBE_MARK, _LINK.decode())
    html = body_html.replace(UNSUBSCRIBE_MARK, _LINK.decode())
    msg.set_content(text, subtype="plain", charset="utf-8", cte="8bit")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="8bit")
    return msg.as_bytes()


def personalise(frozen, *, issue_id, delivery_id, email, first_name, subscriber_id):
    """One reader's copy of a frozen message: address, Message-ID, greeting, link."""
    greeting = f"Dear {first_name}," if first_name else "Hello,"
    # Stable per delivery, so a receiver can drop a copy sent twice after a crash.
    message_id = f"<newsletter-{issue_id}-{delivery_id}@{sender_domain()}>"
    return (
        frozen.replace(_TO, email.encode("ascii"))
        .replace(_MESSAGE_ID, message_id.encode())
        .replace(_LINK, unsubscribe_url(subscriber_id).encode())
        .replace(_GREETING_TEXT, greeting.encode())
        .replace(_GREETING_HTML, str(escape(greeting)).encode())
    )


# --- starting an issue ------------------------------------------------------------------


def open_issue():
    """The unfinished issue, if a previous run left one."""
    return db.session.scalar(
        sa.select(NewsletterIssue).where(NewsletterIssue.in_progress.is_not(None))
    )


def start_issue(since_at=None, now=None):
    """Freeze the next issue and record its recipients; returns the issue or None.

    None means there was no new post. Recipients are copied by one INSERT ... SELECT,
    so the list never passes through Python. Flushes; the caller commits.
    """
    now = now or utcnow()
    since_at = since_at or default_since()
    content = build_issue_content(since_at, now)
    if content is None:
        return None
    issue = NewsletterIssue(
        status=IssueStatus.DRAFT,
        in_progress=True,
        subject=content.subject,
        body_text=content.body_text,
        body_html=content.body_html,
        post_count=len(content.posts),
        since_at=since_at,
        until_at=now,
        created_at=now,
    )
    db.session.add(issue)
    db.session.flush()  # the unique in_progress refuses a second open issue here
    # One row per normalised address (already unique, and deduplicated here again).
    first_per_address = (
        sa.select(sa.func.min(Subscriber.id))
        .where(eligible_subscribers_clause(now))
        .group_by(Subscriber.email_normalized)
    )
    recipients = sa.select(
        sa.literal(issue.id),
        Subscriber.id,
        Subscriber.email,
        sa.literal(DeliveryStatus.PENDING.value),
        sa.literal(0),
    ).where(Subscriber.id.in_(first_per_address))
    db.session.execute(
        sa.insert(NewsletterDelivery).from_select(
            ["issue_id", "subscriber_id", "email", "status", "attempts"], recipients
        )
    )
    # Counted, not taken from rowcount: drivers differ on INSERT ... SELECT.
    recipient_count = db.session.scalar(
        sa.select(sa.func.count()).where(NewsletterDelivery.issue_id == issue.id)
    )
    return change_status(issue, IssueStatus.SENDING, recipient_count=recipient_count)
