"""bench/load.py's checks of POSTs that failed (5xx or no answer, as when --stack kills an
app instance under them): each is named by what the writer sent, and the database must
hold it once or not at all. Run against rows made here, not a load run."""

import importlib
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from blueprints.core.types import utcnow
from blueprints.shop.models import Cart, CartLine
from extensions import db
from tests.factories import make_booking, make_consultation_type, make_order
from tests.shop.conftest import make_vest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def load():
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("load")
    finally:
        sys.path.remove(str(BENCH))


def _check(load, ledger, name):
    since = utcnow() - timedelta(minutes=5)
    results = load.check_database(db.engine, ledger, {}, since).results
    found = [(ok, detail) for title, ok, detail in results if title == name]
    assert len(found) == 1, results
    return found[0]


def _cart(vest, quantity=1):
    cart = Cart(token=f"cart-{quantity}-{vest.id}")
    cart.lines.append(CartLine(variant_id=vest.variants[0].id, quantity=quantity))
    db.session.add(cart)
    db.session.commit()
    return cart


def _orders_from(cart, vest, count):
    for number in range(count):
        order = make_order(vest, email=f"buyer{number}@example.com", commit=False)
        order.cart_id = cart.id
    db.session.commit()


@pytest.mark.parametrize(("placed", "ok"), [(0, True), (1, True), (2, False)])
def test_a_failed_checkout_placed_twice_fails_the_check(app, load, placed, ok):
    vest = make_vest()
    cart = _cart(vest)
    _orders_from(cart, vest, placed)
    ledger = load.Ledger("t")
    ledger.failed["order"].append(("checkout", cart.token))
    passed, detail = _check(load, ledger, f"orders {load.ONCE_OR_NOT_AT_ALL}")
    assert passed is ok, detail


def test_a_failed_checkout_whose_cart_is_unknown_fails_the_check(app, load):
    ledger = load.Ledger("t")
    ledger.failed["order"].append(("checkout", None))
    passed, detail = _check(load, ledger, f"orders {load.ONCE_OR_NOT_AT_ALL}")
    assert not passed and "1 without a cart token" in detail


@pytest.mark.parametrize(("quantity", "ok"), [(1, True), (2, False)])
def test_a_failed_add_to_cart_done_twice_fails_the_check(app, load, quantity, ok):
    vest = make_vest()
    _cart(vest, quantity)
    ledger = load.Ledger("t")
    ledger.failed["order"].append(("add to cart", vest.variants[0].id))
    passed, detail = _check(load, ledger, f"orders {load.ONCE_OR_NOT_AT_ALL}")
    assert passed is ok, detail


@pytest.mark.parametrize(("held", "ok"), [(0, True), (1, True), (2, False)])
def test_a_failed_booking_hold_made_twice_fails_the_check(app, load, held, ok):
    ctype = make_consultation_type()
    for day in range(held):
        make_booking(
            ctype, email="T-B1@example.com", starts_at=utcnow().replace(second=0, microsecond=0)
            + timedelta(days=3 + day),
        )  # fmt: skip
    ledger = load.Ledger("t")
    ledger.failed["booking"].append("t-b1@example.com")
    passed, detail = _check(load, ledger, f"bookings {load.ONCE_OR_NOT_AT_ALL}")
    assert passed is ok, detail


def test_the_cart_token_is_read_from_the_visitors_session_cookie(app, load):
    client = app.test_client()
    with client.session_transaction() as session:
        session["cart_token"] = "t0ken-of-her-cart"
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert load.session_cart_token({"bb_cart": "1", cookie.key: cookie.value}) == (
        "t0ken-of-her-cart"
    )
    assert load.session_cart_token({"bb_cart": "1"}) is None


def test_each_visitor_starts_with_no_cookies_on_a_shared_connection(load, httpserver):
    """The writers reuse one keep-alive session per thread, and each turn is a new
    person. Through the stack (plain http, cookies without Secure) the connection's own
    cookie jar kept the last visitor's session, so the next one shared her cart and the
    checks counted that cart's earlier orders as a failed checkout done twice."""
    httpserver.expect_request("/first").respond_with_data(
        "ok", headers={"Set-Cookie": "session=hers; Path=/; HttpOnly"}
    )
    httpserver.expect_request("/next").respond_with_handler(
        lambda request: load_response(request.headers.get("Cookie", ""))
    )
    site = httpserver.url_for("").rstrip("/")
    with load.visitor_connection() as http:
        first = load.Visitor(http, load.Stats(), site, "http://127.0.0.1:9", "10.0.0.1", 5, site)
        first.get("first", "/first")
        assert first.cookies == {"session": "hers"}
        second = load.Visitor(http, load.Stats(), site, "http://127.0.0.1:9", "10.0.0.2", 5, site)
        status, _, text = second.get("next", "/next")
    assert (status, text) == (200, "cookies: ")


def load_response(cookies):
    from werkzeug.wrappers import Response

    return Response(f"cookies: {cookies}")
