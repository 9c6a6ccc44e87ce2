"""Staff's list of consultation payments and refunds (issue #20.1): one row per fee paid
or given back on a range of Dr. Brown's days, with the total, which is the dashboard's
"from consultations" figure for the same days. The dashboard's figures link here."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from blueprints.booking.events import record_event
from blueprints.booking.models import BookingEventKind, BookingStatus
from blueprints.core.types import utcnow
from extensions import db
from tests.conftest import ASSISTANT_EMAIL, ASSISTANT_PASSWORD, signed_in_client
from tests.factories import make_booking, make_consultation_type

NEW_YORK = ZoneInfo("America/New_York")  # Dr. Brown's zone in the tests' settings

pytestmark = pytest.mark.usefixtures("each_request_loads_its_own_user")


@pytest.fixture
def consultation(app):
    return make_consultation_type(commit=False)


def _today():
    return utcnow().astimezone(NEW_YORK).date()


def _midnight(day):
    return datetime.combine(day, datetime.min.time(), NEW_YORK).astimezone(UTC)


def _booking(ctype, name, starts_at, status=BookingStatus.CONFIRMED):
    email = name.lower().replace(" ", ".") + "@example.com"
    return make_booking(
        ctype, name=name, email=email, starts_at=starts_at, status=status, commit=False
    )


def _money(booking, cents, at, kind=None):
    """A fee taken (``cents`` > 0) or given back at ``at``, as the webhooks record it."""
    kind = kind or (BookingEventKind.PAID if cents > 0 else BookingEventKind.REFUNDED)
    event = record_event(booking, kind, money_cents=cents)
    event.created_at = at
    db.session.flush()
    return event


@pytest.fixture
def fees(consultation):
    """A payment late yesterday, one early today, a refund today of a booking paid last
    month, and a row that moved no money."""
    today = _midnight(_today())
    month_start = _midnight(_today().replace(day=1))
    soon = today + timedelta(days=3, hours=14)
    ann = _booking(consultation, "Ann Yesterday", soon)
    bea = _booking(consultation, "Bea Today", soon + timedelta(hours=2))
    cleo = _booking(consultation, "Cleo Refunded", soon + timedelta(days=1))
    events = {
        "yesterday": _money(ann, 35_000, today - timedelta(hours=1)),
        "today": _money(bea, 20_000, today + timedelta(minutes=1)),
        "last_month": _money(cleo, 30_000, month_start - timedelta(days=3)),
        "refund_today": _money(cleo, -10_000, today + timedelta(minutes=2)),
    }
    record_event(bea, BookingEventKind.CONFIRMED).created_at = today + timedelta(minutes=1)
    db.session.commit()
    return {key: event.id for key, event in events.items()}


def _link_of(html, label):
    """The address the dashboard's figure labelled ``label`` links to."""
    match = re.search(
        rf'<a href="([^"]+)"><strong class="figure">([^<]*)</strong> {re.escape(label)}</a>',
        html,
    )
    assert match, label
    return match.group(1).replace("&amp;", "&"), match.group(2)


def _rows(html):
    """{event id: the row's text} for each payment or refund listed."""
    rows = re.findall(r'<tr id="money-(\d+)">(.*?)</tr>', html, re.S)
    return {int(id_): re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)) for id_, row in rows}


def _total(html):
    match = re.search(r"Total, after refunds: ([^<]+)</strong>", html)
    assert match
    return match.group(1)


def _month_of(day):
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def test_the_dashboards_consultation_figures_link_to_the_payments_of_their_days(staff_client, fees):
    html = staff_client.get("/admin/").get_data(as_text=True)
    today = _today()
    first, last = _month_of(today)
    url, _ = _link_of(html, "from consultations today")
    assert url == f"/admin/schedule/payments?first_day={today}&last_day={today}"
    url, _ = _link_of(html, "from consultations this month")
    assert url == f"/admin/schedule/payments?first_day={first}&last_day={last}"


