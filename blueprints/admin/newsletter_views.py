"""Staff pages for the newsletter: the list, CSV export, next-issue preview, sent issues."""

import csv
import io
from datetime import UTC, datetime, time, timedelta
from email import message_from_bytes
from email import policy as email_policy

import sqlalchemy as sa
from flask import Response, abort, render_template, request, stream_with_context

from blueprints.admin import bp
from blueprints.core.security import staff_required
from blueprints.core.timezones import reader_zone
from blueprints.core.types import parse_id, utcnow
from blueprints.newsletter.models import (
    DeliveryStatus,
    NewsletterDelivery,
    NewsletterIssue,
    Subscriber,
    SubscriberStatus,
)
from blueprints.newsletter.services import (
    build_issue_content,
    default_since,
    freeze_message,
    open_issue,
    personalise,
)
from extensions import db

PER_PAGE = 50
WEEKS_SHOWN = 12


def _status_counts():
    rows = db.session.execute(
        sa.select(Subscriber.status, sa.func.count()).group_by(Subscriber.status)
    ).all()
    counts = {status.value: 0 for status in SubscriberStatus}
    counts.update({status.value: n for status, n in rows})
    now = utcnow()
    counts["paused"] = db.session.scalar(
        sa.select(sa.func.count()).where(
            Subscriber.status == SubscriberStatus.CONFIRMED, Subscriber.paused_until > now
        )
    )
    return counts


def _weeks(zone):
    """(start, end) of each shown week, Monday to Monday in ``zone``, oldest first."""
    today = utcnow().astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    # Dates first, then midnight in the zone: a week with a clock change stays a week.
    mondays = [monday - timedelta(weeks=n) for n in range(WEEKS_SHOWN - 1, -2, -1)]
    bounds = [datetime.combine(d, time.min, tzinfo=zone).astimezone(UTC) for d in mondays]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _counts_by_week():
    """New confirmations and departures for each of the last weeks (Monday to Sunday in
    the reader's zone, so the dates shown are the weeks the reader thinks of)."""
    weeks = _weeks(reader_zone())
    first = weeks[0][0]

    def per_week(column):
        columns = [
            sa.func.coalesce(
                sa.func.sum(sa.case((sa.and_(column >= start, column < end), 1), else_=0)),
                0,
            )
            for start, end in weeks
        ]
        return db.session.execute(sa.select(*columns).where(column >= first)).one()

    confirmed = per_week(Subscriber.confirmed_at)
    left = per_week(Subscriber.unsubscribed_at)
    return [
        {"start": start, "confirmed": confirmed[i], "unsubscribed": left[i]}
        for i, (start, _end) in reversed(list(enumerate(weeks)))
    ]


def _issues_with_counts():
    issues = db.session.scalars(
        sa.select(NewsletterIssue).order_by(NewsletterIssue.id.desc()).limit(52)
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


@bp.get("/newsletter")
@staff_required
def newsletter():
    status = request.args.get("status", "")
    if status and status not in {s.value for s in SubscriberStatus}:
        abort(400)
    # Bounded: a huge page number would overflow the query's OFFSET.
    page = parse_id(request.args.get("page", ""), maximum=100_000) or 1
    query = sa.select(Subscriber).order_by(Subscriber.created_at.desc(), Subscriber.id.desc())
    if status:
        query = query.where(Subscriber.status == SubscriberStatus(status))
    pagination = db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)
    return render_template(
        "admin/newsletter.html",
        counts=_status_counts(),
        weeks=_counts_by_week(),
        issues=_issues_with_counts(),
        subscribers=pagination,
        status=status,
        statuses=[s.value for s in SubscriberStatus],
        now=utcnow(),
    )


def _csv_safe(value):
    # A cell starting with = + - @ is a formula in spreadsheets: neutralise it.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/newsletter/subscribers.csv")
@staff_required
def newsletter_export():
    """Every subscriber as CSV, streamed in chunks so a long list never sits in memory."""
    columns = (
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

    def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([c.key for c in columns])
        result = db.session.execute(
            sa.select(*columns).order_by(Subscriber.id).execution_options(yield_per=1000)
        )
        for row in result:
            writer.writerow(
                [
                    _csv_safe(v.isoformat() if isinstance(v, datetime) else v)
                    for v in (row[0], row[1], row[2], row[3].value, *row[4:])
                ]
            )
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    stamp = utcnow().strftime("%Y-%m-%d")
    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="newsletter-subscribers-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _next_issue_message():
    """What the next ``send-weekly`` would send, for a sample reader, as sent; or None.

    The bytes come from the sender's own functions, then are parsed for display.
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
        email="reader@example.com",
        first_name="Margaret",
        subscriber_id=0,
    )
    message = message_from_bytes(data, policy=email_policy.default)
    preview = {
        "headers": [(k, str(v)) for k, v in message.items()],
        "text": message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n"),
        "html": message.get_body(preferencelist=("html",)).get_content(),
    }
    return preview, {"since": since, "unfinished": unfinished}


@bp.get("/newsletter/preview")
@staff_required
def newsletter_preview():
    message, window = _next_issue_message()
    return render_template(
        "admin/newsletter_preview.html",
        message=message,
        window=window,
        since=default_since(),
    )


@bp.get("/newsletter/preview.html")
@staff_required
def newsletter_preview_html():
    """The HTML part of the next issue, exactly as a reader's mail program gets it."""
    message, _ = _next_issue_message()
    if message is None:
        abort(404)
    return Response(message["html"], mimetype="text/html", headers={"Cache-Control": "no-store"})
