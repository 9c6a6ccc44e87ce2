"""Shipping a vest: the rates on the product page and in the cart, Checkout's
``shipping_options`` from our rows (free above the threshold, none for programs), and
the webhook's check that she paid the lines plus a rate offered for her country."""

import pytest
from sqlalchemy import update

from blueprints.shop.models import OrderStatus, ShippingRate
from extensions import db
from tests.conftest import html_part, text_part
from tests.shop.conftest import (
    add_to_cart,
    checkout,
    latest_order,
    make_program,
    make_vest,
)
from tests.stripe_fake import make_event, post_event


def _set_rate(country, name, **values):
    db.session.execute(
        update(ShippingRate)
        .where(ShippingRate.country == country, ShippingRate.name == name)
        .values(**values)
    )
    db.session.commit()


def _vest_in_cart(client, quantity=1, price_cents=10900):
    vest = make_vest({"VEST-M-08": 5}, price_cents=price_cents)
    assert add_to_cart(client, vest.variants[0], quantity).status_code == 303
    return vest


def _ship_to(client, country):
    return client.post("/cart/ship-to", data={"country": country})


def _sent(stripe_api):
    [(_method, _path, form, _headers)] = stripe_api.created()
    return form


# --- what she sees ------------------------------------------------------------------------


def test_the_vest_page_shows_each_countrys_rates_and_the_free_threshold(client):
    make_vest()
    page = client.get("/shop/weighted-vest").get_data(as_text=True)

    assert '<h2 id="shipping-heading">Shipping</h2>' in page
    assert "<h3>United States</h3>" in page and "<h3>Canada</h3>" in page
    assert "Standard, 3\u20135 business days: <strong>$12.00</strong>" in page
    assert "Express, 1\u20132 business days: <strong>$29.00</strong>" in page
    assert "Standard, 5\u201310 business days: <strong>$24.00</strong>" in page
    # The first rate of each country is free above the threshold.
    assert "<strong>$12.00</strong>, <strong>free</strong> when your items come to $200.00" in page
    assert "<strong>$24.00</strong>, <strong>free</strong> when your items come to $200.00" in page
    assert "<strong>$29.00</strong>, <strong>free</strong>" not in page
    assert 'href="/shipping-returns"' in page


COUNTRY_IN_CART = "In your cart, you choose the country we ship to."
RATE_WHEN_PAYING = "When you pay, you choose one of that country's rates."


@pytest.mark.parametrize(
    ("off_sale", "says"),
    [
        (None, [COUNTRY_IN_CART, RATE_WHEN_PAYING]),
        (("CA", "Standard"), ["When you pay, you choose one of these rates."]),
        (("US", "Express"), [COUNTRY_IN_CART]),
    ],
)
def test_the_vest_page_says_where_the_country_and_the_rate_are_chosen(client, off_sale, says):
    """The country is chosen under the cart's "Ship to" and Checkout offers only that
    country's rates: the page says so, and offers no choice that is not there."""
    make_vest()
    if off_sale:
        _set_rate(*off_sale, active=False)
    page = client.get("/shop/weighted-vest").get_data(as_text=True)
    section = page.split('id="shipping-heading"')[1].split("</section>")[0]
    assert "choose the country and the rate when you pay" not in section
    for sentence in (COUNTRY_IN_CART, RATE_WHEN_PAYING, "one of these rates"):
        assert (sentence in section) == any(sentence in said for said in says), sentence


def test_a_program_page_says_nothing_of_shipping(client):
    make_program()
    page = client.get("/shop/back-program").get_data(as_text=True)
    assert "shipping-heading" not in page and "business days" not in page


def test_the_cart_shows_subtotal_shipping_and_total_with_the_first_rate(client):
    _vest_in_cart(client, quantity=1)
    page = client.get("/cart").get_data(as_text=True)

    assert 'Subtotal</th><td colspan="2">$109.00' in page
    assert "Shipping (United States: Standard, 3\u20135 business days)" in page
    assert "<strong>$121.00</strong>" in page  # 109 + 12
    # Ship to: the United States (the first country) until she chooses another.
    assert '<label for="ship-to">Ship to</label>' in page
    assert '<option value="US" selected>United States</option>' in page
    assert '<option value="CA">Canada</option>' in page
    # Her country's other choices (not another country's), the threshold and the policy.
    assert "United States: Express, 1\u20132 business days: $29.00" in page
    assert "Canada: Standard" not in page
    assert "Free shipping when your items come to $200.00 or more" in page
    assert 'href="/shipping-returns"' in page