def test_todays_list_holds_exactly_todays_payments_and_refunds_totalling_the_figure(
    staff_client, fees
):
    """Yesterday's payment is not on today's list; a refund made today of a booking paid
    last month is, as a negative row; the total is the dashboard's figure."""
    dashboard = staff_client.get("/admin/").get_data(as_text=True)
    url, figure = _link_of(dashboard, "from consultations today")
    response = staff_client.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = _rows(html)
    assert set(rows) == {fees["today"], fees["refund_today"]}
    assert "Bea Today" in rows[fees["today"]] and "+$200.00" in rows[fees["today"]]
    refund = rows[fees["refund_today"]]
    assert "Cleo Refunded" in refund and "\u2212$100.00" in refund and "Refunded" in refund
    assert "Initial consultation" in refund
    assert figure == _total(html) == "$100.00"


def test_this_months_list_holds_the_months_payments_and_refunds_totalling_the_figure(
    staff_client, fees
):
    dashboard = staff_client.get("/admin/").get_data(as_text=True)
    url, figure = _link_of(dashboard, "from consultations this month")
    html = staff_client.get(url).get_data(as_text=True)
    counted = {fees["today"], fees["refund_today"]}
    if _today().day > 1:  # yesterday is in this month too
        counted.add(fees["yesterday"])
    assert set(_rows(html)) == counted
    assert fees["last_month"] not in _rows(html)
    assert figure == _total(html) == ("$450.00" if _today().day > 1 else "$100.00")


def test_each_row_links_to_its_booking_in_the_schedule_and_its_client(staff_client, consultation):
    starts = _midnight(_today()) + timedelta(days=2, hours=15)
    kept = _booking(consultation, "Dora Kept", starts)
    gone = _booking(consultation, "Eve Late", starts + timedelta(hours=3), BookingStatus.EXPIRED)
    now = utcnow()
    _money(kept, 35_000, now)
    _money(gone, 35_000, now)
    _money(gone, -35_000, now, BookingEventKind.LATE_PAYMENT_REFUNDED)
    db.session.commit()
    html = staff_client.get("/admin/schedule/payments").get_data(as_text=True)
    day = starts.astimezone(NEW_YORK).date()
    assert f'href="/admin/schedule?view=day&amp;day={day}#booking-{kept.id}"' in html
    assert 'href="/admin/customers/by-email?email=dora.kept@example.com"' in html
    # A hold that ran out before the payment came is not on the schedule: no link to it.
    assert f"#booking-{gone.id}" not in html
    assert "Not on the schedule (expired)" in html
    assert "Refunded: paid after the time was taken" in html
    # The page opens on this month; its total counts both fees and the refund.
    assert _total(html) == "$350.00"
    first, last = _month_of(_today())
    assert f'value="{first}"' in html and f'value="{last}"' in html


