"""A vest's options: size and weight as two choices (or one combined choice without
script), impossible pairs refused with the form back, no SKU shown to customers,
programs bought once, and the size guide."""

import re

import pytest
from sqlalchemy import select

from blueprints.core.markdown import render_post
from blueprints.shop.models import CartLine, Product, ProductKind, Variant
from blueprints.shop.options import SIZE_GUIDE
from blueprints.shop.seed import seed_shipping_rates
from extensions import db
from tests.conftest import text_part
from tests.shop.conftest import add_to_cart, make_program, paid_order

# (size, pounds): stock; ("S", 8) is sold out, ("L", 8) is no longer sold.
STOCK = {("S", 4): 3, ("S", 8): 0, ("M", 4): 5, ("M", 8): 6, ("L", 4): 2, ("L", 8): 4}


def make_sized_vest():
    """A vest in three sizes and two weights (``STOCK``), shipped at the demo's rates."""
    seed_shipping_rates()
    product = Product(
        slug="walking-vest",
        name="Walking Vest",
        kind=ProductKind.PHYSICAL,
        summary="A vest.",
        description_md="A vest.",
        description_html=render_post("A vest."),
    )
    for position, ((size, pounds), stock) in enumerate(STOCK.items()):
        product.variants.append(
            Variant(
                sku=f"SECRET-SKU-{size}{pounds}",
                name=f"Size {size}, {pounds} lb",
                size=size,
                added_weight_lb=pounds,
                price_cents=8900 + pounds * 250,
                stock=stock,
                active=(size, pounds) != ("L", 8),
                position=position,
            )
        )
    db.session.add(product)
    db.session.commit()
    return product


def _variant(product, size, pounds):
    return next(v for v in product.variants if (v.size, v.added_weight_lb) == (size, pounds))


def _lines():
    db.session.expire_all()
    return db.session.scalars(select(CartLine)).all()


def test_size_and_weight_choose_their_option(client):
    vest = make_sized_vest()
    response = client.post(
        "/cart/add", data={"product_id": vest.id, "size": "M", "weight": "8", "quantity": "2"}
    )
    assert response.status_code == 303
    [line] = _lines()
    assert (line.variant_id, line.quantity) == (_variant(vest, "M", 8).id, 2)


def test_the_page_offers_one_combined_choice_without_script_and_two_with_it(client):
    vest = make_sized_vest()
    page = client.get(f"/shop/{vest.slug}").get_data(as_text=True)
    combined = re.search(r'<select id="variant_id" name="variant_id".*?</select>', page, re.S)[0]
    # Every option for sale, with its price and stock; sold out ones cannot be chosen.
    assert "Size M, 8 lb: $109.00. In stock" in combined
    assert re.search(r"disabled>Size S, 8 lb: \$109.00. Sold out", combined)
    assert "Size L, 8 lb" not in combined  # not for sale
    # The first option for sale is chosen.
    assert re.search(r"selected>Size S, 4 lb: \$99.00. Only 3 left", combined)
    # The two choices wait, disabled, for options.js; the script is a file (CSP).
    assert re.search(r'<select id="size" name="size"[^>]*disabled', page)
    assert re.search(r'<select id="weight" name="weight"[^>]*disabled', page)
    assert '<option value="4" selected>4 lb</option>' in page
    assert "js/options.js" in page and not re.search(r"<script(?![^>]*\bsrc=)", page)
    # Posting the combined choice works as it is.
    add_to_cart(client, _variant(vest, "L", 4), 1)
    assert [line.variant_id for line in _lines()] == [_variant(vest, "L", 4).id]


@pytest.mark.parametrize(
    ("size", "weight", "status", "message"),
    [
        ("XXL", "4", 400, "we do not offer size XXL with 4 lb"),
        ("L", "8", 400, "we do not offer size L with 8 lb"),  # no longer for sale
        ("S", "8", 409, "size S with 8 lb is sold out"),
        ("M", "12", 400, "we do not offer size M with 12 lb"),
    ],
)
def test_an_impossible_pair_is_refused_with_the_form_back(client, size, weight, status, message):
    vest = make_sized_vest()
    response = client.post(
        "/cart/add", data={"product_id": vest.id, "size": size, "weight": weight, "quantity": "1"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == status
    assert message in page and "Please choose another size or weight." in page
    assert 'action="/cart/add"' in page and 'role="alert"' in page  # the form, with why
    assert _lines() == []
    if status == 409:  # a pair that is made comes back chosen as she sent it
        assert f'<option value="{size}" selected>' in page
        assert f'<option value="{weight}" selected>{weight} lb</option>' in page


def test_a_missing_size_or_weight_is_named(client):
    vest = make_sized_vest()
    response = client.post("/cart/add", data={"product_id": vest.id, "quantity": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Please choose a size." in page and "Please choose an added weight." in page


def test_no_sku_is_shown_on_customer_pages_or_in_the_order_email(client, stripe_api, mailbox):
    vest = make_sized_vest()
    program = make_program(sku="SECRET-SKU-PROGRAM")
    pages = [client.get(url).get_data(as_text=True) for url in
             ("/shop/", f"/shop/{vest.slug}", f"/shop/{program.slug}")]  # fmt: skip
    add_to_cart(client, _variant(vest, "M", 4), 1)
    pages.append(client.get("/cart").get_data(as_text=True))
    order = paid_order(client, stripe_api, program)
    mail = mailbox.wait_for(1)[0]
    assert order.lines  # the order kept its SKUs for staff
    for text in [*pages, text_part(mail), mail.get_payload()[-1].get_payload(decode=True).decode()]:
        assert "SECRET-SKU" not in text and "SKU" not in text


def test_a_program_has_no_quantity_and_is_bought_once(client):
    program = make_program()
    page = client.get(f"/shop/{program.slug}").get_data(as_text=True)
    assert 'name="quantity"' not in page
    variant = program.variants[0]
    # The page's form, as sent: no quantity at all.
    assert client.post("/cart/add", data={"variant_id": variant.id}).status_code == 303
    # Asked again, it stays one in the cart.
    assert client.post("/cart/add", data={"variant_id": variant.id}).status_code == 303
    assert [line.quantity for line in _lines()] == [1]
    cart = client.get("/cart").get_data(as_text=True)
    assert f'id="qty-{_lines()[0].id}"' not in cart and "a program is bought once" in cart

    refused = client.post("/cart/add", data={"variant_id": variant.id, "quantity": "3"})
    assert refused.status_code == 400
    assert "you can buy it once per order" in refused.get_data(as_text=True)
    line = _lines()[0]
    updated = client.post("/cart/update", data={"line_id": line.id, "quantity": "2"})
    assert updated.status_code == 400 and [ln.quantity for ln in _lines()] == [1]


def test_the_vest_page_has_a_size_guide_table(client):
    vest = make_sized_vest()
    page = client.get(f"/shop/{vest.slug}").get_data(as_text=True)
    table = re.search(r'<section class="size-guide".*?</section>', page, re.S)[0]
    assert "<caption" in table and '<th scope="col">Chest (inches)</th>' in table
    for size, inches, cm in SIZE_GUIDE:
        assert f'<th scope="row">{size}</th><td>{inches}</td><td>{cm}</td>' in table
    program = make_program()
    assert "size-guide" not in client.get(f"/shop/{program.slug}").get_data(as_text=True)
