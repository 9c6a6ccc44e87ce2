"""The page cache on the shop pages: stock and product changes show at once, carts stay
private."""

from blueprints.shop.checkout import cancel_order
from blueprints.shop.models import Order
from extensions import db
from tests.shop.conftest import add_to_cart, checkout, make_vest


def _page(client, url="/shop/weighted-vest"):
    response = client.get(url)
    assert response.status_code == 200
    return response


def test_the_product_page_is_cached_for_anonymous_readers(client):
    make_vest({"VEST-M-08": 1})
    assert _page(client).headers["X-Cache"] == "MISS"
    assert _page(client).headers["X-Cache"] == "HIT"


def test_buying_the_last_vest_shows_sold_out_at_once(app, client, stripe_api):
    vest = make_vest({"VEST-M-08": 1})
    reader = app.test_client()
    assert "Sold out" not in _page(reader).text
    _page(reader, "/shop/")
    assert "Sold out" not in _page(reader, "/shop/").text  # cached, in stock

    add_to_cart(client, vest.variants[0])
    assert checkout(client).status_code == 303  # the checkout holds the last one

    assert '<button type="submit" disabled>Sold out</button>' in _page(reader).text
    assert "Sold out" in _page(reader, "/shop/").text


def test_a_cancelled_checkout_puts_the_vest_back_on_sale_at_once(app, client, stripe_api):
    vest = make_vest({"VEST-M-08": 1})
    add_to_cart(client, vest.variants[0])
    checkout(client)
    reader = app.test_client()
    assert "disabled>Sold out" in _page(reader).text
    order = db.session.scalar(db.select(Order))
    cancel_order(order, "test: the reader gave up")
    db.session.commit()
    assert "disabled>Sold out" not in _page(reader).text


def test_a_visitor_with_a_cart_never_gets_or_fills_the_cache(app, client):
    vest = make_vest({"VEST-M-08": 5})
    add_to_cart(client, vest.variants[0])
    mine = _page(client, "/shop/")
    assert mine.headers["X-Cache"] == "MISS"
    assert _page(client, "/shop/").headers["X-Cache"] == "MISS"
    # The cart holder's pages (with their cart count and flash) were never stored.
    stranger = _page(app.test_client(), "/shop/")
    assert stranger.headers["X-Cache"] == "MISS"
    assert "Added Size M" not in stranger.text


def test_a_staff_price_change_shows_at_once(app, client, auth):
    vest = make_vest({"VEST-M-08": 5}, price_cents=10900)
    reader = app.test_client()
    _page(reader)
    assert "$109.00" in _page(reader).text
    auth.login()
    variant = vest.variants[0]
    response = client.post(
        f"/admin/variants/{variant.id}",
        data={
            "sku": variant.sku,
            "name": variant.name,
            "price": "99.00",
            "stock": "5",
            "active": "y",
        },
    )
    assert response.status_code == 303
    assert "$99.00" in _page(reader).text and "$109.00" not in _page(reader).text