def test_choosing_canada_changes_the_cart_total_and_sends_only_canadas_options(client, stripe_api):
    _vest_in_cart(client)
    _set_rate("CA", "Standard", amount_cents=2345, min_days=4, max_days=9)

    response = _ship_to(client, "ca")  # a lower-case code is the same country
    assert response.status_code == 303 and response.headers["Location"].endswith("/cart")
    page = client.get("/cart").get_data(as_text=True)
    assert "Shipping to Canada: your total is updated." in page
    assert '<option value="CA" selected>Canada</option>' in page
    assert "Shipping (Canada: Standard, 4\u20139 business days)" in page
    assert "<strong>$132.45</strong>" in page  # 109 + 23.45
    assert "Express" not in page  # a US rate: not hers

    assert checkout(client).status_code == 303
    form = _sent(stripe_api)
    assert form["shipping_address_collection"] == {"allowed_countries": ["CA"]}
    [sent] = [o["shipping_rate_data"] for o in form["shipping_options"]]
    assert sent["display_name"] == "Canada: Standard"
    assert sent["fixed_amount"] == {"amount": "2345", "currency": "usd"}
    assert sent["delivery_estimate"] == {
        "minimum": {"unit": "business_day", "value": "4"},
        "maximum": {"unit": "business_day", "value": "9"},
    }
    assert [o["country"] for o in latest_order().shipping_offered] == ["CA"]


@pytest.mark.parametrize("country", ["FR", "", "U", "US\x00", "<b>"])
def test_a_country_we_do_not_ship_to_is_refused_with_the_cart(client, stripe_api, country):
    _vest_in_cart(client)
    response = _ship_to(client, country)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Please choose where we ship your order: United States or Canada." in page
    assert "<strong>$121.00</strong>" in page  # her cart, still shipping to the US
    assert response.headers["Cache-Control"] == "private, no-store"
    checkout(client)
    assert _sent(stripe_api)["shipping_address_collection"] == {"allowed_countries": ["US"]}


def test_ship_to_without_the_forms_token_changes_nothing(client, stripe_api):
    _vest_in_cart(client)
    response = client.post("/cart/ship-to", data={"country": "CA"}, csrf=False)

    assert response.status_code == 400
    assert "This form had expired" in response.get_data(as_text=True)
    assert '<option value="US" selected>' in client.get("/cart").get_data(as_text=True)


def test_a_country_whose_rates_went_off_sale_falls_back_to_the_first(client, stripe_api):
    _vest_in_cart(client)
    _ship_to(client, "CA")
    _set_rate("CA", "Standard", active=False)

    page = client.get("/cart").get_data(as_text=True)
    assert "Shipping (United States: Standard" in page and "Ship to" not in page
    assert "We ship your order to United States." in page
    assert _ship_to(client, "CA").status_code == 400
    checkout(client)
    assert _sent(stripe_api)["shipping_address_collection"] == {"allowed_countries": ["US"]}


def test_a_cart_of_programs_only_has_no_shipping_and_checkout_sends_none(client, stripe_api):
    program = make_program()
    add_to_cart(client, program.variants[0])
    page = client.get("/cart").get_data(as_text=True)
    assert 'colspan="3">Subtotal' not in page and "cart-shipping-heading" not in page
    assert "Ship to" not in page and "ship-to" not in page
    assert "<strong>$49.00</strong>" in page

    assert checkout(client).status_code == 303
    form = _sent(stripe_api)
    assert "shipping_options" not in form and "shipping_address_collection" not in form


def test_shipping_is_free_once_the_items_reach_the_threshold(app, client, stripe_api):
    app.config["SHIPPING_FREE_ABOVE_CENTS"] = 21800
    _vest_in_cart(client, quantity=2)  # 2 x 109.00 = 218.00: exactly the threshold
    page = client.get("/cart").get_data(as_text=True)
    assert '<td colspan="2">Free</td>' in page and "<strong>$218.00</strong>" in page
    assert "so United States: Standard, 3\u20135 business days is free" in page

    checkout(client)
    options = _sent(stripe_api)["shipping_options"]
    # Her country's first (standard) rate is free; Express keeps its price.
    assert [o["shipping_rate_data"]["fixed_amount"]["amount"] for o in options] == ["0", "2900"]

    # A cent below it, shipping is charged.
    app.config["SHIPPING_FREE_ABOVE_CENTS"] = 21801
    assert "<strong>$230.00</strong>" in client.get("/cart").get_data(as_text=True)


# --- what Checkout is sent ---------------------------------------------------------------


def test_checkout_sends_only_the_first_countrys_options_by_default(client, stripe_api):
    _vest_in_cart(client)
    _set_rate("US", "Express", amount_cents=2345, min_days=1, max_days=1)

    assert checkout(client).status_code == 303

    form = _sent(stripe_api)
    assert form["shipping_address_collection"] == {"allowed_countries": ["US"]}
    sent = [o["shipping_rate_data"] for o in form["shipping_options"]]
    assert [(d["display_name"], d["fixed_amount"]["amount"]) for d in sent] == [
        ("United States: Standard", "1200"),
        ("United States: Express", "2345"),
    ]
    assert {d["type"] for d in sent} == {"fixed_amount"}
    assert {d["fixed_amount"]["currency"] for d in sent} == {"usd"}
    assert sent[1]["delivery_estimate"] == {
        "minimum": {"unit": "business_day", "value": "1"},
        "maximum": {"unit": "business_day", "value": "1"},
    }
    # The order keeps what it was offered; its total is the lines until she pays.
    order = latest_order()
    assert [o["amount_cents"] for o in order.shipping_offered] == [1200, 2345]
    assert order.total_cents == 10900 and order.shipping_cents == 0


