"""The dashboard: the business at a glance. Each figure is checked against rows made
here, at the edges of Dr. Brown's day (New York), and the page runs a fixed number of
queries however much there is to count."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from blueprints.admin.dashboard import business_periods
from blueprints.blog.models import PostStatus
from blueprints.booking import services as booking_services
from blueprints.booking.events import record_event
from blueprints.booking.models import (
    BookingEventKind,
    BookingStatus,
)
from blueprints.core.types import utcnow
from blueprints.newsletter import reports as newsletter_reports
from blueprints.newsletter.models import (
    DeliveryStatus,
    IssueStatus,
    NewsletterDelivery,
    NewsletterIssue,
    SubscriberStatus,
)
from blueprints.shop import reports as shop_reports
from blueprints.shop.models import Order, OrderStatus, Refund
from extensions import db
from tests.factories import make_booking, make_consultation_type, make_subscriber

NEW_YORK = ZoneInfo("America/New_York")
# 11:30 pm on Monday 9 March 2026 in New York (daylight time began on the 8th).
LATE_MONDAY = datetime(2026, 3, 10, 3, 30, tzinfo=UTC)


def _local(*args):
    return datetime(*args, tzinfo=NEW_YORK).astimezone(UTC)


_counter = {"n": 0}


def _next():
    _counter["n"] += 1
    return _counter["n"]


def _order(total, paid_at, currency="usd", status=OrderStatus.PAID, **kw):
    order = Order(
        status=status,
        currency=currency,
        total_cents=total,
        email=f"buyer{_next()}@example.com",
        paid_at=paid_at,
        created_at=(paid_at or utcnow()) - timedelta(minutes=5),
        **kw,
    )
    db.session.add(order)
    db.session.flush()
    return order


def _refund(order, amount, made_at):
    order.refunded_cents += amount
    db.session.add(
        Refund(
            order_id=order.id,
            stripe_refund_id=f"re_{_next()}",
            amount_cents=amount,
            currency=order.currency,
            created_at=made_at,
        )
    )
    db.session.flush()


@pytest.fixture
def consultation(app):
    return make_consultation_type(commit=False)


def _booking(ctype, starts_at, status=BookingStatus.CONFIRMED):
    return make_booking(ctype, starts_at=starts_at, status=status, commit=False)


def _fee(booking, cents, at):
    """A consultation fee taken (``cents`` > 0) or given back, as the webhooks record it."""
    kind = BookingEventKind.PAID if cents > 0 else BookingEventKind.REFUNDED
    record_event(booking, kind, money_cents=cents).created_at = at
    db.session.flush()


def _subscriber(status, confirmed_at=None):
    email = f"reader{_next()}@example.com"
    return make_subscriber(email, status, confirmed_at=confirmed_at, commit=False)


def _issue(subject, created_at, deliveries):
    issue = NewsletterIssue(
        subject=subject,
        status=IssueStatus.SENDING,
        body_text="Text",
        body_html="<p>Text</p>",
        recipient_count=len(deliveries),
        since_at=created_at - timedelta(days=7),
        until_at=created_at,
        created_at=created_at,
        finished_at=created_at,
    )
    db.session.add(issue)
    db.session.flush()
    # Unfinished on insert (the column's default), then sent: as the sender leaves it.
    issue.status, issue.in_progress = IssueStatus.SENT, None
    db.session.flush()
    for status in deliveries:
        subscriber = _subscriber(SubscriberStatus.CONFIRMED, created_at - timedelta(days=30))
        db.session.add(
            NewsletterDelivery(
                issue_id=issue.id,
                subscriber_id=subscriber.id,
                email=subscriber.email,
                status=status,
            )
        )
    db.session.flush()
    return issue


# --- the periods ------------------------------------------------------------------------------


def test_today_is_dr_browns_calendar_day_not_utcs():
    span = business_periods(LATE_MONDAY, NEW_YORK)
    # It is already Tuesday in UTC, still Monday the 9th in New York.
    assert span.today_start == _local(2026, 3, 9)
    assert span.today_end == _local(2026, 3, 10)
    assert span.week_start == _local(2026, 3, 9)  # a Monday
    assert span.month_start == _local(2026, 3, 1)
    assert span.month_end == _local(2026, 4, 1)
    assert span.week_ahead_end == _local(2026, 3, 17)


def test_the_day_the_clocks_change_is_one_calendar_day_of_23_hours():
    span = business_periods(_local(2026, 3, 8, 12), NEW_YORK)
    assert span.today_end - span.today_start == timedelta(hours=23)
    # Midnight stays midnight across the change: 5:00 UTC in winter, 4:00 in summer.
    assert (span.today_start.hour, span.today_end.hour) == (5, 4)


# --- the figures, each against its own rows -------------------------------------------------


def test_sales_are_net_of_refunds_made_in_the_period_per_currency(app):
    span = business_periods(LATE_MONDAY, NEW_YORK)
    periods = [(span.today_start, span.today_end), (span.month_start, span.month_end)]
    _order(10_000, _local(2026, 3, 9, 0, 5))  # just after midnight: today
    _order(4_000, _local(2026, 3, 9, 23, 59))  # a minute before midnight: today
    _order(7_000, _local(2026, 3, 8, 23, 55))  # just before today: this month only
    _order(2_500, _local(2026, 3, 9, 10), currency="gbp")
    _order(99_000, None, status=OrderStatus.PENDING)  # never paid: no sale
    _order(8_000, _local(2026, 3, 10, 0, 1))  # tomorrow in New York: not today
    february = _order(6_000, _local(2026, 2, 27, 12), status=OrderStatus.PARTIALLY_REFUNDED)
    _refund(february, 1_500, _local(2026, 3, 9, 9))  # today's refund of an old order
    earlier = _order(3_000, _local(2026, 3, 2, 9), status=OrderStatus.REFUNDED)
    _refund(earlier, 3_000, _local(2026, 3, 3, 9))  # this month, not today

    today, month = shop_reports.net_sales(periods)

    assert today == {"usd": 10_000 + 4_000 - 1_500, "gbp": 2_500}
    month_usd = 10_000 + 4_000 + 7_000 + 8_000 + 3_000 - 1_500 - 3_000
    assert month == {"usd": month_usd, "gbp": 2_500}


def test_orders_to_ship_are_paid_unshipped_orders_with_something_physical(app):
    now = utcnow()
    _order(5_000, now, needs_shipping=True)
    _order(5_000, now, needs_shipping=True, status=OrderStatus.PARTIALLY_REFUNDED)
    _order(5_000, now, needs_shipping=True, status=OrderStatus.SHIPPED, shipped_at=now)
    _order(5_000, now, needs_shipping=True, status=OrderStatus.REFUNDED)
    _order(5_000, now, needs_shipping=False, status=OrderStatus.FULFILLED)
    _order(5_000, None, needs_shipping=True, status=OrderStatus.PENDING)
    assert shop_reports.orders_to_ship_count() == 2


def test_consultations_today_and_in_the_seven_days_after(consultation):
    span = business_periods(LATE_MONDAY, NEW_YORK)
    _booking(consultation, _local(2026, 3, 9, 0, 0))  # today, first minute
    _booking(consultation, _local(2026, 3, 9, 23, 0))  # today, late
    _booking(consultation, _local(2026, 3, 9, 9), BookingStatus.COMPLETED)  # today, done
    _booking(consultation, _local(2026, 3, 9, 11), BookingStatus.CANCELLED)  # not counted
    _booking(consultation, _local(2026, 3, 8, 23, 0))  # yesterday
    _booking(consultation, _local(2026, 3, 10, 0, 0))  # tomorrow: the next 7 days
    _booking(consultation, _local(2026, 3, 16, 23, 0))  # 7th day after today: counted
    _booking(consultation, _local(2026, 3, 17, 0, 0))  # 8th day: not counted
    _booking(consultation, _local(2026, 3, 12, 9), BookingStatus.EXPIRED)  # never booked

    counts = booking_services.consultation_counts(
        span.today_start, span.today_end, span.week_ahead_end
    )
    assert counts == {"today": 3, "next_days": 2}


def test_list_size_and_this_weeks_new_subscribers(app):
    span = business_periods(LATE_MONDAY, NEW_YORK)
    _subscriber(SubscriberStatus.CONFIRMED, _local(2026, 3, 9, 0, 1))  # new this week
    _subscriber(SubscriberStatus.CONFIRMED, _local(2026, 3, 8, 23, 59))  # last week
    _subscriber(SubscriberStatus.CONFIRMED, _local(2026, 1, 5))
    left = _subscriber(SubscriberStatus.UNSUBSCRIBED, _local(2026, 3, 9, 8))  # came and went
    left.unsubscribed_at = _local(2026, 3, 9, 9)
    _subscriber(SubscriberStatus.PENDING)  # not confirmed: not on the list

    figures = newsletter_reports.list_figures(span.week_start)
    assert figures == {"list_size": 3, "new_this_week": 2}


def test_last_issue_is_the_newest_with_its_deliveries_counted(app):
    _issue("Older news", _local(2026, 2, 23, 7), [DeliveryStatus.SENT])
    _issue(
        "Vitamin K2 this week",
        _local(2026, 3, 2, 7),
        [DeliveryStatus.SENT] * 3 + [DeliveryStatus.FAILED, DeliveryStatus.BOUNCED],
    )
    issue, counts = newsletter_reports.last_issue_with_counts()
    assert issue.subject == "Vitamin K2 this week"
    assert (counts["sent"], counts["failed"], counts["bounced"], counts["pending"]) == (3, 1, 1, 0)


def test_no_issue_yet_gives_none(app):
    assert newsletter_reports.last_issue_with_counts() == (None, None)


# --- the page ---------------------------------------------------------------------------------


def _seed_business(ctype):
    """A little of everything, dated relative to now (the page reads the real clock)."""
    now = utcnow()
    zone = NEW_YORK
    today_noon = datetime.combine(now.astimezone(zone).date(), datetime.min.time(), zone)
    # Noon today in New York, or just after now if noon is still ahead: always today.
    paid = min(now, today_noon.astimezone(UTC) + timedelta(hours=12))
    _order(12_345, paid, needs_shipping=True)
    refunded = _order(5_000, paid, status=OrderStatus.PARTIALLY_REFUNDED)
    _refund(refunded, 1_000, paid)
    _booking(ctype, today_noon.astimezone(UTC) + timedelta(hours=12))
    later = _booking(ctype, today_noon.astimezone(UTC) + timedelta(days=3, hours=10))
    _fee(later, 35_000, paid)
    _fee(later, -5_000, paid)  # part of it given back
    _subscriber(SubscriberStatus.CONFIRMED, now - timedelta(minutes=1))
    _issue("Calcium myths", now - timedelta(days=2), [DeliveryStatus.SENT] * 2)
    db.session.commit()


def _figure(html, value, label):
    return f'<strong class="figure">{value}</strong> {label}' in html


def test_dashboard_shows_each_figure_linking_to_its_list(staff_client, consultation):
    _seed_business(consultation)
    html = staff_client.get("/admin/").get_data(as_text=True)

    # The shop's $123.45 + $50.00 - $10.00 and a $350.00 fee less $50.00 given back.
    for when in ("today", "this month"):
        assert _figure(html, "$463.45", f"Revenue {when}, after refunds")
        assert _figure(html, "$163.45", f"from the shop {when}")
        assert _figure(html, "$300.00", f"from consultations {when}")
    assert _figure(html, 1, "Order to ship")
    assert _figure(html, 1, "Consultation today")
    assert _figure(html, 1, "Consultation in the next 7 days")
    assert _figure(html, 3, "Subscribers on the list")  # the issue's two readers, and one new
    assert _figure(html, 1, "New subscriber this week")
    assert _figure(html, 2, "Last issue: “Calcium myths”, recipients")
    assert _figure(html, 0, "Comments waiting for moderation")
    today = utcnow().astimezone(NEW_YORK).date()
    first, last = _month_of(today)
    monday = today - timedelta(days=today.weekday())
    for label, url in (
        ("from the shop today", _paid_orders(today, today)),
        ("from the shop this month", _paid_orders(first, last)),
        ("from consultations today", _fee_payments(today, today)),
        ("from consultations this month", _fee_payments(first, last)),
        ("Order to ship", "/admin/orders?state=to_ship"),
        ("Consultation today", "/admin/schedule?view=day&going_ahead=1"),
        ("Consultation in the next 7 days", "/admin/schedule?view=upcoming&days=7"),
        ("New subscriber this week", f"/admin/newsletter?since={monday}#subscribers"),
        ("Subscribers on the list", "/admin/newsletter?status=confirmed"),
        ("Last issue: “Calcium myths”, recipients", "/admin/newsletter#issues"),
        ("Comments waiting for moderation", "/admin/comments?status=pending"),
    ):
        assert _link_of(html, label) == url, label


def test_a_figure_of_one_reads_in_the_singular_and_others_in_the_plural(
    staff_client, consultation, make_post, make_comment
):
    """ "1 Orders to ship", "1 Scheduled posts", "1 New subscribers this week": wrong."""
    _seed_business(consultation)
    scheduled = make_post(status=PostStatus.SCHEDULED)
    scheduled.publish_at = utcnow() + timedelta(days=2)
    db.session.commit()
    make_comment(make_post(status=PostStatus.PUBLISHED))  # one waiting, one published post
    make_post()
    make_post()  # two drafts
    html = staff_client.get("/admin/").get_data(as_text=True)
    for label in (
        "Order to ship",
        "Consultation today",
        "Consultation in the next 7 days",
        "New subscriber this week",
        "Scheduled post",
        "Published post",
        "Comment waiting for moderation",
    ):
        assert _figure(html, 1, label), label
    assert _figure(html, 2, "Draft posts")
    assert _figure(html, 3, "Subscribers on the list")
    assert _figure(html, 2, "Last issue: “Calcium myths”, recipients")
    for wrong in ("Orders to ship", "Scheduled posts", "New subscribers this week"):
        assert _figure(html, 1, wrong) is False, wrong


def _month_of(day):
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _paid_orders(first, last):
    """The order list of orders paid or refunded from ``first`` to ``last`` (Dr. Brown's days)."""
    return f"/admin/orders?state=all&by=payment&first_day={first}&last_day={last}"


def _fee_payments(first, last):
    """The consultation fees paid or refunded from ``first`` to ``last`` (Dr. Brown's days)."""
    return f"/admin/schedule/payments?first_day={first}&last_day={last}"


def _link_of(html, label):
    """The address the dashboard's figure labelled ``label`` links to."""
    match = re.search(
        rf'<a href="([^"]+)"><strong class="figure">[^<]*</strong> {re.escape(label)}</a>', html
    )
    assert match, label
    return match.group(1).replace("&amp;", "&")


def _listed_orders(client, url):
    html = client.get(url).get_data(as_text=True)
    return set(map(int, re.findall(r'<a href="/admin/orders/(\d+)">', html)))


def test_each_revenue_link_lists_the_orders_its_figure_counts(staff_client):
    """Following "from the shop today" or "this month" lists the orders whose payment or
    refund that figure counts, and no other: not last month's, not one never paid."""
    now = utcnow()
    today = now.astimezone(NEW_YORK).date()
    midnight = datetime.combine(today, datetime.min.time(), NEW_YORK).astimezone(UTC)
    paid_today = _order(12_345, min(now, midnight + timedelta(hours=12)))
    last_month = _order(7_000, midnight.replace(day=1) - timedelta(days=3))
    refunded_today = _order(6_000, last_month.paid_at, status=OrderStatus.PARTIALLY_REFUNDED)
    _refund(refunded_today, 1_500, paid_today.paid_at)
    never_paid = _order(9_900, None, status=OrderStatus.PENDING)
    db.session.commit()

    html = staff_client.get("/admin/").get_data(as_text=True)
    counted = {paid_today.id, refunded_today.id}
    for label in ("from the shop today", "from the shop this month"):
        listed = _listed_orders(staff_client, _link_of(html, label))
        assert listed == counted, label
        assert last_month.id not in listed and never_paid.id not in listed
    # The order list says what the days mean and offers every order.
    page = staff_client.get(_link_of(html, "from the shop today")).get_data(as_text=True)
    assert "paid or refunded" in page


def _listed_bookings(client, url):
    html = client.get(url).get_data(as_text=True)
    return html, set(
        map(int, re.findall(r'<article class="card booking-card" id="booking-(\d+)"', html))
    )


def test_each_consultation_figure_links_to_a_list_of_exactly_the_bookings_it_counts(
    staff_client, consultation
):
    """ "3 Consultations in the next 7 days" opened a list of 5: a cancelled one and one
    beyond the seven days were listed too. Each figure's list holds the rows it counts."""
    now = utcnow()
    today = now.astimezone(NEW_YORK).date()

    def at(days, hour, status=BookingStatus.CONFIRMED):
        local = datetime.combine(today + timedelta(days=days), datetime.min.time(), NEW_YORK)
        return _booking(consultation, (local + timedelta(hours=hour)).astimezone(UTC), status)

    later_today = at(0, 23.9)  # today (just before midnight): always ahead of now
    cancelled_today = at(0, 23.8, BookingStatus.CANCELLED)
    tomorrow = at(1, 9)
    done = at(2, 9, BookingStatus.COMPLETED)
    seventh = at(7, 23)
    cancelled = at(3, 9, BookingStatus.CANCELLED)
    held = at(4, 9)
    held.status, held.hold_expires_at = BookingStatus.HELD, now + timedelta(minutes=20)
    eighth = at(8, 9)
    db.session.commit()

    html = staff_client.get("/admin/").get_data(as_text=True)
    expected = {
        "Consultation today": {later_today.id},
        "Consultations in the next 7 days": {tomorrow.id, done.id, seventh.id},
    }
    for label, counted in expected.items():
        assert _figure(html, len(counted), label), label
        page, listed = _listed_bookings(staff_client, _link_of(html, label))
        assert listed == counted, label
        assert not listed & {cancelled_today.id, cancelled.id, held.id, eighth.id}
        # The list says in words what it holds, and offers every booking.
        assert "Cancelled bookings and unpaid holds are not listed" in page, label
    week = staff_client.get(_link_of(html, "Consultations in the next 7 days")).text
    assert "Consultations going ahead in the 7 days after today" in week


def test_new_subscribers_link_lists_exactly_this_weeks_confirmations(staff_client):
    now = utcnow()
    today = now.astimezone(NEW_YORK).date()
    monday = datetime.combine(
        today - timedelta(days=today.weekday()), datetime.min.time(), NEW_YORK
    ).astimezone(UTC)
    new = _subscriber(SubscriberStatus.CONFIRMED, now - timedelta(minutes=1))
    came_and_went = _subscriber(SubscriberStatus.UNSUBSCRIBED, monday + timedelta(minutes=1))
    came_and_went.unsubscribed_at = now
    last_week = _subscriber(SubscriberStatus.CONFIRMED, monday - timedelta(minutes=1))
    waiting = _subscriber(SubscriberStatus.PENDING)
    db.session.commit()

    html = staff_client.get("/admin/").get_data(as_text=True)
    assert _figure(html, 2, "New subscribers this week")
    listed = staff_client.get(_link_of(html, "New subscribers this week")).get_data(as_text=True)
    assert new.email in listed and came_and_went.email in listed
    assert last_week.email not in listed and waiting.email not in listed
    # The list says what it is filtered by, with a way back to everyone.
    assert "confirmed on or after" in listed
    assert 'href="/admin/newsletter#subscribers"' in listed


def test_dashboard_with_nothing_yet_shows_zero_sales(staff_client):
    html = staff_client.get("/admin/").get_data(as_text=True)
    assert _figure(html, "$0.00", "Revenue today, after refunds")
    assert _figure(html, "$0.00", "from consultations today")
    assert "Last issue" not in html


# The staff user, then blog 1, revenue 3 (orders, shop refunds, consultation fees), shop 1,
# consultations 1, newsletter 3 (the list, the last issue, its deliveries).
DASHBOARD_QUERIES = 10


def test_dashboard_runs_the_same_few_queries_however_much_there_is(
    staff_client, consultation, count_queries
):
    _seed_business(consultation)
    counts = []
    for _ in range(2):
        db.session.expire_all()  # nothing carried over from the test's own session
        with count_queries() as counter:
            assert staff_client.get("/admin/").status_code == 200
        counts.append(counter.count)
        for _ in range(5):
            _seed_business(consultation)
    assert counts == [DASHBOARD_QUERIES] * 2, counter.statements


def _net_of_listed(client, url, currency="USD"):
    """The "Net" total the order list at ``url`` shows for ``currency``."""
    html = client.get(url).get_data(as_text=True)
    row = re.search(rf'<tr><th scope="row">{currency}</th>(.*?)</tr>', html, re.S)
    assert row, html
    return re.findall(r"<td>([^<]*)</td>", row.group(1))[-1]


def test_the_shop_figures_list_totals_the_money_moved_on_its_days_as_the_figure(staff_client):
    """A refund today of an order paid 40 days ago, and a $200 order paid today: the
    dashboard's "$150.00 from the shop today" links to a list whose net total is
    $150.00 too, not the old order's whole price less its refund."""
    now = utcnow()
    today = now.astimezone(NEW_YORK).date()
    midnight = datetime.combine(today, datetime.min.time(), NEW_YORK).astimezone(UTC)
    at = min(now, midnight + timedelta(hours=12))
    old = _order(30_000, now - timedelta(days=40), status=OrderStatus.PARTIALLY_REFUNDED)
    _refund(old, 5_000, at)
    _order(20_000, at)
    db.session.commit()

    html = staff_client.get("/admin/").get_data(as_text=True)
    assert _figure(html, "$150.00", "from the shop today")
    assert _net_of_listed(staff_client, _link_of(html, "from the shop today")) == "$150.00"
    this_month = _link_of(html, "from the shop this month")
    month_figure = re.search(
        r'<strong class="figure">([^<]*)</strong> from the shop this month', html
    ).group(1)
    assert _net_of_listed(staff_client, this_month) == month_figure
