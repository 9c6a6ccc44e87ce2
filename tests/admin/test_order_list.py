"""Staff's order list (issue #20.5): search by number, email or name; a range of days in
Dr. Brown's zone; the totals of what is listed, per currency; the CSV file (safe to open
in a spreadsheet); each order linked to its customer; staff only."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from blueprints.account.models import User
from blueprints.account.services import hash_password
from blueprints.core.types import utcnow
from blueprints.shop.models import OrderStatus
from extensions import db
from tests.account.conftest import sign_in_customer
from tests.factories import make_order
from tests.shop.conftest import make_vest


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def vest(app):
    return make_vest()


def _page(client, **args):
    response = client.get("/admin/orders", query_string=args)
    return response, response.get_data(as_text=True)


def _csv(client, **args):
    response = client.get("/admin/orders.csv", query_string=args)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


# --- who may see it -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/admin/orders", "/admin/orders.csv", "/admin/orders?q=ann", "/admin/customers"]
)
def test_order_and_customer_lists_send_visitors_and_customers_to_the_staff_sign_in(client, url):
    assert "/admin/login" in client.get(url).headers.get("Location", "")
    sign_in_customer(client, "reader@example.com")
    response = client.get(url)
    assert response.status_code in (302, 303)
    assert "/admin/login" in response.headers["Location"]


@pytest.mark.parametrize("url", ["/admin/orders", "/admin/orders.csv", "/admin/customers"])
def test_order_and_customer_lists_refuse_a_signed_in_user_who_is_not_staff(app, client, url):
    user = User(
        email="helper@example.com",
        password_hash=hash_password("a long enough password"),
        is_staff=False,
    )
    db.session.add(user)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    assert client.get(url).status_code == 403


# --- search ---------------------------------------------------------------------------


def test_search_finds_an_order_by_its_number_written_any_way(staff_client, vest):
    first = make_order(vest, email="ann@example.com")
    second = make_order(vest, email="bea@example.com", name="Bea Other")
    for typed in (second.reference, second.reference.lower(), str(second.id), f"#{second.id}"):
        _, page = _page(staff_client, q=typed)
        assert second.reference in page, typed
        assert first.reference not in page, typed


def test_search_finds_orders_by_part_of_the_email_or_name_in_any_case(staff_client, vest):
    ann = make_order(vest, email="Ann.Smith@Example.com", name="Ann Smith")
    bea = make_order(vest, email="bea@example.org", name="Beatrice Jones")
    _, by_email = _page(staff_client, q="ann.smith@example")
    _, by_name = _page(staff_client, q="JONES")
    assert ann.reference in by_email and bea.reference not in by_email
    assert bea.reference in by_name and ann.reference not in by_name


def test_searching_looks_through_every_state_unless_one_is_chosen(staff_client, vest):
    shipped = make_order(vest, email="ann@example.com", status=OrderStatus.SHIPPED)
    _, found = _page(staff_client, q="ann@")
    _, to_ship_only = _page(staff_client, q="ann@", state="to_ship")
    assert shipped.reference in found
    assert shipped.reference not in to_ship_only


def test_percent_and_underscore_typed_are_matched_as_written(staff_client, vest):
    plain = make_order(vest, email="ann@example.com", name="Ann")
    odd = make_order(vest, email="odd_one@example.com", name="100% Bea")
    _, percent = _page(staff_client, q="100%")
    _, underscore = _page(staff_client, q="d_o")
    assert odd.reference in percent and plain.reference not in percent
    assert odd.reference in underscore and plain.reference not in underscore


def test_a_search_too_long_or_with_control_characters_is_refused_with_the_form_back(
    staff_client, vest
):
    response, page = _page(staff_client, q="x" * 201)
    assert response.status_code == 400
    assert "at most 200 characters" in page
    response, page = _page(staff_client, q="ann\x00")
    assert response.status_code == 400
    assert "without special characters" in page


# --- the range of days, in Dr. Brown's zone (America/New_York) -------------------------


def test_days_are_dr_browns_days_across_the_spring_clock_change(staff_client, vest):
    # New York moved to summer time on 8 March 2026: midnight is 04:00 UTC from then on.
    late_on_the_9th = make_order(vest, created_at=utc(2026, 3, 10, 3, 59), email="a@example.com")
    early_on_the_10th = make_order(vest, created_at=utc(2026, 3, 10, 4, 0), email="b@example.com")
    _, ninth = _page(staff_client, first_day="2026-03-09", last_day="2026-03-09")
    _, tenth = _page(staff_client, first_day="2026-03-10", last_day="2026-03-10")
    assert late_on_the_9th.reference in ninth and early_on_the_10th.reference not in ninth
    assert early_on_the_10th.reference in tenth and late_on_the_9th.reference not in tenth


def test_days_are_dr_browns_days_in_winter(staff_client, vest):
    # In January New York is UTC-5: 15 January begins at 05:00 UTC.
    before = make_order(vest, created_at=utc(2026, 1, 15, 4, 59, 59), email="a@example.com")
    first_minute = make_order(vest, created_at=utc(2026, 1, 15, 5, 0), email="b@example.com")
    last_minute = make_order(vest, created_at=utc(2026, 1, 16, 4, 59), email="c@example.com")
    after = make_order(vest, created_at=utc(2026, 1, 16, 5, 0), email="d@example.com")
    _, page = _page(staff_client, first_day="2026-01-15", last_day="2026-01-15")
    assert first_minute.reference in page and last_minute.reference in page
    assert before.reference not in page and after.reference not in page
    # Only a first day, or only a last day: open at the other end.
    _, from_16th = _page(staff_client, first_day="2026-01-16")
    _, until_14th = _page(staff_client, last_day="2026-01-14")
    assert after.reference in from_16th and last_minute.reference not in from_16th
    assert before.reference in until_14th and first_minute.reference not in until_14th


def test_a_range_ending_before_it_starts_or_a_bad_date_is_refused(staff_client, vest):
    response, page = _page(staff_client, first_day="2026-03-10", last_day="2026-03-01")
    assert response.status_code == 400
    assert "The last day comes before the first" in page
    assert 'value="2026-03-10"' in page  # what was typed comes back
    response, page = _page(staff_client, first_day="10/03/2026")
    assert response.status_code == 400
    assert "Not a valid date" in page
    response, _ = _page(staff_client, first_day="9999-12-31", last_day="9999-12-31")
    assert response.status_code == 400


# --- totals ---------------------------------------------------------------------------


def test_totals_add_up_every_order_listed_per_currency_on_every_page(staff_client, vest):
    for n in range(51):
        make_order(vest, email=f"buyer{n}@example.com", total_cents=1000, commit=False)
    make_order(vest, email="canada@example.com", total_cents=5000, currency="cad",
               refunded_cents=1500, commit=False)  # fmt: skip
    make_order(vest, email="elsewhere@example.org", total_cents=99900, commit=False)
    db.session.commit()

    _, page = _page(staff_client, q="example.com", state="all")

    assert "Page 1 of 2" in page
    totals = page.split("<caption>", 1)[1].split("</table>", 1)[0]
    assert (
        '<th scope="row">USD</th><td>51</td><td>$510.00</td><td>$0.00</td><td>$510.00</td>'
        in totals
    )
    assert (
        '<th scope="row">CAD</th><td>1</td><td>CA$50.00</td><td>CA$15.00</td><td>CA$35.00</td>'
        in totals
    )
    assert "$999.00" not in totals  # not listed, not counted


def test_totals_count_only_money_taken_not_orders_never_paid(staff_client, vest):
    """ "All orders" added BB-00001's $429.00 to the total though it was never paid: the
    totals count the money taken (paid, fulfilled, shipped, refunded in part or whole),
    say so, and say how many listed orders they leave out."""
    make_order(vest, email="paid@example.com", total_cents=10000, commit=False)
    make_order(vest, email="shipped@example.com", total_cents=2000,
               status=OrderStatus.SHIPPED, commit=False)  # fmt: skip
    make_order(vest, email="part@example.com", total_cents=3000, refunded_cents=1000,
               status=OrderStatus.PARTIALLY_REFUNDED, commit=False)  # fmt: skip
    for status in (OrderStatus.PENDING, OrderStatus.EXPIRED, OrderStatus.CANCELLED):
        unpaid = make_order(vest, email=f"{status.value}@example.com", total_cents=42900,
                            status=status, commit=False)  # fmt: skip
        unpaid.paid_at = None
    db.session.commit()

    _, page = _page(staff_client, state="all")
    assert "pending@example.com" in page  # still listed
    totals = page.split("<caption>", 1)[1].split("</table>", 1)[0]
    assert (
        '<th scope="row">USD</th><td>3</td><td>$150.00</td><td>$10.00</td><td>$140.00</td>'
        in totals
    )
    assert "$429.00" not in totals and "$1,437.00" not in totals
    assert "Only money taken is counted" in page
    assert "3 orders listed were not paid and are not counted" in page

    _, pending = _page(staff_client, state="pending")
    assert "pending@example.com" in pending
    assert "$429.00" not in pending.split("<caption>", 1)[1].split("</table>", 1)[0]
    assert "1 order listed was not paid and is not counted" in pending


# --- CSV ------------------------------------------------------------------------------


def test_csv_lists_every_order_of_the_search_with_times_in_dr_browns_zone(staff_client, vest):
    order = make_order(vest, email="ann@example.com", name="Ann Smith",
                       created_at=utc(2026, 7, 1, 2, 30), total_cents=12345,
                       refunded_cents=345, status=OrderStatus.PARTIALLY_REFUNDED)  # fmt: skip
    make_order(vest, email="bea@example.com", name="Bea")

    response = staff_client.get("/admin/orders.csv", query_string={"q": "ann"})
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))

    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="orders-')
    assert response.headers["Cache-Control"] == "no-store"
    assert rows[0][:3] == ["Order", "Placed (Dr. Brown's time)", "Email"]
    assert rows[1:] == [
        [
            order.reference,
            "2026-06-30 22:30",  # 02:30 UTC is 10:30 pm the evening before in New York
            "ann@example.com",
            "Ann Smith",
            "Weighted Vest (Size M, 8 lb) x 1",
            "USD",
            "123.45",
            "3.45",
            "partially_refunded",
            "",
            "0.00",
            "",
        ]
    ]


def test_csv_gives_each_order_its_shipping_cost_and_address(staff_client, vest):
    order = make_order(vest, email="ann@example.com", commit=False)
    order.shipping_cents = 895
    order.shipping_address = "Ann Smith\n12 Elm Street\nSpringfield, IL 62701\nUnited States"
    db.session.commit()

    rows = list(
        csv.reader(io.StringIO(staff_client.get("/admin/orders.csv").get_data(as_text=True)))
    )
    assert rows[0][-2:] == ["Shipping", "Shipping address"]
    assert rows[1][-2:] == [
        "8.95",
        "Ann Smith, 12 Elm Street, Springfield, IL 62701, United States",
    ]


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_start_with_an_apostrophe(
    staff_client, vest
):
    names = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-3", "@SUM(A1)", "Plain -dash"]
    for n, name in enumerate(names):
        make_order(vest, email=f"buyer{n}@example.com", name=name)
    rows = _csv(staff_client, state="all")
    written = {row[3] for row in rows[1:]}
    assert written == {
        '\'=HYPERLINK("http://evil.example","x")',
        "'+1+2",
        "'-3",
        "'@SUM(A1)",
        "Plain -dash",
    }


def test_csv_of_a_bad_search_is_the_page_with_its_message(staff_client, vest):
    response = staff_client.get("/admin/orders.csv", query_string={"first_day": "nope"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"


# --- links and queries ----------------------------------------------------------------


def test_each_order_links_to_its_customer(staff_client, vest):
    make_order(vest, email="ann@example.com", name="Ann Smith")
    _, page = _page(staff_client, state="all")
    assert 'href="/admin/customers/by-email?email=ann@example.com"' in page
    customer_page = staff_client.get("/admin/customers/by-email?email=ann%40example.com")
    assert customer_page.status_code == 200
    assert "Ann Smith" in customer_page.get_data(as_text=True)


def test_order_list_takes_the_same_few_queries_for_five_orders_or_fifty(
    staff_client, vest, count_queries
):
    def queries_for(count):
        for n in range(count):
            make_order(vest, email=f"buyer{n}@example.com", commit=False,
                       created_at=utcnow() - timedelta(minutes=n))  # fmt: skip
        db.session.commit()
        with count_queries() as counter:
            response = staff_client.get("/admin/orders?state=all&q=buyer")
        assert response.status_code == 200
        return counter.count

    few = queries_for(5)
    many = queries_for(45)
    assert few == many
    # The user, the page count, the page, its lines, the totals, the state counts.
    assert many <= 7


def test_a_search_from_the_first_view_looks_through_every_order(staff_client, vest):
    shipped = make_order(vest, email="ann@example.com", status=OrderStatus.SHIPPED)
    _, first_view = _page(staff_client)
    assert 'name="state"' not in first_view and "Looks through every order." in first_view
    _, chosen = _page(staff_client, state="shipped")
    assert 'type="hidden" name="state" value="shipped"' in chosen
    _, found = _page(staff_client, q="ann", first_day="", last_day="")
    assert shipped.reference in found


def test_days_by_payment_list_orders_paid_or_refunded_then_and_offer_the_placed_view(
    staff_client, vest
):
    placed_late = make_order(vest, created_at=utc(2026, 1, 15, 4, 58))  # 14th, 11:58 pm
    placed_late.paid_at = utc(2026, 1, 15, 5, 1)  # paid just after midnight on the 15th
    db.session.commit()
    _, html = _page(
        staff_client, state="all", by="payment", first_day="2026-01-15", last_day="2026-01-15"
    )
    assert placed_late.reference in html
    assert "Orders paid or refunded on 15 January 2026" in html
    placed = "/admin/orders?state=all&amp;first_day=2026-01-15&amp;last_day=2026-01-15"
    assert f'href="{placed}"' in html
    _, html = _page(staff_client, state="all", first_day="2026-01-15", last_day="2026-01-15")
    assert placed_late.reference not in html


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"last_day": "2026-01-31"}, "up to 31 January 2026"),
        ({"first_day": "2026-01-01"}, "from 1 January 2026 on"),
        ({"first_day": "2026-01-01", "last_day": "2026-01-31"},
         "from 1 January 2026 to 31 January 2026"),
    ],
)  # fmt: skip
def test_days_by_payment_read_as_the_consultation_payments_read_them(staff_client, args, words):
    _, orders = _page(staff_client, state="all", by="payment", **args)
    assert f"Orders paid or refunded {words} (days" in orders
    payments = staff_client.get("/admin/schedule/payments", query_string=args)
    assert f"Paid or refunded {words}</h2>" in payments.get_data(as_text=True)
