"""Staff's customers (issue #18.5): everyone known by an email address, searched by email
or name; one page per customer with her orders, bookings, subscription, comments and
their events; a sign-in code emailed to her that staff never see."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.account.models import AccountCode, User
from blueprints.account.services import hash_password
from blueprints.blog.models import CommentStatus
from blueprints.booking.models import ConsultationType
from blueprints.core.types import utcnow
from blueprints.newsletter.models import SubscriberStatus
from extensions import db
from tests import factories
from tests.account.conftest import sign_in_customer
from tests.conftest import html_part, text_part
from tests.factories import make_booking, make_consultation_type, make_order, make_subscriber
from tests.shop.conftest import make_vest

BOOKED = ("held", "confirmed")  # a booking's history, as the customer page shows it


@pytest.fixture
def vest(app):
    return make_vest()


@pytest.fixture
def margaret(app, vest):
    """Margaret, known everywhere: an order (address typed in capitals at Stripe), a
    booking, the newsletter and a comment; no account yet."""
    make_order(vest, email="Margaret.Hill@Example.com", name="Margaret Hill",
               events=("created", "paid"))  # fmt: skip
    make_booking(make_consultation_type(), email="margaret.hill@example.com",
                 name="Margaret Hill", events=BOOKED)  # fmt: skip
    make_subscriber("margaret.hill@example.com", first_name="Maggie")
    post = factories.make_post("Walking for bones")
    factories.make_comment(post, "Lovely advice.", name="Margaret H",
                           email="margaret.hill@example.com")  # fmt: skip
    return "margaret.hill@example.com"


def _rows(page):
    """The addresses listed in the directory's table, in order."""
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', page)


def _get(client, url, **args):
    response = client.get(url, query_string=args)
    return response, response.get_data(as_text=True)


# --- who may see it -------------------------------------------------------------------


def test_customer_pages_and_the_sign_in_link_are_for_staff_only(client, margaret):
    urls = ["/admin/customers", f"/admin/customers/by-email?email={margaret}"]
    for url in urls:
        assert "/admin/login" in client.get(url).headers["Location"]
    assert (
        "/admin/login"
        in client.post("/admin/customers/sign-in-link", data={"email": margaret}).headers[
            "Location"
        ]
    )
    # Signed in as a customer (even as Margaret herself) is not staff.
    sign_in_customer(client, margaret)
    for url in urls:
        assert "/admin/login" in client.get(url).headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(AccountCode)) == 0


def test_a_signed_in_user_who_is_not_staff_gets_403_and_sends_nothing(client, margaret):
    user = User(email="helper@example.com", password_hash=hash_password("a long password!"))
    db.session.add(user)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    assert client.get("/admin/customers").status_code == 403
    assert client.post("/admin/customers/sign-in-link", data={"email": margaret}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(AccountCode)) == 0


# --- the directory --------------------------------------------------------------------


def test_directory_lists_each_address_once_whatever_its_case_or_where_it_was_given(
    staff_client, margaret, vest
):
    sign_in_customer(staff_client.application.test_client(), "ann@example.com")
    make_subscriber("Bea@Example.org", status=SubscriberStatus.UNSUBSCRIBED)
    _, page = _get(staff_client, "/admin/customers")
    # Staff's own reply is no customer.
    assert _rows(page) == ["ann@example.com", "bea@example.org", margaret]
    assert "Margaret Hill" in page  # the name from her order (she has no account)
    assert "3 customers" in page


def test_directory_finds_customers_by_part_of_the_email_or_any_name_given(staff_client, margaret):
    make_subscriber("bea@example.org", first_name="Beatrice")
    for typed in ("HILL@", "maggie", "Margaret H", "margaret hill"):
        _, page = _get(staff_client, "/admin/customers", q=typed)
        assert _rows(page) == [margaret], typed
    _, page = _get(staff_client, "/admin/customers", q="beatrice")
    assert _rows(page) == ["bea@example.org"]
    _, page = _get(staff_client, "/admin/customers", q="nobody-like-this")
    assert _rows(page) == [] and "No one found" in page


def test_directory_search_matches_percent_and_underscore_as_written(staff_client, app):
    make_subscriber("plain@example.com")
    make_subscriber("under_score@example.com")
    _, page = _get(staff_client, "/admin/customers", q="r_s")
    assert _rows(page) == ["under_score@example.com"]
    _, page = _get(staff_client, "/admin/customers", q="%")
    assert _rows(page) == []


def test_directory_search_refuses_control_characters_with_a_message(staff_client, app):
    response, page = _get(staff_client, "/admin/customers", q="ann\x00")
    assert response.status_code == 400
    assert "without special characters" in page


def test_directory_pages_fifty_at_a_time_in_the_same_few_queries(staff_client, app, count_queries):
    def queries_for(first, count):
        for n in range(first, first + count):
            make_subscriber(f"reader{n:03d}@example.com", commit=False)
        db.session.commit()
        with count_queries() as counter:
            response = staff_client.get("/admin/customers")
        assert response.status_code == 200
        return counter.count

    few = queries_for(0, 10)
    many = queries_for(10, 50)
    assert few == many <= 3  # the user, the count, the page with names and accounts
    _, second = _get(staff_client, "/admin/customers", page="2")
    assert _rows(second) == [f"reader{n:03d}@example.com" for n in range(50, 60)]
    assert "Page 2 of 2" in second


# --- one customer ---------------------------------------------------------------------


