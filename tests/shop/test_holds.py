"""Free holds: one visitor (one session, one client address) cannot take the vests off
the shelf with checkouts they never pay. At most 3 open checkouts and 10 held units per
visitor, at most 3 of one vest option per order; past that, a 429 page says why."""

import threading

from sqlalchemy import func, select

from blueprints.shop.models import Order, OrderLine, OrderStatus, Variant
from extensions import db
from tests.shop.conftest import add_to_cart, checkout, make_vest

ATTACKER = "203.0.113.9"
# Four sizes, three weights: twelve options, three of each in stock.
TWELVE = {f"VEST-{size}-{lb:02d}": 3 for size in ("S", "M", "L", "XL") for lb in (4, 8, 12)}


def _visitor(app, address=ATTACKER):
    """A new browser (its own session) at ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _held_units():
    db.session.expire_all()
    return db.session.scalar(
        select(func.coalesce(func.sum(OrderLine.quantity), 0))
        .join(Order)
        .where(Order.status == OrderStatus.PENDING, OrderLine.stock_held)
    )


def _open_checkouts():
    return db.session.scalar(
        select(func.count()).select_from(Order).where(Order.status == OrderStatus.PENDING)
    )


def _sold_out_options():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Variant).where(Variant.stock == 0))


def test_one_address_cannot_make_every_vest_option_sold_out(app, stripe_api):
    vest = make_vest(TWELVE)
    answers = []
    for variant in vest.variants:  # a fresh session for each, as a script would
        visitor = _visitor(app)
        add_to_cart(visitor, variant, 3)
        response = checkout(visitor)
        answers.append((response.status_code, response.get_data(as_text=True)))

    assert [status for status, _page in answers] == [303] * 3 + [429] * 9
    fourth = answers[3][1]
    assert "3 checkouts" in fourth and "finish" in fourth.lower() and "cancel" in fourth.lower()
    assert _open_checkouts() == 3 and _held_units() <= 10
    assert _sold_out_options() < len(TWELVE)
    page = _visitor(app, "198.51.100.1").get("/shop/weighted-vest").get_data(as_text=True)
    assert page.count("Sold out") < len(TWELVE)


def test_one_cart_cannot_hold_more_than_ten_units(app, stripe_api):
    vest = make_vest(TWELVE)
    visitor = _visitor(app)
    for variant in vest.variants:
        add_to_cart(visitor, variant, 3)

    response = checkout(visitor)

    assert response.status_code == 429
    assert "10" in response.get_data(as_text=True)
    assert _held_units() == 0 and _open_checkouts() == 0 and _sold_out_options() == 0
    assert stripe_api.created() == []


def test_at_most_three_of_one_vest_option_per_order(app, stripe_api):
    vest = make_vest({"VEST-M-08": 8})
    visitor = _visitor(app)
    response = add_to_cart(visitor, vest.variants[0], 4)
    assert response.status_code == 400
    assert "Please choose a quantity from 1 to 3." in response.get_data(as_text=True)
    assert add_to_cart(visitor, vest.variants[0], 3).status_code == 303
    assert add_to_cart(visitor, vest.variants[0], 1).status_code == 400


def test_the_per_option_cap_is_a_setting(app, stripe_api):
    app.config["SHOP_MAX_PER_OPTION"] = 5
    vest = make_vest({"VEST-M-08": 8})
    visitor = _visitor(app)
    assert add_to_cart(visitor, vest.variants[0], 5).status_code == 303
    assert checkout(visitor).status_code == 303
    assert _held_units() == 5


def test_other_addresses_and_a_new_checkout_from_the_same_cart_still_work(app, stripe_api):
    vest = make_vest(TWELVE)
    visitors = [_visitor(app) for _ in range(3)]
    for visitor, variant in zip(visitors, vest.variants, strict=False):
        add_to_cart(visitor, variant, 1)
        assert checkout(visitor).status_code == 303
    # The same browser checking out again replaces its earlier checkout.
    assert checkout(visitors[0]).status_code == 303
    assert _open_checkouts() == 3
    neighbour = _visitor(app, "198.51.100.7")
    add_to_cart(neighbour, vest.variants[5], 1)
    assert checkout(neighbour).status_code == 303


def test_checkouts_at_once_from_one_address_hold_at_most_three(app, stripe_api):
    vest = make_vest(TWELVE)
    visitors = []
    for variant in vest.variants[:8]:
        visitor = _visitor(app)
        add_to_cart(visitor, variant, 1)
        visitors.append(visitor)
    barrier = threading.Barrier(len(visitors))
    statuses = []
    lock = threading.Lock()

    def buy(visitor):
        barrier.wait()
        response = visitor.post("/cart/checkout", data={})
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=buy, args=(v,)) for v in visitors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(statuses) == [303] * 3 + [429] * 5
    assert _open_checkouts() == 3 and _held_units() == 3


def test_leaving_stripes_page_the_buyer_can_release_the_items_at_once(app, stripe_api):
    vest = make_vest({"VEST-M-08": 3})
    visitor = _visitor(app)
    add_to_cart(visitor, vest.variants[0], 3)
    assert checkout(visitor).status_code == 303
    order = db.session.scalars(select(Order)).one()
    url = f"/shop/cancelled?order={order.id}"
    assert "Release these items" in visitor.get(url).get_data(as_text=True)

    # Someone else with the same link can neither see the button nor release it.
    stranger = _visitor(app, "198.51.100.3")
    assert "Release these items" not in stranger.get(url).get_data(as_text=True)
    assert stranger.post(url, data={}).status_code == 303
    assert _open_checkouts() == 1 and _sold_out_options() == 1

    assert visitor.post(url, data={}).status_code == 303
    assert _open_checkouts() == 0 and _sold_out_options() == 0
    assert stripe_api.sessions[order.stripe_session_id]["status"] == "expired"
    assert "Release these items" not in visitor.get(url).get_data(as_text=True)
