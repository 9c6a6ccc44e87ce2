"""Staff pages: counts, CSV export, the next-issue preview and sent issues."""

import csv
import io
import re
from datetime import timedelta

import pytest

from blueprints.account.models import User
from blueprints.core.types import utcnow
from blueprints.newsletter.models import SubscriberStatus
from blueprints.newsletter.sending import send_weekly
from extensions import db
from tests.conftest import text_part
from tests.factories import make_subscriber
from tests.newsletter.conftest import make_post


def _count(html, label):
    match = re.search(rf"<dt>{label}</dt><dd>(\d+)</dd>", html)
    return int(match.group(1))


def test_anonymous_visitors_are_sent_to_sign_in_and_see_no_addresses(client):
    make_subscriber("private@example.com")
    for path in (
        "/admin/newsletter",
        "/admin/newsletter/subscribers.csv",
        "/admin/newsletter/preview",
    ):
        response = client.get(path)
        assert response.status_code == 302
        assert "/admin/login" in response.location
        assert b"private@example.com" not in response.data


def test_signed_in_non_staff_get_403(app, client):
    user = User(email="helper@example.com", password_hash="x", is_staff=False)
    db.session.add(user)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    assert client.get("/admin/newsletter").status_code == 403


def test_list_page_counts_each_status_and_this_weeks_confirmations(staff_client):
    for i in range(3):
        make_subscriber(f"c{i}@example.com", confirmed_at=utcnow())
    make_subscriber("resting@example.com", paused_until=utcnow() + timedelta(days=3))
    for i in range(2):
        make_subscriber(f"p{i}@example.com", status=SubscriberStatus.PENDING)
    make_subscriber("u@example.com", status=SubscriberStatus.UNSUBSCRIBED, unsubscribed_at=utcnow())

    html = staff_client.get("/admin/newsletter").get_data(as_text=True)
    assert _count(html, "Confirmed") == 4
    assert _count(html, "of whom paused") == 1
    assert _count(html, "Pending") == 2
    assert _count(html, "Unsubscribed") == 1
    # The first week row is this week: three confirmed now, one unsubscribed.
    first_week = re.search(
        r"<tbody>\s*<tr><th scope=\"row\">[^<]+</th><td>(\d+)</td><td>(\d+)</td>", html
    )
    assert first_week.groups() == ("3", "1")
    assert "p0@example.com" in html and "u@example.com" in html

    pending_only = staff_client.get("/admin/newsletter?status=pending").get_data(as_text=True)
    assert "p0@example.com" in pending_only and "c0@example.com" not in pending_only


def test_csv_export_lists_everyone_and_neutralises_formulas(staff_client):
    make_subscriber("a@example.com", first_name="Ann")
    make_subscriber("b@example.com", first_name="=HYPERLINK(1)", status=SubscriberStatus.PENDING)
    response = staff_client.get("/admin/newsletter/subscribers.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["email"], r["status"]) for r in rows] == [
        ("a@example.com", "confirmed"),
        ("b@example.com", "pending"),
    ]
    assert rows[1]["first_name"] == "'=HYPERLINK(1)"


def test_preview_shows_exactly_the_text_that_is_then_sent(staff_client, smtp):
    make_subscriber("margaret@example.com", first_name="Margaret")
    make_post("Bone broth facts", published_at=utcnow() - timedelta(hours=3))
    page = staff_client.get("/admin/newsletter/preview").get_data(as_text=True)
    assert "Bone broth facts" in page
    assert "List-Unsubscribe-Post" in page
    preview_text = re.search(r'<pre class="newsletter-text"[^>]*>(.*?)</pre>', page, re.S).group(1)
    html_part = staff_client.get("/admin/newsletter/preview.html").get_data(as_text=True)
    assert "Bone broth facts" in html_part

    send_weekly()
    sent = text_part(smtp.wait_for(1)[0])
    link = re.compile(r"http://localhost/newsletter/unsubscribe/\S+")
    from html import unescape

    expected = link.sub("LINK", unescape(preview_text)).strip()
    assert link.sub("LINK", sent).replace("\r\n", "\n").strip() == expected