def test_customer_page_shows_everything_under_her_address_with_its_events(
    staff_client, margaret, vest
):
    make_order(vest, email="someone.else@example.com", name="Someone Else")
    response, page = _get(staff_client, "/admin/customers/by-email", email=margaret.upper())
    assert response.status_code == 200
    assert "Margaret Hill" in page and margaret in page
    assert "Orders (1)" in page and "Event paid." in page  # her order and its log
    assert "Consultations (1)" in page and "Initial consultation" in page
    assert "Step confirmed." in page  # the booking's history
    assert "confirmed" in page and "Signed up" in page  # the newsletter
    assert "Comments (1)" in page and "Walking for bones" in page and "Lovely advice." in page
    assert "Someone Else" not in page and "someone.else" not in page
    # Health answers stay off this page.
    assert "T-score" not in page


def test_a_customer_with_an_account_has_her_page_by_its_id(staff_client, margaret):
    customer = sign_in_customer(staff_client.application.test_client(), margaret)
    response = staff_client.get(f"/admin/customers/by-email?email={margaret}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/customers/{customer.id}")
    _, page = _get(staff_client, f"/admin/customers/{customer.id}")
    assert "Orders (1)" in page and "Since " in page and "None yet" not in page


def test_unknown_customers_are_404(staff_client, margaret):
    assert staff_client.get("/admin/customers/999").status_code == 404
    for email in ("nobody@example.com", "", "x" * 300, "a\x00@example.com"):
        assert (
            staff_client.get("/admin/customers/by-email", query_string={"email": email}).status_code
            == 404
        )


def test_customer_page_takes_the_same_queries_for_one_record_or_many(
    staff_client, margaret, vest, count_queries
):
    def queries():
        with count_queries() as counter:
            assert (
                staff_client.get(f"/admin/customers/by-email?email={margaret}").status_code == 200
            )
        return counter.count

    queries()  # the first request of a session may note the sign-in's activity
    one = queries()
    ctype = db.session.scalar(select(ConsultationType))
    for n in range(8):
        make_order(vest, email=margaret, events=("created", "paid", "shipped"), commit=False)
        make_booking(ctype, email=margaret, starts_at=utcnow() + timedelta(days=10 + n),
                     events=BOOKED, commit=False)  # fmt: skip
    db.session.commit()
    post = factories.make_post("Another post")
    for n in range(5):
        factories.make_comment(post, f"Comment {n}", email=margaret, status=CommentStatus.PENDING)
    assert "Orders (9)" in staff_client.get(f"/admin/customers/by-email?email={margaret}").get_data(
        as_text=True
    )
    assert queries() == one <= 10  # the user, her account, and one query per kind of row


# --- a sign-in code, sent by staff ----------------------------------------------------


def test_staff_email_her_a_sign_in_code_and_never_see_it(staff_client, margaret, mailbox):
    response = staff_client.post("/admin/customers/sign-in-link", data={"email": margaret})
    assert response.status_code == 303
    followed = staff_client.get(response.headers["Location"])
    shown = response.get_data(as_text=True) + followed.get_data(as_text=True)

    message = mailbox.wait_for(1)[0]
    assert message["To"] == margaret
    code = re.search(r"^\s+(\d{6})\s*$", text_part(message), re.M).group(1)
    assert code in html_part(message)
    assert f"We emailed a sign-in code to {margaret}" in shown
    assert code not in shown and code not in response.headers.get("Location", "")
    stored = db.session.scalars(select(AccountCode)).all()
    assert [row.email for row in stored] == [margaret]
    assert code not in stored[0].code_hash


def test_a_code_staff_send_says_dr_browns_team_sent_it_and_where_to_sign_in(
    app, client, staff_client, margaret, mailbox
):
    """ "Did not ask for it? Someone may have typed your address by mistake" is wrong
    when staff sent it at her request: it says so, with the sign-in page's address."""
    staff_client.post("/admin/customers/sign-in-link", data={"email": margaret})
    message = mailbox.wait_for(1)[0]
    sign_in_page = app.config["SITE_URL"].rstrip("/") + "/account/sign-in"
    for body in (text_part(message), html_part(message).replace("&#39;", "'")):
        assert "Dr. Brown's team sent you this email at your request" in body
        assert sign_in_page in body
        assert "typed your address by mistake" not in body
        assert "never share the code" in body

    # The code she asks for herself keeps its warning.
    mailbox.clear()
    client.post("/account/sign-in", data={"email": "someone@example.com"})
    own = text_part(mailbox.wait_for(1)[0])
    assert "typed your address by mistake" in own and "Dr. Brown's team sent" not in own


def test_sending_a_code_needs_the_csrf_token_and_a_known_address(staff_client, margaret, mailbox):
    refused = staff_client.post(
        "/admin/customers/sign-in-link", data={"email": margaret}, csrf=False
    )
    assert refused.status_code == 400
    stranger = staff_client.post(
        "/admin/customers/sign-in-link", data={"email": "stranger@example.com"}
    )
    assert stranger.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(AccountCode)) == 0


def test_staff_send_at_most_five_codes_an_hour_to_one_address(staff_client, margaret, mailbox):
    for _ in range(5):
        sent = staff_client.post("/admin/customers/sign-in-link", data={"email": margaret})
        assert sent.status_code == 303
    refused = staff_client.post("/admin/customers/sign-in-link", data={"email": margaret})
    assert refused.status_code == 429
    assert db.session.scalar(select(func.count()).select_from(AccountCode)) == 5
