"""What the staff newsletter pages show: counts, weeks, issues, the list, the CSV export
and a preview of the next issue. Read only; ``admin/newsletter_views.py`` renders it."""

import csv
import io
from datetime import UTC, datetime, time, timedelta
from email import message_from_bytes
from email import policy as email_policy

import sqlalchemy as sa
from sqlalchemy.orm import defer

from blueprints.core.csv_files import local_time, local_time_header, safe_cell
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import UTCDateTime, utcnow
from blueprints.newsletter.issues import (
    build_issue_content,
    default_since,
    freeze_message,
    open_issue,
    personalise,
)
from blueprints.newsletter.models import (
    DeliveryStatus,
    NewsletterDelivery,
    NewsletterIssue,
    Subscriber,
    SubscriberStatus,
)
from extensions import db

PER_PAGE = 50
WEEKS_SHOWN = 12
ISSUES_SHOWN = 52  # a year of weekly issues
CSV_CHUNK_CHARACTERS = 64_000
CSV_ROWS_PER_FETCH = 1000
SAMPLE_READER = {"email": "reader@example.com", "first_name": "Margaret"}

CSV_COLUMNS = (
    Subscriber.id,
    Subscriber.email,
    Subscriber.first_name,
    Subscriber.status,
    Subscriber.created_at,
    Subscriber.confirmed_at,
    Subscriber.unsubscribed_at,
    Subscriber.bounced_at,
    Subscriber.paused_until,
)


def status_counts():
    """Subscribers per status, and how many confirmed ones are paused now."""
    rows = db.session.execute(
        sa.select(Subscriber.status, sa.func.count()).group_by(Subscriber.status)
    ).all()
    counts = {status.value: 0 for status in SubscriberStatus}
    counts.update({status.value: n for status, n in rows})
    counts["paused"] = db.session.scalar(
        sa.select(sa.func.count()).where(
            Subscriber.status == SubscriberStatus.CONFIRMED, Subscriber.paused_until > utcnow()
        )
    )
    return counts


def weeks(zone):
    """(start, end) of each shown week, Monday to Monday in ``zone``, oldest first."""
    today = utcnow().astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    # Dates first, then midnight in the zone: a week with a clock change stays a week.
    mondays = [monday - timedelta(weeks=n) for n in range(WEEKS_SHOWN - 1, -2, -1)]
    bounds = [datetime.combine(d, time.min, tzinfo=zone).astimezone(UTC) for d in mondays]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def counts_by_week(zone):
    """New confirmations and departures for each of the last weeks (Monday to Sunday in
    ``zone``, the reader's, so the dates shown are the weeks the reader thinks of),
    newest first."""
    shown = weeks(zone)
    first = shown[0][0]

    def per_week(column):
        columns = [
            sa.func.coalesce(
                sa.func.sum(sa.case((sa.and_(column >= start, column < end), 1), else_=0)),
                0,
            )
            for start, end in shown
        ]
        return db.session.execute(sa.select(*columns).where(column >= first)).one()

    confirmed = per_week(Subscriber.confirmed_at)
    left = per_week(Subscriber.unsubscribed_at)
    return [
        {"start": start, "confirmed": confirmed[i], "unsubscribed": left[i]}
        for i, (start, _end) in reversed(list(enumerate(shown)))
    ]


def issues_with_counts(limit=ISSUES_SHOWN):
    """The latest ``limit`` issues, newest first, each with its deliveries counted per
    status (two queries)."""
    issues = db.session.scalars(
        sa.select(NewsletterIssue)
        # The frozen bodies are the issue's bulk and neither page shows them.
        .options(defer(NewsletterIssue.body_text), defer(NewsletterIssue.body_html))
        .order_by(NewsletterIssue.id.desc())
        .limit(limit)
    ).all()
    if not issues:
        return []
    rows = db.session.execute(
        sa.select(NewsletterDelivery.issue_id, NewsletterDelivery.status, sa.func.count())
        .where(NewsletterDelivery.issue_id.in_([i.id for i in issues]))
        .group_by(NewsletterDelivery.issue_id, NewsletterDelivery.status)
    ).all()
    counts = {i.id: {s.value: 0 for s in DeliveryStatus} for i in issues}
    for issue_id, status, n in rows:
        counts[issue_id][status.value] = n
    return [(issue, counts[issue.id]) for issue in issues]


