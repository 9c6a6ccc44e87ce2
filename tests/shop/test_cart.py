"""The cart: server-side, validated quantities, clear messages for bad input."""

import pytest
from sqlalchemy import func, select

from blueprints.shop.models import Cart, CartLine, Order
from extensions import db
from tests.shop.conftest import add_to_cart, checkout, make_program, make_vest


def _lines():
    db.session.expire_all()
    return db.session.scalars(select(CartLine)).all()


def test_cart_is_held_server_side_under_a_random_token(client):
    vest = make_vest({"VEST-M-08": 5})
    response = add_to_cart(client, vest.variants[0], 2)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/shop/{vest.slug}")  # she stays on it
    [cart] = db.session.scalars(select(Cart)).all()
    with client.session_transaction() as session:
        assert session["cart_token"] == cart.token
    assert len(cart.token) >= 40
    assert [(ln.variant_id, ln.quantity) for ln in _lines()] == [(vest.variants[0].id, 2)]
    page = client.get("/cart").get_data(as_text=True)
    assert "Weighted Vest (Size M, 8 lb)" in page and "$218.00" in page


def test_adding_the_same_variant_twice_makes_one_line(client):
    vest = make_vest({"VEST-M-08": 5})
    add_to_cart(client, vest.variants[0], 1)
    add_to_cart(client, vest.variants[0], 2)
    assert [ln.quantity for ln in _lines()] == [3]


def test_another_visitor_cannot_see_or_change_my_cart(app, client):
    vest = make_vest({"VEST-M-08": 5})
    add_to_cart(client, vest.variants[0])
    line = _lines()[0]
    other = app.test_client()
    assert "Your cart is empty" in other.get("/cart").get_data(as_text=True)
    response = other.post("/cart/remove", data={"line_id": line.id})
    assert response.status_code == 404
    assert len(_lines()) == 1


def test_update_and_remove_change_the_cart(client):
    vest = make_vest({"VEST-M-08": 5})
    add_to_cart(client, vest.variants[0])
    line = _lines()[0]
    assert client.post("/cart/update", data={"line_id": line.id, "quantity": 3}).status_code == 303
    assert _lines()[0].quantity == 3
    assert client.post("/cart/remove", data={"line_id": line.id}).status_code == 303
    assert _lines() == []


@pytest.mark.parametrize("quantity", ["0", "-1", "1000000", "abc", ""])
def test_bad_quantity_when_adding_is_refused_with_a_message(client, quantity):
    vest = make_vest({"VEST-M-08": 5})
    response = client.post(
        "/cart/add", data={"variant_id": vest.variants[0].id, "quantity": quantity}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    # 5 left, 3 at most of one vest option in one order: 3 (test_quantity_limits.py).
    assert "Please choose a quantity from 1 to 3." in page
    assert 'aria-invalid="true"' in page
    assert f'value="{quantity}"' in page  # what the person typed comes back
    assert _lines() == []


@pytest.mark.parametrize("quantity", ["0", "-1", "1000000", "abc"])
def test_bad_quantity_when_updating_is_refused_and_keeps_the_line(client, quantity):
    vest = make_vest({"VEST-M-08": 5})
    add_to_cart(client, vest.variants[0], 2)
    line = _lines()[0]
    response = client.post("/cart/update", data={"line_id": line.id, "quantity": quantity})
    assert response.status_code == 400
    assert "quantity from 1 to 3." in response.get_data(as_text=True)
    assert _lines()[0].quantity == 2


def test_more_than_ten_of_one_item_in_total_is_refused(client):
    item = make_vest({"VEST-M-08": None})  # unlimited stock: only the line's limit applies
    add_to_cart(client, item.variants[0], 8)
    response = add_to_cart(client, item.variants[0], 3)
    assert response.status_code == 400
    assert "at most 10" in response.get_data(as_text=True)
    assert _lines()[0].quantity == 8


@pytest.mark.parametrize("variant_id", ["999999", "abc", ""])
def test_unknown_variant_is_refused_with_a_message(client, variant_id):
    make_vest({"VEST-M-08": 5})
    response = client.post("/cart/add", data={"variant_id": variant_id, "quantity": 1})
    assert response.status_code == 404
    assert "not available" in response.get_data(as_text=True)
    assert _lines() == []


def test_inactive_variant_is_refused(client):
    vest = make_vest({"VEST-M-08": 5})
    vest.variants[0].active = False
    db.session.commit()
    response = add_to_cart(client, vest.variants[0])
    assert response.status_code == 404 and _lines() == []


def test_sold_out_variant_is_refused_with_a_message(client):
    vest = make_vest({"VEST-M-08": 0})
    response = add_to_cart(client, vest.variants[0])
    assert response.status_code == 409
    assert "sold out" in response.get_data(as_text=True)
    assert _lines() == []


def test_asking_for_more_than_the_stock_names_what_is_left(client):
    vest = make_vest({"VEST-M-08": 2})
    response = add_to_cart(client, vest.variants[0], 3)
    assert response.status_code == 400
    assert "Please choose a quantity from 1 to 2." in response.get_data(as_text=True)


def test_bad_input_never_leaves_a_pending_order(client, stripe_api):
    vest = make_vest({"VEST-M-08": 0})
    for quantity in ("0", "-1", "1000000", "abc"):
        client.post("/cart/add", data={"variant_id": vest.variants[0].id, "quantity": quantity})
    add_to_cart(client, vest.variants[0])
    checkout(client)
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_cart_forms_need_a_csrf_token(client):
    vest = make_vest({"VEST-M-08": 5})
    response = client.post(
        "/cart/add", data={"variant_id": vest.variants[0].id, "quantity": 1}, csrf=False
    )
    assert response.status_code == 400 and _lines() == []


def test_after_adding_she_stays_on_the_product_with_a_link_to_the_cart(client):
    vest = make_vest({"VEST-M-08": 5})
    response = add_to_cart(client, vest.variants[0], 1)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Added Weighted Vest (Size M, 8 lb) to your cart." in page
    assert '<a href="/cart">Go to your cart</a>' in page


def _count_cookie(client):
    cookie = client.get_cookie("bb_cart")
    return cookie.value if cookie else None


def test_the_header_count_follows_the_cart_and_no_page_carries_it(client, app):
    """The count travels in a cookie site.js reads; every page's header is the same link
    for every reader, so shared cached pages never show anyone's count."""
    vest = make_vest({"VEST-M-08": 5, "VEST-L-10": 5})
    assert _count_cookie(client) is None
    add_to_cart(client, vest.variants[0], 2)
    assert _count_cookie(client) == "2"
    add_to_cart(client, vest.variants[1], 1)
    assert _count_cookie(client) == "3"
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/cart" data-cart-link >Cart<span data-cart-count></span></a>' in page
    for line in _lines():
        client.post("/cart/remove", data={"line_id": line.id})
    assert _count_cookie(client) is None
    # A stranger's header is the same, and she gets no count.
    stranger = app.test_client()
    assert "<span data-cart-count></span>" in stranger.get("/").get_data(as_text=True)
    assert _count_cookie(stranger) is None


def test_adding_a_program_already_in_the_cart_says_so_and_keeps_one(client):
    program = make_program()
    first = add_to_cart(client, program.variants[0])
    assert "Added 12-Week Back Program" in client.get(first.headers["Location"]).text
    response = add_to_cart(client, program.variants[0])
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "12-Week Back Program (Online program) is already in your cart." in page
    assert "Added 12-Week Back Program" not in page
    assert [line.quantity for line in _lines()] == [1]
