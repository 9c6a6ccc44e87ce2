"""Two staff acting on the same thing at the same moment: one wins, the other is told.

Each staff member has their own client, so each request runs in its own thread with its
own app context, session and database connection (SQLite file or PostgreSQL).
"""

import contextlib
import re
import threading

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from blueprints.account.services import create_staff
from blueprints.shop.models import Order, OrderEvent, OrderEventKind, Product, Refund, Variant
from extensions import db
from tests.shop.conftest import make_program, make_vest, paid_order
from tests.stripe_fake import stripe_config

PASSWORD = "correct horse battery staple"


@pytest.fixture
def app_config(httpserver):
    return {
        **stripe_config(httpserver),
        "RATELIMIT_ENABLED": False,  # both staff share 127.0.0.1 here
    }


@pytest.fixture
def two_staff(app):
    clients = []
    for n in (1, 2):
        email = f"staff{n}@betterbones.example"
        create_staff(email, PASSWORD, name=f"Staff {n}")
        db.session.commit()
        client = app.test_client()
        # Its own app context: requests made here would otherwise share the test's ``g``,
        # and with it the first one's signed-in user.
        with app.app_context():
            response = client.post("/admin/login", data={"email": email, "password": PASSWORD})
        assert response.status_code in (302, 303)
        clients.append(client)
    return clients


def _at_once(clients, post):
    """Run ``post(client)`` in one thread per client; the (status, body) of each."""
    results = [None] * len(clients)

    def run(i):
        try:
            response = post(clients[i])
            results[i] = (response.status_code, response.get_data(as_text=True))
        except Exception as exc:  # a 500 propagates in tests: record it as one
            results[i] = (500, repr(exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def meet_before_inserting():
    """``meet_before_inserting(Model)``: hold each request's flush of a new ``Model`` row
    until both have reached it, so both have made every check they make before writing
    (the race the database must end)."""
    listeners = []

    def arrange(model):
        barrier = threading.Barrier(2, timeout=10)

        def wait(session, flush_context, instances):
            if any(isinstance(obj, model) for obj in session.new):
                # Broken: the other request never got this far, so there is nothing to race.
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait()

        event.listen(Session, "before_flush", wait)
        listeners.append(wait)

    yield arrange
    for wait in listeners:
        event.remove(Session, "before_flush", wait)


def _new_product_form(name):
    return {
        "name": name,
        "slug": "balance-class",
        "kind": "program",
        "summary": "Six lessons.",
        "description_md": "Steady feet.",
        "image_path": "",
        "image_alt": "",
        "position": "4",
        "active": "y",
    }


def test_two_staff_saving_the_same_new_product_slug_one_saved_one_form_error(
    two_staff, meet_before_inserting
):
    meet_before_inserting(Product)
    names = iter(["Balance Class A", "Balance Class B"])
    forms = {id(client): _new_product_form(next(names)) for client in two_staff}

    results = _at_once(
        two_staff, lambda client: client.post("/admin/products/new", data=forms[id(client)])
    )

    statuses = sorted(status for status, _body in results)
    assert statuses == [303, 400], results
    [refused] = [body for status, body in results if status == 400]
    assert "Another product already uses this address." in refused
    db.session.expire_all()
    products = db.session.scalars(select(Product).where(Product.slug == "balance-class")).all()
    assert len(products) == 1


def test_two_staff_adding_the_same_new_sku_one_saved_one_form_error(
    two_staff, meet_before_inserting
):
    url = f"/admin/products/{make_vest({'VEST-M-08': 3}).id}/variants"
    meet_before_inserting(Variant)
    names = iter(["Size XL, 4 lb", "Size XL, 4 lb (new)"])
    forms = {
        id(client): {
            "sku": "VEST-XL-04",
            "name": next(names),
            "price": "89.00",
            "stock": "5",
            "active": "y",
        }
        for client in two_staff
    }

    results = _at_once(
        two_staff,
        lambda client: client.post(url, data=forms[id(client)]),
    )

    statuses = sorted(status for status, _body in results)
    assert statuses == [303, 400], results
    [refused] = [body for status, body in results if status == 400]
    assert "Another variant already uses this SKU." in refused
    db.session.expire_all()
    assert len(db.session.scalars(select(Variant).where(Variant.sku == "VEST-XL-04")).all()) == 1


def test_two_staff_refunding_one_order_at_once_make_one_refund(app, two_staff, stripe_api, mailbox):
    order = paid_order(app.test_client(), stripe_api, make_program(price_cents=4900))
    # Each staff member has the order page open, each with their own form.
    keys = {}
    for client in two_staff:
        with app.app_context():
            page = client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
        keys[id(client)] = re.search(r'name="request_key"[^>]*value="([^"]+)"', page).group(1)
    stripe_api.refund_delay = 0.3  # Stripe takes a moment, as it does

    results = _at_once(
        two_staff,
        lambda client: client.post(
            f"/admin/orders/{order.id}/refund",
            data={"amount": "49.00", "request_key": keys[id(client)], "confirm": "yes"},
        ),
    )

    statuses = sorted(status for status, _body in results)
    assert statuses == [303, 409], results
    refund_calls = [r for r in stripe_api.requests if r[1] == "/v1/refunds"]
    assert len(refund_calls) == 1
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.refunded_cents == 4900
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 1
    kinds = db.session.scalars(select(OrderEvent.kind).where(OrderEvent.order_id == order.id)).all()
    assert kinds.count(OrderEventKind.REFUNDED) == 1
    assert kinds.count(OrderEventKind.REFUND_REQUESTED) == 1
