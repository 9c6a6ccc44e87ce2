"""The order confirmation, in the practice's layout: every line with its quantity and
amount, the shipping, the total paid, and a button to the programs bought."""

import re

from tests.conftest import html_part, text_part
from tests.shop.conftest import add_to_cart, checkout, latest_order, make_program, make_vest
from tests.stripe_fake import make_event, post_event


def _buy_vest_and_program(client, stripe_api):
    vest = make_vest(price_cents=10900)
    program = make_program(price_cents=4900)
    add_to_cart(client, vest.variants[0], 2)
    add_to_cart(client, program.variants[0], 1)
    checkout(client)
    order = latest_order()
    session = stripe_api.pay(order.stripe_session_id, email="ann@example.com")
    post_event(client, make_event("checkout.session.completed", session))
    return latest_order()


def test_the_order_email_lists_lines_shipping_and_total(client, stripe_api, mailbox):
    order = _buy_vest_and_program(client, stripe_api)

    [message] = mailbox.wait_for(1)
    html, text = html_part(message), text_part(message)

    assert "Weighted Vest (Size M, 8 lb) x 2: $218.00" in text
    assert "12-Week Back Program" in text and "$49.00" in text
    # $267.00 of items is above the free-shipping threshold ($200.00): the first rate.
    assert "Items: $267.00" in text
    assert "Shipping (United States: Standard, 3\u20135 business days): free" in text
    assert "Total paid: $267.00" in text
    assert "You get this email because you ordered from Better Bones" in text

    rows = [re.sub(r"<[^>]+>", "|", row) for row in re.findall(r"<tr>.*?</tr>", html, re.S)]
    cells = [[c.strip() for c in row.split("|") if c.strip()] for row in rows]
    assert ["Weighted Vest (Size M, 8 lb)", "2", "$218.00"] in cells
    assert any(
        row[0].startswith("12-Week Back Program") and row[1:] == ["1", "$49.00"] for row in cells
    )
    assert ["Items", "$267.00"] in cells
    assert ["Shipping (United States: Standard, 3\u20135 business days)", "Free"] in cells
    assert ["Total paid", "$267.00"] in cells
    assert "Better Bones \u2014 Dr. Susan E. Brown, PhD" in html
    assert "You get this email because you ordered from Better Bones" in html
    programs_link = re.search(r"http://localhost/\S+", text.split("private link:")[1]).group(0)
    assert f'href="{programs_link}" class="button"' in html
    assert order.reference in html


def test_a_program_only_order_shows_no_shipping(client, stripe_api, mailbox):
    program = make_program(price_cents=4900)
    add_to_cart(client, program.variants[0], 1)
    checkout(client)
    order = latest_order()
    session = stripe_api.pay(order.stripe_session_id, email="bea@example.com")
    post_event(client, make_event("checkout.session.completed", session))

    [message] = mailbox.wait_for(1)
    assert "Shipping" not in text_part(message)
    assert "Shipping" not in html_part(message)
    assert "Total paid: $49.00" in text_part(message)


def _buy_vest_shipped_to_toronto(client, stripe_api):
    """A vest shipped to Canada (chosen in the cart), paid with a Toronto address."""
    vest = make_vest(price_cents=10900)
    add_to_cart(client, vest.variants[0], 1)
    client.post("/cart/ship-to", data={"country": "CA"})
    checkout(client)
    order = latest_order()
    session = stripe_api.pay(order.stripe_session_id, email="ann@example.com", country="CA")
    address = session["collected_information"]["shipping_details"]["address"]
    address.update(line1="12 Danforth Ave", city="Toronto", state="ON", postal_code="M4C 1B5")
    post_event(client, make_event("checkout.session.completed", session))
    return latest_order()


def test_the_address_names_its_country_in_full_not_by_its_code(client, stripe_api, mailbox):
    """An address ending "Toronto ON M4C 1B5 / CA" reads as California: the order keeps
    (and the email and receipt print) "Canada"."""
    order = _buy_vest_shipped_to_toronto(client, stripe_api)

    assert order.shipping_address.splitlines()[-2:] == ["Toronto ON M4C 1B5", "Canada"]
    [message] = mailbox.wait_for(1)
    text, html = text_part(message).replace("\r\n", "\n"), html_part(message)
    assert "Toronto ON M4C 1B5\nCanada\n" in text and "\nCA\n" not in text
    assert "Toronto ON M4C 1B5<br>Canada" in html and "<br>CA" not in html


def test_the_order_email_links_to_her_orders_in_my_account(client, stripe_api, mailbox):
    _buy_vest_and_program(client, stripe_api)

    [message] = mailbox.wait_for(1)
    text, html = text_part(message), html_part(message)
    link = "http://localhost/account/sign-in?next=/account/%23orders"
    assert link in text.split("My account")[1]
    assert f'href="{link}"' in html
    # The link opens the sign-in page, which brings her back to her orders.
    page = client.get(link.removeprefix("http://localhost")).get_data(as_text=True)
    assert '<input type="hidden" name="next" value="/account/#orders">' in page


def test_the_shipping_email_links_the_tracking_number_to_the_carrier_and_her_orders(
    client, auth, stripe_api, mailbox
):
    vest = make_vest(price_cents=10900)
    add_to_cart(client, vest.variants[0], 1)
    checkout(client)
    order = latest_order()
    session = stripe_api.pay(order.stripe_session_id, email="ann@example.com")
    post_event(client, make_event("checkout.session.completed", session))
    mailbox.wait_for(1)
    auth.login()

    client.post(f"/admin/orders/{order.id}/ship", data={"tracking_number": "1Z999AA10123456784"})

    shipped = mailbox.wait_for(2)[-1]
    text, html = text_part(shipped), html_part(shipped)
    carrier = "https://tools.usps.com/go/TrackConfirmAction?tLabels=1Z999AA10123456784"
    orders = "http://localhost/account/sign-in?next=/account/%23orders"
    assert carrier in text and orders in text.split("My account")[1]
    assert f'href="{carrier}"' in html and f'href="{orders}"' in html
    assert ">1Z999AA10123456784<" in html  # the number itself is the link
