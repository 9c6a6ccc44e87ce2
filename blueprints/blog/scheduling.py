"""Scheduled posts: staff choose a date and time in Dr. Brown's zone, and
``flask blog publish-due`` (cron, every few minutes) publishes each post whose time has
come. A scheduled post is not published: every public query asks for ``published``
(``posts.PUBLISHED``), so it is shown nowhere before then. Each function flushes and
never commits.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from blueprints.blog.cache_tags import BLOG_TAG, post_page_tag
from blueprints.blog.models import Post, PostStatus
from blueprints.core.audit import record_staff_action
from blueprints.core.cache_tags import invalidate_after_commit
from blueprints.core.errors import UserError
from blueprints.core.states import claim_status
from blueprints.core.timezones import format_when, practitioner_zone, zone_name
from blueprints.core.types import CALENDAR_YEARS, utcnow
from extensions import db

# How far ahead a post may be scheduled: further is a typing slip.
LONGEST_AHEAD = timedelta(days=5 * 366)


class ScheduleError(UserError):
    """The time given cannot be used to schedule a post."""

    status = 400
    default_message = "Choose a date and time in the future."


def publish_time_from_local(local: datetime):
    """The aware UTC moment of ``local``, a wall-clock time (naive) in Dr. Brown's zone.
    Raises ``ScheduleError`` for a time that does not exist there (the clocks go
    forward) or a year out of range."""
    if local.year not in CALENDAR_YEARS:
        raise ScheduleError("Choose a date between now and a few years ahead.")
    zone = practitioner_zone()
    aware = local.replace(tzinfo=zone)
    # A time skipped when the clocks go forward comes back changed from the round trip.
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:
        raise ScheduleError(
            f"{local:%H:%M} does not exist on that day in {zone_name(zone)}: the clocks "
            "change. Choose another time."
        )
    return aware.astimezone(UTC)


def local_publish_time(post):
    """The wall-clock time (naive) in Dr. Brown's zone the editor shows for a scheduled
    post, or None."""
    if post is None or post.publish_at is None:
        return None
    return post.publish_at.astimezone(practitioner_zone()).replace(tzinfo=None, second=0)


def check_publish_time(publish_at, now=None):
    """Refuse (``ScheduleError``) a time that has come already or is absurdly far ahead."""
    now = now or utcnow()
    if publish_at <= now:
        raise ScheduleError(
            f"That time has passed ({format_when(publish_at, practitioner_zone())}). "
            "Choose a time in the future, or use “Save and publish” to publish now."
        )
    if publish_at - now > LONGEST_AHEAD:
        raise ScheduleError("Choose a date within the next five years.")


def schedule_post(post, publish_at, *, actor):
    """Schedule a draft (or move a scheduled post to another time) to go live at
    ``publish_at`` (aware). A post published meanwhile is left as it is. Flushes; True
    if this call scheduled it."""
    check_publish_time(publish_at)
    if not claim_status(
        post,
        PostStatus.SCHEDULED,
        allowed={PostStatus.DRAFT, PostStatus.SCHEDULED},
        publish_at=publish_at,
    ):
        return False
    record_staff_action(
        actor.id,
        "post.schedule",
        "post",
        post.id,
        {"title": post.title, "publish_at": publish_at.isoformat()},
    )
    return True


def due_posts(now=None):
    """The scheduled posts whose time has come, oldest time first."""
    now = now or utcnow()
    return db.session.scalars(
        select(Post)
        .where(Post.status == PostStatus.SCHEDULED, Post.publish_at <= now)
        .order_by(Post.publish_at, Post.id)
    ).all()


def publish_due_posts(now=None):
    """Publish every scheduled post whose time has come, dated at its scheduled time,
    and clear the cached pages that will show it. Safe to run twice at once: each post
    is published by one guarded UPDATE (still scheduled, still due), so only one run
    publishes it. Flushes; returns the posts this call published."""
    now = now or utcnow()
    published = []
    for post in due_posts(now):
        if claim_status(
            post,
            PostStatus.PUBLISHED,
            allowed={PostStatus.SCHEDULED},
            where=(Post.publish_at <= now,),
            published_at=Post.publish_at,
        ):
            invalidate_after_commit(BLOG_TAG, post_page_tag(post.slug))
            published.append(post)
    return published
