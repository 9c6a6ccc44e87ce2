"""The last vest: twenty buyers at once, one checkout, nineteen "sold out", stock 0.

Runs on the file SQLite database and, with TEST_DATABASE_URL, on PostgreSQL. Each
buyer has their own cart and their own client, so each request uses its own app
context, session and connection.
"""

import threading

import pytest
from sqlalchemy import func, select

from blueprints.shop.models import Cart, CartLine, Order, OrderStatus, Variant
from extensions import db
from tests.shop.conftest import make_vest
from tests.stripe_fake import stripe_config

BUYERS = 20


@pytest.fixture
def app_config(httpserver):
    return {
        **stripe_config(httpserver),
        "RATELIMIT_ENABLED": False,  # twenty buyers share 127.0.0.1 here
    }


def _buyer_client(app, variant_id, n):
    cart = Cart(token=f"buyer-{n}-" + "x" * 20)
    cart.lines.append(CartLine(variant_id=variant_id, quantity=1))
    db.session.add(cart)
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["cart_token"] = cart.token
    client.get("/cart")  # a page view first, as a browser would have done
    return client


def test_twenty_buyers_for_the_last_vest_exactly_one_checks_out(app, stripe_api):
    vest = make_vest({"VEST-M-08": 1})
    variant_id = vest.variants[0].id
    clients = [_buyer_client(app, variant_id, n) for n in range(BUYERS)]
    barrier = threading.Barrier(BUYERS)
    results = []
    lock = threading.Lock()

    def buy(client):
        barrier.wait()
        response = client.post("/cart/checkout", data={})
        with lock:
            results.append((response.status_code, response.get_data(as_text=True)))

    threads = [threading.Thread(target=buy, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    statuses = sorted(status for status, _body in results)
    assert statuses == [303] + [409] * (BUYERS - 1)
    sold_out = [body for status, body in results if status == 409]
    assert all("sold out" in body for body in sold_out)
    db.session.expire_all()
    assert db.session.get(Variant, variant_id).stock == 0
    orders = db.session.scalars(select(Order)).all()
    assert [o.status for o in orders] == [OrderStatus.PENDING]
    assert len(stripe_api.created()) == 1
    assert db.session.scalar(select(func.min(Variant.stock))) == 0
