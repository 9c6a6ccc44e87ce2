"""Checkout: the order, its stock hold and the Checkout Session come from the database
only; a Stripe failure leaves nothing held."""

import time

import pytest
from sqlalchemy import func, select

from blueprints.shop.models import OrderLine, OrderStatus, Variant
from extensions import db
from tests.shop.conftest import add_to_cart, all_orders, checkout, make_program, make_vest


def _stock(variant_id):
    db.session.expire_all()
    return db.session.get(Variant, variant_id).stock


def test_line_items_sent_to_stripe_carry_database_prices_not_posted_ones(client, stripe_api):
    vest = make_vest({"VEST-M-08": 5}, price_cents=10900)
    variant = vest.variants[0]
    client.post(
        "/cart/add",
        data={"variant_id": variant.id, "quantity": 2, "price_cents": 1, "unit_amount": 1},
    )
    response = client.post(
        "/cart/checkout",
        data={"price_cents": 1, "quantity": 99, "amount_total": 1, "line_items": "x"},
    )

    assert response.status_code == 303
    [(_method, _path, form, headers)] = stripe_api.created()
    [item] = form["line_items"]
    assert item["price_data"]["unit_amount"] == "10900"
    assert item["price_data"]["currency"] == "usd"
    assert item["quantity"] == "2"
    assert item["price_data"]["product_data"]["name"] == "Weighted Vest (Size M, 8 lb)"
    [order] = all_orders()
    assert response.headers["Location"] == stripe_api.sessions[order.stripe_session_id]["url"]
    assert order.total_cents == 21800 and order.status == OrderStatus.PENDING
    assert [(ln.unit_price_cents, ln.quantity) for ln in order.lines] == [(10900, 2)]
    assert form["metadata"] == {"kind": "order", "id": str(order.id)}
    assert form["payment_intent_data"]["metadata"] == {"kind": "order", "id": str(order.id)}
    assert form["client_reference_id"] == str(order.id)
    assert headers["Idempotency-Key"] == f"order-{order.id}-checkout"
    assert form["mode"] == "payment"
    assert 29 * 60 <= int(form["expires_at"]) - time.time() <= 30 * 60 + 5
    assert form["shipping_address_collection"]["allowed_countries"] == ["US"]  # the first
    assert form["success_url"].endswith("/shop/success?session_id={CHECKOUT_SESSION_ID}")
    assert _stock(variant.id) == 3  # held for this order


def test_program_only_checkout_collects_no_shipping_and_holds_no_stock(client, stripe_api):
    program = make_program()
    add_to_cart(client, program.variants[0])
    assert checkout(client).status_code == 303
    [(_m, _p, form, _h)] = stripe_api.created()
    assert "shipping_address_collection" not in form
    assert _stock(program.variants[0].id) is None
    assert all_orders()[0].lines[0].stock_held is False


def test_a_price_change_after_adding_to_cart_is_what_is_charged(client, stripe_api):
    vest = make_vest({"VEST-M-08": 5}, price_cents=10900)
    add_to_cart(client, vest.variants[0])
    vest.variants[0].price_cents = 9900
    db.session.commit()
    cart_page = client.get("/cart").get_data(as_text=True)
    assert "$99.00" in cart_page and "$109.00" not in cart_page
    checkout(client)
    [(_m, _p, form, _h)] = stripe_api.created()
    assert form["line_items"][0]["price_data"]["unit_amount"] == "9900"


def test_empty_cart_checkout_is_refused_with_a_message(client, stripe_api):
    response = checkout(client)
    assert response.status_code == 400
    assert "Your cart is empty" in response.get_data(as_text=True)
    assert all_orders() == [] and stripe_api.created() == []


@pytest.mark.parametrize("status", [500, 402, 401])
def test_stripe_error_cancels_the_order_and_releases_stock(client, stripe_api, status):
    vest = make_vest({"VEST-M-08": 2})
    add_to_cart(client, vest.variants[0], 2)
    stripe_api.fail_with = (status, "Stripe is having a bad day")

    response = checkout(client)

    assert response.status_code == 503
    assert "could not reach our payment provider" in response.get_data(as_text=True)
    assert "nothing was charged" in response.get_data(as_text=True)
    [order] = all_orders()
    assert order.status == OrderStatus.CANCELLED
    assert all(not line.stock_held for line in order.lines)
    assert _stock(vest.variants[0].id) == 2
    assert [e.kind for e in order.events] == ["created", "cancelled"]
    # The cart is intact, so the customer can try again.
    assert "Weighted Vest" in client.get("/cart").get_data(as_text=True)


def test_stripe_timeout_cancels_the_order_and_releases_stock(app, client, stripe_api):
    vest = make_vest({"VEST-M-08": 1})
    add_to_cart(client, vest.variants[0])
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # nothing listens: a connection error
    response = checkout(client)
    assert response.status_code == 503
    [order] = all_orders()
    assert order.status == OrderStatus.CANCELLED and _stock(vest.variants[0].id) == 1


def test_checking_out_again_releases_the_earlier_unpaid_hold(client, stripe_api):
    vest = make_vest({"VEST-M-08": 1})
    add_to_cart(client, vest.variants[0])
    assert checkout(client).status_code == 303
    assert _stock(vest.variants[0].id) == 0

    # Back from Stripe without paying, the same visitor checks out again.
    response = checkout(client)

    assert response.status_code == 303
    first, second = all_orders()
    assert first.status == OrderStatus.EXPIRED and second.status == OrderStatus.PENDING
    assert _stock(vest.variants[0].id) == 0  # held once, by the newer order only
    assert stripe_api.sessions[first.stripe_session_id]["status"] == "expired"


def test_sold_out_at_checkout_gives_a_message_and_holds_nothing(client, stripe_api):
    vest = make_vest({"VEST-M-08": 1, "VEST-L-08": 3})
    add_to_cart(client, vest.variants[1], 2)
    add_to_cart(client, vest.variants[0])
    vest.variants[0].stock = 0  # someone else bought it meanwhile
    db.session.commit()

    response = checkout(client)

    assert response.status_code == 409
    assert "sold out" in response.get_data(as_text=True)
    assert all_orders() == []
    assert db.session.scalar(select(func.count()).select_from(OrderLine)) == 0
    assert _stock(vest.variants[1].id) == 3  # the other line's hold was rolled back too
    assert stripe_api.created() == []