def test_a_rate_off_sale_is_not_offered_and_without_any_the_vest_cannot_be_bought(
    client, stripe_api
):
    _vest_in_cart(client)
    _set_rate("US", "Express", active=False)
    checkout(client)
    countries = [
        o["shipping_rate_data"]["display_name"] for o in _sent(stripe_api)["shipping_options"]
    ]
    assert countries == ["United States: Standard"]

    db.session.execute(update(ShippingRate).values(active=False))
    db.session.commit()
    response = checkout(client)
    assert response.status_code == 404
    assert "we cannot ship right now" in response.get_data(as_text=True)
    assert len(stripe_api.created()) == 1  # Stripe was not asked again


# --- what the webhook accepts -------------------------------------------------------------


def _pay(client, stripe_api, **pay):
    order = latest_order()
    session = stripe_api.pay(order.stripe_session_id, email="ann@example.com", **pay)
    assert (
        post_event(client, make_event("checkout.session.completed", dict(session))).status_code
        == 200
    )
    return latest_order()


def test_paying_a_rate_offered_for_her_country_confirms_with_shipping_in_the_total(
    client, stripe_api, mailbox
):
    _vest_in_cart(client)
    _ship_to(client, "CA")
    checkout(client)

    order = _pay(client, stripe_api, shipping_option=0, country="CA")

    assert order.status == OrderStatus.PAID and not order.needs_attention
    assert order.shipping_cents == 2400 and order.total_cents == 10900 + 2400
    assert order.shipping_method == "Canada: Standard, 5\u201310 business days"
    assert order.refundable_cents == 13300
    [message] = mailbox.wait_for(1)
    text = text_part(message)
    assert "Items: $109.00" in text
    assert "Shipping (Canada: Standard, 5\u201310 business days): $24.00" in text
    assert "Total paid: $133.00" in text
    html = html_part(message)
    assert "$24.00" in html and "$133.00" in html
    # The success page shows the same.
    page = client.get(f"/shop/success?session_id={order.stripe_session_id}").get_data(as_text=True)
    assert "Shipping (Canada: Standard, 5\u201310 business days)</th>" in page
    assert "<strong>$133.00</strong>" in page


@pytest.mark.parametrize(
    "pay",
    [
        {"shipping_amount": 1},  # an amount we never offered
        # A US rate, shipped to Canada: Checkout no longer allows it; the check stays.
        {"shipping_option": 0, "country": "CA"},
        {"shipping_option": 0, "amount_total": 10900},  # shipping left out of the total
    ],
    ids=["amount_never_offered", "another_countrys_rate", "total_without_shipping"],
)
def test_a_wrong_shipping_amount_is_flagged_and_not_confirmed(client, stripe_api, mailbox, pay):
    _vest_in_cart(client)
    checkout(client)

    order = _pay(client, stripe_api, **pay)

    assert order.status == OrderStatus.PENDING and order.needs_attention
    assert order.events[-1].kind == "amount_mismatch"
    assert order.paid_at is None and order.shipping_cents == 0
    assert mailbox.messages == []


def test_free_shipping_is_accepted_at_zero_and_express_at_its_price(
    app, client, stripe_api, mailbox
):
    app.config["SHIPPING_FREE_ABOVE_CENTS"] = 10000
    _vest_in_cart(client)
    _ship_to(client, "CA")
    checkout(client)

    order = _pay(client, stripe_api, shipping_option=0, country="CA")

    assert order.status == OrderStatus.PAID
    assert order.shipping_cents == 0 and order.total_cents == 10900
    assert "Shipping (Canada: Standard, 5\u201310 business days): free" in text_part(
        mailbox.wait_for(1)[0]
    )

    again = add_to_cart(client, order.lines[0].variant)
    assert again.status_code == 303
    _ship_to(client, "US")  # Canada is remembered until she chooses again
    checkout(client)
    order = _pay(client, stripe_api, shipping_option=1)
    assert order.status == OrderStatus.PAID and order.shipping_cents == 2900


def test_rates_changed_while_she_pays_do_not_refuse_what_she_was_offered(
    client, stripe_api, mailbox
):
    _vest_in_cart(client)
    checkout(client)
    _set_rate("US", "Standard", amount_cents=9900)  # staff change it meanwhile

    order = _pay(client, stripe_api, shipping_option=0)

    assert order.status == OrderStatus.PAID and order.shipping_cents == 1200


def test_the_receipt_and_the_staff_order_page_show_items_shipping_and_total(
    client, auth, stripe_api, mailbox
):
    _vest_in_cart(client)
    checkout(client)
    order = _pay(client, stripe_api, shipping_option=1)
    auth.login()
    page = client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    assert "Items</th><td>$109.00" in page
    assert "Shipping (United States: Express, 1\u20132 business days)</th>" in page
    assert "<strong>$138.00</strong>" in page