def last_issue_with_counts():
    """The newest issue and its deliveries per status, or ``(None, None)``."""
    latest = issues_with_counts(limit=1)
    return latest[0] if latest else (None, None)


def list_figures(week_start):
    """The list's size (confirmed subscribers, paused ones included) and how many
    confirmed since ``week_start`` (as the newsletter page's weeks count them), in one
    query."""
    confirmed = Subscriber.status == SubscriberStatus.CONFIRMED
    new = Subscriber.confirmed_at >= week_start
    size, new_this_week = db.session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(sa.case((confirmed, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((new, 1), else_=0)), 0),
        )
    ).one()
    return {"list_size": int(size), "new_this_week": int(new_this_week)}


def subscribers_page(status, page, confirmed_since=None):
    """One page of subscribers, newest first; ``status`` (a ``SubscriberStatus`` or
    None) filters them, and ``confirmed_since`` (a UTC instant or None) keeps those who
    confirmed from then on, whatever they did after (as ``list_figures`` counts them)."""
    query = sa.select(Subscriber).order_by(Subscriber.created_at.desc(), Subscriber.id.desc())
    if status:
        query = query.where(Subscriber.status == status)
    if confirmed_since:
        query = query.where(Subscriber.confirmed_at >= confirmed_since)
    return db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)


def subscribers_csv():
    """Every subscriber as CSV text, in chunks, so a long list never sits in memory;
    times in Dr. Brown's zone, as the orders CSV writes them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    zone = practitioner_zone()
    writer.writerow(
        [
            local_time_header(c.key) if isinstance(c.type, UTCDateTime) else c.key
            for c in CSV_COLUMNS
        ]
    )
    result = db.session.execute(
        sa.select(*CSV_COLUMNS)
        .order_by(Subscriber.id)
        .execution_options(yield_per=CSV_ROWS_PER_FETCH)
    )
    for row in result:
        writer.writerow(
            [
                safe_cell(local_time(v, zone) if isinstance(v, datetime) else v)
                for v in (row[0], row[1], row[2], row[3].value, *row[4:])
            ]
        )
        if buffer.tell() > CSV_CHUNK_CHARACTERS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def next_issue_preview():
    """What the next ``send-weekly`` would send, for a sample reader, as sent; or
    ``(None, None)`` when it would send nothing.

    The bytes come from the sender's own functions, then are parsed for display. Returns
    ``(message, window)``: the headers, text and HTML parts, and where the issue starts
    (``since``) with the unfinished issue it completes, if any.
    """
    unfinished = open_issue()
    if unfinished is not None:
        subject, text, html = unfinished.subject, unfinished.body_text, unfinished.body_html
        since, date = unfinished.since_at, unfinished.created_at
    else:
        content = build_issue_content(default_since(), utcnow())
        if content is None:
            return None, None
        subject, text, html = content.subject, content.body_text, content.body_html
        since, date = content.since_at, content.until_at
    data = personalise(
        freeze_message(subject, text, html, date),
        issue_id=unfinished.id if unfinished else 0,
        delivery_id=0,
        subscriber_id=0,
        **SAMPLE_READER,
    )
    message = message_from_bytes(data, policy=email_policy.default)
    preview = {
        "headers": [(k, str(v)) for k, v in message.items()],
        "text": message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n"),
        "html": message.get_body(preferencelist=("html",)).get_content(),
    }
    return preview, {"since": since, "unfinished": unfinished}
