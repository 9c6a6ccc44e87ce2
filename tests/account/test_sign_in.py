"""A customer's sign-in with an emailed code or link (/account/sign-in): the same answer for
any address, codes bound to their address and to five tries, a link that a mail scanner
cannot use, a new session at sign-in, keeping it 30 days only when asked, signing out here
and everywhere, and ``next`` kept on the site."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import render_template_string
from sqlalchemy import func, select

from blueprints.account.codes import MAX_CODE_FAILURES
from blueprints.account.customer_sign_in import send_sign_in_link
from blueprints.account.customers import SESSION_KEY, customer_for_email
from blueprints.account.models import AccountCode, Customer
from blueprints.account.sign_in_routes import HEADER_COOKIE
from blueprints.core.models import OutboxMessage
from blueprints.core.outbox import send_committed
from extensions import db
from tests.account import sign_in_support
from tests.account.sign_in_support import ask_code, sign_in_email, sign_in_with_code, wrong
from tests.conftest import html_part, text_part
from tests.hardening.test_open_redirects import OFF_SITE

whoami = sign_in_support.whoami  # the fixture


def _customers():
    return db.session.scalar(select(func.count()).select_from(Customer))


def _cookie_headers(response, name):
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]


def _page_without_secrets(html):
    """The page as every reader would see it: no CSRF token, no typed address."""
    html = re.sub(r'name="csrf_token" value="[^"]+"', "", html)
    return re.sub(r"[a-z]+@example\.com", "ADDRESS", html)


# --- the same answer for any address ------------------------------------------------------


def test_unknown_and_known_addresses_get_the_same_answer_and_the_same_email(app, client, mailbox):
    customer_for_email("known@example.com")
    db.session.commit()
    known = ask_code(client, "known@example.com")
    known_page = client.get("/account/sign-in/code")
    unknown_client = app.test_client()
    unknown = ask_code(unknown_client, "unknown@example.com")
    unknown_page = unknown_client.get("/account/sign-in/code")

    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"] == "/account/sign-in/code"
    assert known_page.status_code == unknown_page.status_code == 200
    assert _page_without_secrets(known_page.text) == _page_without_secrets(unknown_page.text)
    # Both addresses get a code (the same work either way), the address is never in the
    # URL, and no account is made before a code is accepted.
    messages = mailbox.wait_for(2)
    assert {m["To"] for m in messages} == {"known@example.com", "unknown@example.com"}
    assert [m["Subject"] for m in messages][0] == messages[1]["Subject"]
    assert db.session.scalar(select(func.count()).select_from(AccountCode)) == 2
    assert _customers() == 1
    assert "example.com" not in known.headers["Location"]


def test_a_known_and_an_unknown_address_cost_the_same_queries_and_emails(
    app, mailbox, count_queries
):
    """The same timing class: asking a code for a customer's address runs the very
    statements an address never seen runs, and writes the same one email."""
    known, stranger = "kim@example.com", "stranger@example.com"
    customer_for_email(known).name = "Kim Known"
    db.session.commit()
    ask_code(app.test_client(), "warm-up@example.com")  # first-request work, not counted
    mailbox.wait_for(1)

    spent = {}
    for address in (known, stranger):
        client = app.test_client()
        before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        with count_queries() as counter:
            assert ask_code(client, address).status_code == 303
        after = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        spent[address] = (counter.statements, after - before)

    assert spent[known] == spent[stranger]
    assert spent[known][1] == 1 and spent[known][0], "one email each, and queries counted"
    assert len(mailbox.to(known)) == len(mailbox.to(stranger)) == 1


def test_the_email_holds_the_code_the_ten_minutes_and_the_link(client, mailbox):
    ask_code(client, "ann@example.com")
    code, link, message = sign_in_email(mailbox, "ann@example.com", count=1)
    assert "10 minutes" in text_part(message) and "10 minutes" in html_part(message)
    assert code in html_part(message) and link in html_part(message)
    assert code not in message["Subject"]
    # Only a keyed hash of the code is stored.
    row = db.session.scalar(select(AccountCode))
    assert code not in row.code_hash and link.rsplit("/", 1)[1] != row.link_hash


def test_a_mistyped_address_gets_the_form_back_with_a_message(client, mailbox):
    response = ask_code(client, "ann at example")
    assert response.status_code == 400
    assert "name@example.com" in response.text
    assert 'value="ann at example"' in response.text
    assert mailbox.messages == []


# --- codes ---------------------------------------------------------------------------------


def test_the_right_code_signs_her_in_and_makes_her_account(client, mailbox, whoami):
    response = sign_in_with_code(client, mailbox, "Ann@Example.com ")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/"
    assert client.get(whoami).text == "ann@example.com"
    customer = db.session.scalar(select(Customer))
    assert customer.email == "ann@example.com" and customer.last_sign_in_at is not None


def test_a_code_for_one_address_never_signs_in_another(app, client, mailbox, whoami):
    ask_code(client, "ann@example.com")
    ann_code, _, _ = sign_in_email(mailbox, "ann@example.com", count=1)
    bob = app.test_client()
    ask_code(bob, "bob@example.com")
    mailbox.wait_for(2)
    response = bob.post("/account/sign-in/code", data={"code": ann_code})
    assert response.status_code == 400
    assert bob.get(whoami).text == "nobody"
    assert _customers() == 0
    # Ann's code still works for Ann.
    assert client.post("/account/sign-in/code", data={"code": ann_code}).status_code == 303


def test_a_wrong_code_says_so_and_gives_the_form_back(client, mailbox, whoami):
    ask_code(client, "ann@example.com")
    code, _, _ = sign_in_email(mailbox, "ann@example.com", count=1)
    response = client.post("/account/sign-in/code", data={"code": wrong(code)})
    assert response.status_code == 400
    assert "That code is not right" in response.text
    assert f'value="{wrong(code)}"' in response.text
    assert 'name="code"' in response.text
    assert client.get(whoami).text == "nobody"
    typed = client.post("/account/sign-in/code", data={"code": "12ab"})
    assert typed.status_code == 400 and "The code is 6 digits" in typed.text


def test_five_wrong_tries_end_the_code_and_a_button_sends_a_new_one(client, mailbox, whoami):
    ask_code(client, "ann@example.com")
    code, _, _ = sign_in_email(mailbox, "ann@example.com", count=1)
    for _ in range(MAX_CODE_FAILURES - 1):
        response = client.post("/account/sign-in/code", data={"code": wrong(code)})
        assert "That code is not right" in response.text
    last = client.post("/account/sign-in/code", data={"code": wrong(code)})
    assert last.status_code == 400
    assert "ask for a new code" in last.text
    assert 'action="/account/sign-in/new-code"' in last.text
    assert 'name="code"' not in last.text
    # The right code is refused now.
    refused = client.post("/account/sign-in/code", data={"code": code})
    assert refused.status_code == 400 and "ask for a new code" in refused.text
    assert client.get(whoami).text == "nobody"

    resent = client.post("/account/sign-in/new-code", data={})
    assert resent.status_code == 303 and resent.headers["Location"] == "/account/sign-in/code"
    assert "new code" in client.get("/account/sign-in/code").text
    new_code, _, _ = sign_in_email(mailbox, "ann@example.com", count=2)
    assert client.post("/account/sign-in/code", data={"code": new_code}).status_code == 303
    assert client.get(whoami).text == "ann@example.com"


def test_a_code_works_once(app, client, mailbox, whoami):
    response = sign_in_with_code(client, mailbox, "ann@example.com")
    assert response.status_code == 303
    code, _, _ = sign_in_email(mailbox, "ann@example.com")
    other = app.test_client()
    with other.session_transaction() as session:
        session["customer_sign_in"] = {
            "email": "ann@example.com",
            "at": int(datetime.now().timestamp()),
        }
    assert other.post("/account/sign-in/code", data={"code": code}).status_code == 400
    assert other.get(whoami).text == "nobody"


def test_the_code_page_without_an_address_sends_her_back_to_the_first_step(client):
    response = client.get("/account/sign-in/code")
    assert response.status_code == 302 and response.headers["Location"] == "/account/sign-in"
    posted = client.post("/account/sign-in/code", data={"code": "123456"})
    assert posted.status_code == 400
    assert "Please enter your email address again" in posted.text


# --- the link ------------------------------------------------------------------------------


def test_a_mail_scanner_fetching_the_link_signs_nobody_in(app, client, mailbox, whoami):
    ask_code(client, "ann@example.com")
    _, link, _ = sign_in_email(mailbox, "ann@example.com", count=1)
    scanner = app.test_client()
    for _ in range(3):
        page = scanner.get(link)
        assert page.status_code == 200
        main = page.text.split("<main", 1)[1].split("</main>", 1)[0]
        assert main.count("<button") == 1
        assert "Sign me in" in page.text
        assert 'name="referrer" content="no-referrer"' in page.text
    assert scanner.get(whoami).text == "nobody"
    assert _customers() == 0
    assert db.session.scalar(select(AccountCode.used_at)) is None
    # A POST without the page's CSRF token (a scanner replaying the form) is refused too.
    assert scanner.post(link, data={}, csrf=False).status_code == 400
    assert _customers() == 0


def test_the_links_button_signs_her_in_once(app, client, mailbox, whoami):
    ask_code(client, "ann@example.com")
    _, link, _ = sign_in_email(mailbox, "ann@example.com", count=1)
    phone = app.test_client()
    assert phone.get(link).status_code == 200
    response = phone.post(link, data={})
    assert response.status_code == 303 and response.headers["Location"] == "/account/"
    assert phone.get(whoami).text == "ann@example.com"
    # Used: the page says so, and the button would not work again.
    other = app.test_client()
    again = other.get(link)
    assert again.status_code == 404 and "This link no longer works" in again.text
    refused = other.post(link, data={})
    assert refused.status_code == 400 and "can no longer be used" in refused.text
    assert other.get(whoami).text == "nobody"


def test_a_link_ends_with_its_code_and_made_up_links_are_refused(client, mailbox):
    ask_code(client, "ann@example.com")
    code, link, _ = sign_in_email(mailbox, "ann@example.com", count=1)
    assert client.post("/account/sign-in/code", data={"code": code}).status_code == 303
    assert client.get(link).status_code == 404
    assert client.get("/account/sign-in/link/" + "x" * 43).status_code == 404
    assert client.post("/account/sign-in/link/" + "x" * 500, data={}).status_code == 400


# --- the session ---------------------------------------------------------------------------


def test_sign_in_starts_a_new_session_and_keeps_the_cart(client, mailbox):
    with client.session_transaction() as session:
        session["cart_token"] = "the-cart"
        session["cart_ship_to"] = "CA"
        session["planted"] = "by someone else"
        session["csrf_token"] = "planted-token"
    assert sign_in_with_code(client, mailbox, "ann@example.com").status_code == 303
    with client.session_transaction() as session:
        assert session["cart_token"] == "the-cart" and session["cart_ship_to"] == "CA"
        assert "planted" not in session
        assert session.get("csrf_token") != "planted-token"
        assert "customer_sign_in" not in session
        customer = db.session.scalar(select(Customer))
        assert session[SESSION_KEY] == f"{customer.id}:{customer.session_token}"


def _expires(header):
    match = re.search(r"Expires=([^;]+)", header)
    if match is None:
        return None
    return datetime.strptime(match.group(1), "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)


def test_keep_me_signed_in_keeps_the_session_30_days(client, mailbox):
    response = sign_in_with_code(client, mailbox, "ann@example.com", keep=True)
    assert response.status_code == 303
    [session_cookie] = _cookie_headers(response, "session")
    [header_cookie] = _cookie_headers(response, HEADER_COOKIE)
    for header in (session_cookie, header_cookie):
        left = _expires(header) - datetime.now(UTC)
        assert timedelta(days=29, hours=23) < left <= timedelta(days=30)
    assert "HttpOnly" in session_cookie
    assert "HttpOnly" not in header_cookie  # the page's script reads it


def test_without_keep_the_session_ends_with_the_browser(client, mailbox):
    response = sign_in_with_code(client, mailbox, "ann@example.com")
    [session_cookie] = _cookie_headers(response, "session")
    [header_cookie] = _cookie_headers(response, HEADER_COOKIE)
    assert _expires(session_cookie) is None and _expires(header_cookie) is None


def test_sign_out_ends_this_session_and_keeps_the_cart(client, mailbox, whoami):
    sign_in_with_code(client, mailbox, "ann@example.com", keep=True)
    with client.session_transaction() as session:
        session["cart_token"] = "the-cart"
        session["cart_ship_to"] = "CA"
    response = client.post("/account/sign-out", data={})
    assert response.status_code == 303
    assert any("Expires=Thu, 01 Jan 1970" in h for h in _cookie_headers(response, HEADER_COOKIE))
    assert client.get(whoami).text == "nobody"
    with client.session_transaction() as session:
        assert session["cart_token"] == "the-cart" and session["cart_ship_to"] == "CA"
        assert SESSION_KEY not in session and "_kept_until" not in session


def test_sign_out_everywhere_ends_her_other_sessions(app, client, mailbox, whoami):
    sign_in_with_code(client, mailbox, "ann@example.com")
    laptop = app.test_client()
    sign_in_with_code(laptop, mailbox, "ann@example.com", keep=True)
    assert client.get(whoami).text == laptop.get(whoami).text == "ann@example.com"

    assert client.post("/account/sign-out-everywhere", data={}).status_code == 303
    assert client.get(whoami).text == "nobody"
    stale = laptop.get(whoami)
    assert stale.text == "nobody"
    # The ended session is a reader's session again, and the header cookie goes.
    assert any("Expires=Thu, 01 Jan 1970" in h for h in _cookie_headers(stale, HEADER_COOKIE))
    with laptop.session_transaction() as session:
        assert SESSION_KEY not in session


def test_signing_out_needs_the_forms_csrf_token(client, mailbox, whoami):
    sign_in_with_code(client, mailbox, "ann@example.com")
    assert client.post("/account/sign-out", data={}, csrf=False).status_code == 400
    assert client.post("/account/sign-out-everywhere", data={}, csrf=False).status_code == 400
    assert client.get(whoami).text == "ann@example.com"


# --- next ------------------------------------------------------------------------------------


@pytest.mark.parametrize("next_value", OFF_SITE)
def test_next_to_another_site_is_refused(client, mailbox, next_value):
    page = client.get("/account/sign-in", query_string={"next": next_value})
    assert "evil" not in page.text
    assert ask_code(client, "ann@example.com", next=next_value).status_code == 303
    code, _, _ = sign_in_email(mailbox, "ann@example.com", count=1)
    response = client.post("/account/sign-in/code", data={"code": code})
    assert response.headers["Location"] == "/account/"


def test_next_on_the_site_is_where_she_lands(client, mailbox):
    page = client.get("/account/sign-in?next=/account/orders")
    assert 'name="next" value="/account/orders"' in page.text
    ask_code(client, "ann@example.com", next="/account/orders")
    code, _, _ = sign_in_email(mailbox, "ann@example.com", count=1)
    response = client.post("/account/sign-in/code", data={"code": code})
    assert response.headers["Location"] == "/account/orders"


def test_the_sign_in_page_sends_a_signed_in_customer_on(client, mailbox):
    sign_in_with_code(client, mailbox, "ann@example.com")
    assert client.get("/account/sign-in").headers["Location"] == "/account/"
    assert client.get("/account/sign-in?next=//evil.example").headers["Location"] == "/account/"


# --- staff send a link ----------------------------------------------------------------------


def test_staff_can_send_a_sign_in_link_without_seeing_the_code(app, client, mailbox, whoami):
    result = send_sign_in_link("Ann@Example.com")
    db.session.commit()
    send_committed()
    assert result is None  # nothing of the code comes back to the caller
    _, link, _ = sign_in_email(mailbox, "ann@example.com", count=1)
    assert client.post(link, data={}).status_code == 303
    assert client.get(whoami).text == "ann@example.com"


# --- the account ------------------------------------------------------------------------------


def test_two_first_sign_ins_at_once_make_one_account(app):
    """The other request's account is written between this one's look-up and its insert
    (the code accepted in one browser, the link in another): this one finds it."""
    done = []

    def other_request_first(session, flush_context, instances):
        if not done:
            done.append(True)
            with db.engine.begin() as conn:
                conn.execute(
                    Customer.__table__.insert().values(email="ann@example.com", session_token="t")
                )

    sa.event.listen(db.session, "before_flush", other_request_first)
    try:
        customer = customer_for_email("ann@example.com")
    finally:
        sa.event.remove(db.session, "before_flush", other_request_first)
    db.session.commit()
    assert done and customer.email == "ann@example.com" and customer.session_token == "t"
    assert _customers() == 1


def test_the_sign_out_buttons_for_my_account_pages_sign_her_out(app, client, mailbox, whoami):
    """``account/_sign_out.html``, included by My account's pages: both forms work with
    the token they carry."""

    @app.get("/t/sign-out-buttons")
    def buttons():
        return render_template_string('{% include "account/_sign_out.html" %}')

    sign_in_with_code(client, mailbox, "ann@example.com")
    html = client.get("/t/sign-out-buttons").text
    actions = re.findall(r'action="([^"]+)"', html)
    assert actions == ["/account/sign-out", "/account/sign-out-everywhere"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post(actions[1], data={"csrf_token": token})
    assert response.status_code == 303
    assert client.get(whoami).text == "nobody"