def test_preview_says_when_there_is_nothing_to_send(staff_client):
    page = staff_client.get("/admin/newsletter/preview").get_data(as_text=True)
    assert "will send nothing" in page
    assert staff_client.get("/admin/newsletter/preview.html").status_code == 404


def test_sent_issues_show_delivered_failed_and_bounced_counts(staff_client, smtp):
    make_subscriber("one@example.com")
    make_subscriber("two@example.com")
    make_subscriber("gone@example.com")
    smtp.refuse["gone@example.com"] = "550 no such user"
    make_post("Strong at seventy")
    send_weekly()
    html = staff_client.get("/admin/newsletter").get_data(as_text=True)
    row = re.search(r"Strong at seventy</th>(.*?)</tr>", html, re.S).group(1)
    cells = re.findall(r"<td>(?:<span class=\"status\">)?([^<]*)", row)
    assert cells[0] == "sent"
    # recipients, delivered, failed, bounced, skipped, still to send
    assert cells[2:] == ["3", "2", "0", "1", "0", "0"]


def test_weeks_run_monday_to_monday_in_the_readers_zone_across_a_clock_change(app, monkeypatch):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from blueprints.newsletter import reports

    monkeypatch.setattr(reports, "utcnow", lambda: datetime(2026, 11, 28, 12, tzinfo=UTC))
    zone = ZoneInfo("America/New_York")
    weeks = reports.weeks(zone)
    assert len(weeks) == reports.WEEKS_SHOWN
    for start, end in weeks:
        local = start.astimezone(zone)
        assert (local.weekday(), local.hour, local.minute) == (0, 0, 0)
        assert end.astimezone(zone).weekday() == 0
    assert weeks[-1][0].astimezone(zone).date().isoformat() == "2026-11-23"
    # Clocks went back on Sunday 1 November 2026: that week is one hour longer.
    change = next(w for w in weeks if w[0].astimezone(zone).date().isoformat() == "2026-10-26")
    assert (change[1] - change[0]).total_seconds() == 7 * 24 * 3600 + 3600


def test_a_malformed_since_day_is_a_bad_request(staff_client):
    assert staff_client.get("/admin/newsletter?since=last-monday").status_code == 400


def test_a_since_day_in_year_one_is_a_bad_request_east_of_utc(app, staff_client, monkeypatch):
    """Midnight of 1 January year 1 in Tokyo is before the first instant Python knows:
    the calendar's year check refuses it, as every form's date, rather than a 500."""
    monkeypatch.setitem(app.config, "PRACTITIONER_TIMEZONE", "Asia/Tokyo")
    assert staff_client.get("/admin/newsletter?since=0001-01-01").status_code == 400
    assert staff_client.get("/admin/newsletter?since=9999-12-31").status_code == 400
    assert staff_client.get("/admin/newsletter?since=2026-03-02").status_code == 200


@pytest.mark.parametrize("odd", ["20260302", "2026-W10-1", "2026-03-02T00:00", "2026-3-2x"])
def test_a_since_day_written_other_than_year_month_day_is_a_bad_request(staff_client, odd):
    assert staff_client.get("/admin/newsletter", query_string={"since": odd}).status_code == 400


def test_a_since_day_is_written_as_every_staff_page_writes_a_day(staff_client):
    html = staff_client.get("/admin/newsletter?since=2026-03-02").get_data(as_text=True)
    assert "confirmed on or after 2 March 2026" in html


def test_csv_export_writes_times_in_dr_browns_zone_as_the_orders_csv_does(staff_client):
    from datetime import UTC, datetime

    make_subscriber(
        "a@example.com",
        created_at=datetime(2026, 10, 26, 17, 57, 41, 443125, tzinfo=UTC),
        confirmed_at=datetime(2026, 7, 1, 2, 30, tzinfo=UTC),
    )
    text = staff_client.get("/admin/newsletter/subscribers.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert "+00:00" not in text and "T17:57" not in text
    # 17:57 UTC is 1:57 pm in New York (summer time); 02:30 UTC is the evening before.
    assert rows[0]["created_at (Dr. Brown's time)"] == "2026-10-26 13:57"
    assert rows[0]["confirmed_at (Dr. Brown's time)"] == "2026-06-30 22:30"
    assert rows[0]["unsubscribed_at (Dr. Brown's time)"] == ""
