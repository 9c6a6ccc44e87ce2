"""Staff pages for the newsletter: the list, CSV export, next-issue preview, sent issues.

Parsing and rendering only; what they show comes from ``newsletter/reports.py``.
"""

from flask import Response, abort, render_template, request, stream_with_context

from blueprints.admin.blueprint import bp
from blueprints.core.csv_files import csv_download
from blueprints.core.security import staff_required
from blueprints.core.timezones import day_start, format_date, reader_zone
from blueprints.core.types import parse_id, utcnow
from blueprints.newsletter import reports
from blueprints.newsletter.forms import SinceForm
from blueprints.newsletter.issues import default_since
from blueprints.newsletter.models import SubscriberStatus

MAX_PAGE = 100_000  # a huge page number would overflow the query's OFFSET


def _since_arg():
    """``since=YYYY-MM-DD`` (a day in Dr. Brown's calendar, as the dashboard counts
    "this week"), or None; a malformed day, or one outside the calendar's years, is a
    bad request."""
    form = SinceForm(request.args)
    if not form.validate():
        abort(400)
    return form.since.data


@bp.get("/newsletter")
@staff_required
def newsletter():
    status = request.args.get("status", "")
    if status and status not in {s.value for s in SubscriberStatus}:
        abort(400)
    since = _since_arg()
    page = parse_id(request.args.get("page", ""), maximum=MAX_PAGE) or 1
    confirmed_since = day_start(since) if since else None
    return render_template(
        "admin/newsletter.html",
        counts=reports.status_counts(),
        weeks=reports.counts_by_week(reader_zone()),
        issues=reports.issues_with_counts(),
        subscribers=reports.subscribers_page(
            SubscriberStatus(status) if status else None, page, confirmed_since
        ),
        status=status,
        since=since,
        since_words=format_date(since) if since else None,
        statuses=[s.value for s in SubscriberStatus],
        now=utcnow(),
    )


@bp.get("/newsletter/subscribers.csv")
@staff_required
def newsletter_export():
    """Every subscriber as CSV, streamed in chunks so a long list never sits in memory."""
    stamp = utcnow().strftime("%Y-%m-%d")
    return csv_download(
        stream_with_context(reports.subscribers_csv()), f"newsletter-subscribers-{stamp}.csv"
    )


@bp.get("/newsletter/preview")
@staff_required
def newsletter_preview():
    message, window = reports.next_issue_preview()
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
    message, _ = reports.next_issue_preview()
    if message is None:
        abort(404)
    return Response(message["html"], mimetype="text/html", headers={"Cache-Control": "no-store"})
