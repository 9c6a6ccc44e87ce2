"""One quantity rule per option: the most one order can have of it is the smaller of the
per-order limit and what is left. The hint, the field's max and every refusal name that
one number, on the product page and in the cart."""

import re

import pytest
from sqlalchemy import select

from blueprints.shop.models import CartLine
from extensions import db
from tests.shop.conftest import add_to_cart, make_program, make_vest


def _lines():
    db.session.expire_all()
    return db.session.scalars(select(CartLine)).all()


def _hint_and_max(page):
    hint = re.search(r'<span class="hint" id="quantity-hint"[^>]*>([^<]*)</span>', page)[1]
    field = re.search(r'<input type="number" id="quantity"[^>]*>', page, re.S)[0]
    return hint, re.search(r'max="(\d+)"', field)[1]


@pytest.mark.parametrize(
    ("stock", "maximum"),
    [
        (2, 2),  # fewer left than one order may have: what is left
        (8, 3),  # plenty left: the per-order limit of a vest option
        (None, 10),  # unlimited stock: the line's limit
    ],
)
def test_the_hint_and_the_field_name_the_options_real_maximum(client, stock, maximum):
    vest = make_vest({"VEST-M-08": stock})
    page = client.get(f"/shop/{vest.slug}").get_data(as_text=True)
    assert _hint_and_max(page) == (f"From 1 to {maximum}.", str(maximum))


@pytest.mark.parametrize("quantity", ["", "0", "2.5", "abc", "-1", "3", "4", "1000000"])
def test_every_refused_quantity_names_what_is_left_when_fewer_than_the_limit(client, quantity):
    """The walkthrough: "Only 2 left", yet "From 1 to 3", "from 1 to 10" and "at most 3"."""
    vest = make_vest({"VEST-M-08": 2})
    response = add_to_cart(client, vest.variants[0], quantity)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Please choose a quantity from 1 to 2." in page
    assert 'aria-invalid="true"' in page and f'value="{quantity}"' in page
    assert _hint_and_max(page) == ("From 1 to 2.", "2")
    assert "1 to 10" not in page and "1 to 3" not in page and "at most 3" not in page
    assert _lines() == []


@pytest.mark.parametrize("quantity", ["", "0", "2.5", "4"])
def test_every_refused_quantity_names_the_per_order_limit_when_plenty_are_left(client, quantity):
    vest = make_vest({"VEST-M-08": 8})
    page = add_to_cart(client, vest.variants[0], quantity).get_data(as_text=True)
    assert "Please choose a quantity from 1 to 3." in page
    assert _hint_and_max(page) == ("From 1 to 3.", "3")
    assert "1 to 10" not in page


def test_a_quantity_within_the_real_maximum_is_added(client):
    vest = make_vest({"VEST-M-08": 2})
    assert add_to_cart(client, vest.variants[0], 2).status_code == 303
    assert [line.quantity for line in _lines()] == [2]


def test_adding_to_what_the_cart_holds_says_how_many_more_fit(client):
    vest = make_vest({"VEST-M-08": 8})
    add_to_cart(client, vest.variants[0], 2)
    page = add_to_cart(client, vest.variants[0], 2).get_data(as_text=True)
    assert "Please choose a quantity from 1 to 1" in page
    assert "Your cart already holds 2 of Weighted Vest (Size M, 8 lb)" in page
    assert "you can buy at most 3" in page
    add_to_cart(client, vest.variants[0], 1)
    page = add_to_cart(client, vest.variants[0], 1).get_data(as_text=True)
    assert "Your cart already holds 3 of Weighted Vest (Size M, 8 lb)" in page
    assert [line.quantity for line in _lines()] == [3]


@pytest.mark.parametrize("quantity", ["0", "2.5", "", "3"])
def test_the_cart_names_the_same_maximum_in_its_field_and_its_refusals(client, quantity):
    vest = make_vest({"VEST-M-08": 2})
    add_to_cart(client, vest.variants[0], 1)
    line = _lines()[0]
    response = client.post("/cart/update", data={"line_id": line.id, "quantity": quantity})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Please choose a quantity from 1 to 2." in page
    assert re.search(rf'id="qty-{line.id}"[^>]*max="2"', page)
    assert "1 to 10" not in page
    assert _lines()[0].quantity == 1


def test_a_program_has_no_quantity_and_its_refusal_says_once(client):
    program = make_program()
    page = client.get(f"/shop/{program.slug}").get_data(as_text=True)
    assert 'id="quantity"' not in page
    response = add_to_cart(client, program.variants[0], 2)
    assert response.status_code == 400
    assert "you can buy it once per order" in response.get_data(as_text=True)
    assert _lines() == []