def test_days_with_no_money_say_so_in_plain_words(staff_client, fees):
    response = staff_client.get(
        "/admin/schedule/payments",
        query_string={"first_day": "2031-06-01", "last_day": "2031-06-30"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _rows(html) == {}
    assert "No consultation fees were paid or refunded from 1 June 2031 to 30 June 2031." in html
    assert _total(html) == "$0.00"


@pytest.mark.parametrize(
    "args, message",
    [
        ({"first_day": "2026-13-40"}, "Not a valid date value."),
        ({"first_day": "2026-03-10", "last_day": "2026-03-01"}, "please swap them"),
        ({"last_day": "0001-01-01"}, "between the years 2000 and 2999"),
    ],
)
def test_bad_days_get_the_form_back_with_a_400(staff_client, args, message):
    response = staff_client.get("/admin/schedule/payments", query_string=args)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert 'name="first_day"' in html and 'name="last_day"' in html
    assert 'id="money-' not in html


def test_an_assistant_sees_the_payments_as_she_sees_the_orders(app, fees, assistant):
    """Money pages are for all staff (the orders list is): an assistant's limit is on
    refunding, not on reading."""
    client = signed_in_client(app, ASSISTANT_EMAIL, ASSISTANT_PASSWORD)
    assert client.get("/admin/orders?state=all").status_code == 200
    today = _today()
    response = client.get(
        "/admin/schedule/payments", query_string={"first_day": today, "last_day": today}
    )
    assert response.status_code == 200
    assert set(_rows(response.get_data(as_text=True))) == {fees["today"], fees["refund_today"]}


@pytest.mark.parametrize("url", ["/admin/schedule/payments", "/admin/schedule/payments.csv"])
def test_signed_out_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code in (302, 303)
    assert "/admin/login" in response.headers["Location"]


def test_the_schedule_links_to_the_payments(staff_client):
    html = staff_client.get("/admin/schedule").get_data(as_text=True)
    assert '<a href="/admin/schedule/payments" >Payments and refunds</a>' in html


# The staff user, the page of rows and its count, the total.
PAYMENTS_QUERIES = 4


def test_the_list_runs_the_same_few_queries_however_many_rows(
    staff_client, consultation, count_queries
):
    counts = []
    for number in (1, 30):
        for index in range(number):
            booking = _booking(
                consultation, f"Client {number} {index}", utcnow() + timedelta(days=2)
            )
            _money(booking, 35_000, utcnow())
        db.session.commit()
        db.session.expire_all()
        with count_queries() as counter:
            response = staff_client.get("/admin/schedule/payments")
        assert response.status_code == 200
        assert len(_rows(response.get_data(as_text=True))) == sum((1, 30)[: len(counts) + 1])
        counts.append(counter.count)
    assert counts == [PAYMENTS_QUERIES] * 2, counter.statements


def test_a_day_of_refunds_only_reads_as_money_given_back_on_both_pages(staff_client, consultation):
    booking = _booking(consultation, "Fay Refunded", utcnow() + timedelta(days=2))
    _money(booking, -5_000, utcnow())
    db.session.commit()
    dashboard = staff_client.get("/admin/").get_data(as_text=True)
    url, figure = _link_of(dashboard, "from consultations today")
    html = staff_client.get(url).get_data(as_text=True)
    assert figure == _total(html) == "\u2212$50.00"


def _csv(client, **args):
    response = client.get("/admin/schedule/payments.csv", query_string=args)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    return response, list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_list_downloads_as_a_spreadsheet_that_adds_up_to_its_total(staff_client, fees):
    """The payments of the days asked (every page, as the list shows them), times in
    Dr. Brown's zone, a refund as a negative number: the amounts add up to the figure."""
    today = _today()
    html = staff_client.get(
        "/admin/schedule/payments", query_string={"first_day": today, "last_day": today}
    ).get_data(as_text=True)
    assert (
        f'href="/admin/schedule/payments.csv?first_day={today}&amp;last_day={today}" download'
        in html
    )
    response, rows = _csv(staff_client, first_day=today, last_day=today)
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="consultation-payments-{today}-to-{today}.csv"'
    )
    header, *lines = rows
    assert header[0] == "When (Dr. Brown's time)" and header[-2:] == ["Amount", "What"]
    cleo, bea = lines  # newest first: the refund two minutes after midnight, then the fee
    assert cleo[1:4] == ["Cleo Refunded", "cleo.refunded@example.com", "Initial consultation"]
    assert cleo[-3:] == ["USD", "-100.00", "Refunded"]
    assert bea[0] == f"{today} 00:01" and bea[-3:] == ["USD", "200.00", "Paid"]
    assert sum(float(line[-2]) for line in lines) == 100.00 and _total(html) == "$100.00"


def test_a_client_name_a_spreadsheet_would_run_is_written_as_text(staff_client, consultation):
    booking = _booking(consultation, "Zed", _midnight(_today()) + timedelta(days=2, hours=15))
    booking.name = '=HYPERLINK("https://evil.example","Paid")'
    _money(booking, 35_000, utcnow())
    db.session.commit()
    _, (_, line) = _csv(staff_client)
    assert line[1] == '\'=HYPERLINK("https://evil.example","Paid")'
    assert line[-2] == "350.00"


def test_bad_days_for_the_spreadsheet_get_the_lists_form_back(staff_client):
    response = staff_client.get(
        "/admin/schedule/payments.csv", query_string={"first_day": "2026-13-40"}
    )
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Not a valid date value." in response.get_data(as_text=True)


def test_days_open_at_one_end_download_every_payment_up_to_the_last_day(staff_client, fees):
    today = _today()
    response, (_, *lines) = _csv(staff_client, last_day=today)
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="consultation-payments-start-to-{today}.csv"'
    )
    assert [line[-2] for line in lines] == ["-100.00", "200.00", "350.00", "300.00"]
